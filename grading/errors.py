"""The exceptions grading raises. All are AssertionErrors, so pytest and nbgrader
treat them as an ordinary failed test, and all carry a message written for the learner."""


class GradingError(AssertionError):
    """A check failed. str(error) is the complete message for the learner.

    Attributes:
        stage: the stage number ("01".."05"), or None when unknown.
        function: the learner's function being graded, or None.
        check: the name of the failing check, or None (e.g. the file did not load).
        mistake: the hint of the mistake the check recognised, or None when it recognised
            none (the class report counts these; see LearnerFunction.fail).
    """

    def __init__(self, message: str, *, stage: str | None = None,
                 function: str | None = None, check: str | None = None,
                 mistake: str | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.function = function
        self.check = check
        self.mistake = mistake

    def __str__(self) -> str:
        return str(self.args[0])


class NotWrittenYet(GradingError):
    """The function (or one it needs) still raises the stub's NotImplementedError."""


class LearnerFileError(GradingError):
    """The learner's file cannot be used: a syntax error, an import that fails, or a missing function."""


class CallsReferenceError(GradingError):
    """The learner's function is, or calls, the reference solution of its own stage."""
