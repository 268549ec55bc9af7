"""The six stages of the curriculum: where each lives and what the learner writes.

This table is the one place that knows the stage folders, the learner's file of
each stage and the reference module it is generated from. Everything else (the
stub generator, the grading harness, the checks, the notebooks) looks stages up
here with `get_stage`, which accepts any of "01", "1", 1, "activations" or
"01_activations".

STAGES is in the order the stages are taught. A stage's number is its name, fixed
once given (folders, messages and nbgrader assignments carry it), not its
position: stage 06, the gradient check, came after the others were numbered and
is taught right after stage 03, whose backward_prop it checks.
"""

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXERCISES_DIR = REPO_ROOT / "exercises"
SOLUTIONS_DIR = REPO_ROOT / "solutions"


@dataclass(frozen=True)
class Stage:
    """One stage of the curriculum.

    Attributes:
        number: two digits, "01".."06".
        name: the short name used in messages, e.g. "activations".
        folder: the folder under exercises/, e.g. "01_activations".
        module: the learner's module (and file) name, e.g. "activations"
            (exercises/01_activations/activations.py, solutions/activations.py).
        functions: the functions the learner writes, in the order they are taught.
        test_file: the basename of the stage's pytest suite.
        builds_on: the stages whose LEARNER files this stage's imports are resolved to
            (05 trains the network of the learner's own 01-04, 06 checks the learner's own
            backprop); empty: the imports of earlier stages get the reference modules,
            so that the stage is graded on its own.
        adapters: (function, "module:name") pairs for learner functions whose reference
            signature takes a callable (06's numerical_gradient(f, x, h)). The checks call
            such a function with data only, the NAME of a known function in place of the
            callable, through that kit_helpers function, which builds the callable beside
            the learner's code and calls the learner's function with it (see ARCHITECTURE.md,
            "Callables at the call boundary").
    """

    number: str
    name: str
    folder: str
    module: str
    functions: tuple[str, ...]
    test_file: str
    builds_on: tuple[str, ...] = ()
    adapters: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """How messages name the stage: "Stage 01 (activations)"."""
        return f"Stage {self.number} ({self.name})"

    @property
    def reference_module(self) -> str:
        """The dotted name of the reference module, e.g. "solutions.activations"."""
        return f"solutions.{self.module}"

    @property
    def reference_file(self) -> Path:
        """solutions/<module>.py, the single source of truth of this stage."""
        return SOLUTIONS_DIR / f"{self.module}.py"

    @property
    def learner_relpath(self) -> str:
        """The learner's file relative to the repository root, e.g. "exercises/01_activations/activations.py"."""
        return f"exercises/{self.folder}/{self.module}.py"

    @property
    def command(self) -> str:
        """The command a learner runs to grade this stage."""
        return f"python -m pytest exercises/{self.folder}"

    def adapter(self, function: str) -> str | None:
        """The "module:name" of the adapter `function` is called through, or None (see `adapters`)."""
        return dict(self.adapters).get(function)

    def learner_file(self, exercises_dir: Path | str | None = None) -> Path:
        """The learner's file of this stage inside `exercises_dir` (default: the kit's exercises/)."""
        base = Path(exercises_dir) if exercises_dir is not None else EXERCISES_DIR
        return base / self.folder / f"{self.module}.py"


STAGES: tuple[Stage, ...] = (
    Stage("01", "activations", "01_activations", "activations",
          ("relu", "relu_deriv", "softmax"), "test_activations.py"),
    Stage("02", "forward pass", "02_forward_pass", "forward",
          ("init_params", "forward_prop"), "test_forward.py"),
    Stage("03", "backprop", "03_backprop", "backprop",
          ("one_hot", "cross_entropy", "backward_prop"), "test_backprop.py"),
    Stage("06", "gradient check", "06_gradient_check", "gradient_check",
          ("numerical_gradient", "relative_error", "check_backprop"), "test_gradient_check.py",
          builds_on=("01", "02", "03"),
          adapters=(("numerical_gradient", "kit_helpers.gradient_examples:call_with_example"),)),
    Stage("04", "gradient descent", "04_gradient_descent", "descent",
          ("update_params", "get_predictions", "get_accuracy", "gradient_descent"), "test_descent.py"),
    Stage("05", "train MNIST", "05_train_mnist", "train_mnist",
          ("make_predictions", "evaluate", "minibatch_indices", "mini_batch_gradient_descent",
           "save_params", "load_params", "plot_history"), "test_train_mnist.py",
          builds_on=("01", "02", "03", "04")),
)

#: module name -> stage, for the learner modules that stages import from each other.
STAGE_BY_MODULE: dict[str, Stage] = {stage.module: stage for stage in STAGES}


class UnknownStageError(KeyError):
    """Raised by get_stage for a name that is not a stage; the message lists the stages."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_stage(key: "str | int | Stage") -> Stage:
    """Look a stage up by number ("01", "1", 1), name, module or folder name.

    Raises:
        UnknownStageError: when nothing matches; the message lists the valid stages.
    """
    if isinstance(key, Stage):
        return key
    text = str(key).strip().lower().rstrip("/")
    text = text.removeprefix("exercises/")
    if text.isdigit():
        text = f"{int(text):02d}"
    for stage in STAGES:
        if text in (stage.number, stage.name, stage.module, stage.folder, stage.name.replace(" ", "_")):
            return stage
    choices = ", ".join(f"{s.number} ({s.folder})" for s in STAGES)
    raise UnknownStageError(f"no stage called {key!r}: the stages are {choices}")


def stage_of_function(function: str) -> Stage:
    """The stage in which the learner writes `function` (e.g. "softmax" -> stage 01)."""
    for stage in STAGES:
        if function in stage.functions:
            return stage
    raise KeyError(f"{function!r} is not a function of any stage")
