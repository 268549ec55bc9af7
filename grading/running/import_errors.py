"""Explaining a failed import in a learner's file in terms of the stages.

Python's own message for `from activations import sigmoid` in stage 02 is

    cannot import name 'sigmoid' from 'solutions.activations' (/.../solutions/activations.py)

which sends the learner looking in solutions/. `explain_import_error` says
instead which stage the module is, which functions that stage provides, and why
only those can be imported:

    forward.py, line 21 imports sigmoid from activations, but stage 01 (activations)
    has no function sigmoid: it provides relu, relu_deriv, softmax. ...

It also recognises a misspelt stage module (`from activation import relu`) and
an import of a later stage (stage 02 importing `backprop`, stage 03's module).
The grading (grading/running/program.py) calls it with the worker's facts when a learner's
file fails to load; anything it
does not recognise is left to the harness's general message (it returns None).
"""

import difflib
import re

from ..stages import STAGE_BY_MODULE, STAGES, Stage

_CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'")
REFERENCE_PACKAGE = "solutions."


def explain_import_error(facts: dict, stage: Stage, where: str, *,
                         reference_modules: "set[str] | None" = None) -> str | None:
    """The learner's message for an import that failed while loading `stage`'s file, or None.

    Args:
        facts: what the worker reported of the exception (grading/sandbox/kit_worker/facts.py):
            its "type", "message" and, for ModuleNotFoundError, "module".
        stage: the stage whose file was being loaded.
        where: the file and line as the message should show them, e.g. "forward.py, line 21".
        reference_modules: the stage modules that are the reference here (earlier stages of
            stages 02-04), not the learner's own files.

    Returns:
        "Stage 02 (forward pass): forward.py, line 21 imports ..." or None when the
        failure is not an import problem this module knows how to explain.
    """
    kind = facts.get("type")
    if kind == "ModuleNotFoundError":
        return _module_not_found(str(facts.get("module") or ""), stage, where)
    if kind == "ImportError":
        return _name_not_found(str(facts.get("message", "")), stage, where, reference_modules or set())
    return None


def _name_not_found(message: str, stage: Stage, where: str, reference_modules: set[str]) -> str | None:
    """`from <stage module> import <name>` where the module has no such name."""
    match = _CANNOT_IMPORT.search(message)
    if match is None:
        return None
    name, module = match["name"], match["module"]
    provider = STAGE_BY_MODULE.get(module.removeprefix(REFERENCE_PACKAGE))
    if provider is None:
        return None
    is_reference = provider.module in reference_modules or module.startswith(REFERENCE_PACKAGE)
    provides = ", ".join(provider.functions)
    suggestion = _did_you_mean(name, provider.functions)
    text = (f"{stage.label}: {where} imports {name} from {provider.module}, but "
            f"{provider.label.lower()} has no function {name}{suggestion}: it provides {provides}.")
    if is_reference:
        text += (f" While stage {stage.number} is graded, `{provider.module}` is the reference solution "
                 f"of stage {provider.number}, so that each stage is graded on its own: import only those "
                 f"functions, and write any helper of your own in {stage.module}.py itself.")
    else:
        text += (f" Your exercises/{provider.folder}/{provider.module}.py is the one imported: "
                 f"check the name there, or define {name}() in {stage.module}.py.")
    return text


def _module_not_found(missing: str, stage: Stage, where: str) -> str | None:
    """`from <module> import ...` where the module is a later stage, or a misspelt stage module."""
    earlier = [s for s in STAGES if s.number < stage.number]
    allowed = ", ".join(f"{s.module} (stage {s.number})" for s in earlier) or "none: it is the first stage"
    later = STAGE_BY_MODULE.get(missing)
    if later is not None and later.number >= stage.number:
        return (f"{stage.label}: {where} imports {missing}, which is {later.label.lower()}: a stage can "
                f"import only the stages before it: {allowed}.")
    close = difflib.get_close_matches(missing, [s.module for s in earlier], n=1)
    if close:
        provider = STAGE_BY_MODULE[close[0]]
        return (f"{stage.label}: {where} imports {missing}, which does not exist: did you mean "
                f"`from {provider.module} import ...` (stage {provider.number})?")
    return None


def _did_you_mean(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""
