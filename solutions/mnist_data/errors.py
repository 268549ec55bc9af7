"""The one exception the data layer raises for anything wrong with MNIST files."""


class MnistDataError(Exception):
    """A data file is missing, unreadable or malformed, or a download failed.

    The message is one line meant for the user: it names the file (and, where it
    helps, the line, column or field) and says what is wrong and how to fix it.
    Code that shows it to a user should print ``str(error)``, not a traceback.
    """


class MnistDataNotFound(MnistDataError):
    """The split asked for is nowhere to be found (as opposed to found but broken).

    Callers that have a fallback (train on the sample, skip the test accuracy)
    catch this one; a broken file still raises the plain MnistDataError.
    """
