"""`mnist-kit notebook STAGE`: write a Jupyter notebook beside your stage file.

    mnist-kit notebook 03      writes exercises/03_backprop/03_backprop.ipynb

The notebook works on your file (you keep writing your code in backprop.py):
it imports it with autoreload on, so each cell sees the file as last saved;
check("backward_prop") grades a function with the same messages as pytest;
pictures show inline (plot_history included); its shell commands use the
kernel's own Python. An existing notebook is left alone unless --force.
Opening it needs Jupyter (`pip install jupyterlab`, or the kit's `grader`
extra), run with the kit's Python so that the kernel has the kit.
"""

import argparse
import importlib.util
import sys
from pathlib import Path

from grading.tools.notebook import NotebookExists, write_notebook
from grading.tools.progress import shown_path
from grading.stages import UnknownStageError, get_stage

from . import CommandError
from .learner_options import add_exercises_option, exercises_dir

HELP = "write a Jupyter notebook beside your stage file: autoreload, check(\"function\"), inline pictures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """STAGE, --force, --exercises DIR."""
    parser.add_argument("stage", metavar="STAGE", help="the stage: 01..05, or its name (activations, ...)")
    parser.add_argument("--force", action="store_true", help="write it afresh even if it exists (its cells are lost)")
    add_exercises_option(parser)


def run(args: argparse.Namespace) -> int:
    """Write the notebook and say how to open it."""
    try:
        stage = get_stage(args.stage)
    except UnknownStageError as error:
        raise CommandError(str(error)) from None
    folder = exercises_dir(args)
    if not stage.learner_file(folder).is_file():
        raise CommandError(f"{stage.learner_file(folder)}: no such file - the notebook works on your stage file, "
                           f"so it must be there (`git checkout {stage.learner_relpath}` restores it)")
    try:
        path = write_notebook(stage, folder, force=args.force)
    except NotebookExists as error:
        raise CommandError(str(error)) from None
    shown = shown_path(path)
    print(f"Wrote {shown}: it works on your {stage.module}.py (autoreload on), check(\"{stage.functions[0]}\") "
          f"grades a function, pictures show inline.")
    bin_folder = Path(sys.executable).parent
    if importlib.util.find_spec("jupyterlab") is not None:
        print(f"Open it:  {shown_path(bin_folder / 'jupyter')} lab {shown}")
    else:
        print(f"Open it with Jupyter: `{shown_path(bin_folder / 'pip')} install jupyterlab` once (or install the kit "
              f"with its `grader` extra), then `{shown_path(bin_folder / 'jupyter')} lab {shown}`; or in VS Code, "
              f"choosing {sys.executable} as the kernel.")
    return 0
