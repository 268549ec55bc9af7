"""Your own work, from a script or a notebook: the functions you wrote in exercises/.

Your stage files import each other by plain name (`from activations import
relu`), which works under pytest because the grading resolves those imports; a
script of yours cannot import them that way until the stage folders are on
sys.path. Two ways in:

    from grading.mine import network
    net = network()                  # every function of your stages 01-05, each stage on
                                     # your own earlier ones, read from your files now
    W1, b1, W2, b2 = net.init_params(seed=0)
    net.forward_prop(W1, b1, W2, b2, X)

    from grading.mine import use_my_files
    use_my_files()                   # puts exercises/01_activations ... 05_train_mnist on sys.path
    from train_mnist import mini_batch_gradient_descent   # plain imports, as in your files

`network()` reads your files afresh at each call (call it again after an edit)
and explains a file that does not load the way the tests do (file, line, which
stage lacks a name). `use_my_files()` suits notebooks with `%autoreload`, which
reloads a module when its file changes; `mnist-kit notebook NN` writes a
notebook set up that way.

Both look for the exercises folder in this order: the folder you pass, the
current folder if it holds the stage folders, ./exercises, the folder above
when the current folder is a stage folder (a notebook beside your stage file),
and last the kit's own exercises/.
"""

import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType, SimpleNamespace

from .running.loading import CAPSTONE, earlier_stages, load_learner_module
from .stages import EXERCISES_DIR, STAGES, Stage, get_stage


class NoExercisesFolder(FileNotFoundError):
    """No exercises folder where one was looked for; the message says where it looked."""


def _holds_stages(folder: Path) -> bool:
    return any((folder / stage.folder).is_dir() for stage in STAGES)


def find_exercises(exercises: "str | os.PathLike | None" = None) -> Path:
    """The exercises folder (the one holding 01_activations/ ...), looked for as the module says.

    Raises:
        NoExercisesFolder: `exercises` was given and holds no stage folder, or none was found.
    """
    if exercises is not None:
        folder = Path(exercises)
        if not _holds_stages(folder):
            raise NoExercisesFolder(f"{folder}: holds none of the stage folders {STAGES[0].folder}/ ... "
                                    f"{STAGES[-1].folder}/ (is it the exercises folder?)")
        return folder
    here = Path.cwd()
    for folder in (here, here / "exercises"):
        if _holds_stages(folder):
            return folder
    if any(here.name == stage.folder for stage in STAGES) and _holds_stages(here.parent):
        return here.parent
    if _holds_stages(EXERCISES_DIR):
        return EXERCISES_DIR
    raise NoExercisesFolder(f"no exercises folder found from {here} (looked in it, in ./exercises and "
                            f"in the kit's {EXERCISES_DIR}): pass the folder, e.g. network('path/to/exercises')")


def network_stages() -> list[Stage]:
    """The stages whose files make up the network: the capstone and every stage before it."""
    capstone = get_stage(CAPSTONE)
    return [*earlier_stages(capstone), capstone]


def load_my_stage(stage: "Stage | str", exercises: "str | os.PathLike | None" = None) -> ModuleType:
    """Your file of `stage` as a fresh module, its imports of earlier stages resolved to YOUR files.

    (Under pytest, stages 02-04 get the reference building blocks instead, so each
    stage is graded on its own; this is your network as you wrote it.)

    Raises:
        grading.LearnerFileError: one of your files does not load (the message names the file and line).
    """
    stage = get_stage(stage)
    folder = find_exercises(exercises)
    if stage.number >= CAPSTONE:  # the capstone (or a stage after it, graded on its own)
        return load_learner_module(stage, exercises_dir=folder)
    return _load_before_capstone(folder)[stage.module]


def _load_before_capstone(folder: Path) -> dict[str, ModuleType]:
    """Your files of the stages before the capstone, each on your own earlier ones: module name -> module.

    The capstone's loader does exactly that before it runs the capstone's file, so a
    stand-in for that file, which only imports them, hands them back.
    """
    names = [stage.module for stage in earlier_stages(get_stage(CAPSTONE))]
    with tempfile.TemporaryDirectory(prefix="mnist-kit-mine-") as scratch:
        stand_in = Path(scratch) / f"{get_stage(CAPSTONE).module}.py"
        stand_in.write_text(f"import {', '.join(names)}\n", encoding="utf-8")
        loaded = load_learner_module(CAPSTONE, stand_in, exercises_dir=folder)
    return {name: getattr(loaded, name) for name in names}


def network(exercises: "str | os.PathLike | None" = None) -> SimpleNamespace:
    """Every function of your stages, read from your files now, each on your own earlier stages.

    The network is stages 01-05; stage 06's gradient check (net.check_backprop, on your
    own stages 01-03) is there too when your exercises folder has its file.

    Returns:
        A namespace: net.relu, net.forward_prop, ..., net.mini_batch_gradient_descent,
        net.check_backprop, and one attribute per stage module (net.activations, net.train_mnist, ...).

    Raises:
        grading.LearnerFileError: one of your files does not load (the message names the file and line).
    """
    folder = find_exercises(exercises)
    modules = _load_before_capstone(folder)
    capstone = get_stage(CAPSTONE)
    modules[capstone.module] = load_learner_module(capstone, exercises_dir=folder)
    extras = [stage for stage in STAGES if stage not in network_stages() and stage.learner_file(folder).is_file()]
    for stage in extras:  # beside the network: the gradient check
        modules[stage.module] = load_learner_module(stage, exercises_dir=folder)
    namespace = SimpleNamespace()
    for stage in [*network_stages(), *extras]:
        module = modules[stage.module]
        setattr(namespace, stage.module, module)
        for function in stage.functions:
            if hasattr(module, function):
                setattr(namespace, function, getattr(module, function))
    return namespace


def use_my_files(exercises: "str | os.PathLike | None" = None) -> Path:
    """Put your stage folders on sys.path, so that `from backprop import backward_prop` imports your file.

    Your files then import each other as they are written (your stage 03 uses your stage 01).
    Stage folders and modules of an earlier call (or another exercises folder) are forgotten,
    so the next import reads these files. Returns the exercises folder.
    """
    folder = find_exercises(exercises).resolve()
    forget_stage_folders()
    for stage in reversed(STAGES):
        sys.path.insert(0, str(folder / stage.folder))
    forget_stage_modules()
    return folder


def forget_stage_folders() -> None:
    """Take every stage folder (of any exercises folder) off sys.path."""
    names = {stage.folder for stage in STAGES}
    sys.path[:] = [entry for entry in sys.path if not entry or Path(entry).name not in names]


def forget_stage_modules() -> None:
    """Drop every stage module (activations, forward, ...) from sys.modules: the next import is fresh."""
    for stage in STAGES:
        sys.modules.pop(stage.module, None)
