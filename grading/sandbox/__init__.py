"""Sealed grading: the learner's code runs in a separate, contained worker; the checks stay here.

    checker (this process)                        worker (kit_worker/, in its own sandbox)
    ----------------------                        ----------------------------------------
    checks, reference, fixtures, gradebook        the learner's files or cells, NumPy,
    CALL(function, args)  ──────────────────────► matplotlib, kit_helpers - nothing else
    answers CALLBACK(helper, args) ◄───────────── a same-stage helper the function calls
    receives RESULT(value, output, warnings) ◄─── or RAISED(facts of the exception)

Messages are data only (kit_worker/codec.py: JSON and .npy, never pickle), so whatever
the learner's code does to its own process can change only the values it sends back,
which are exactly what the checks grade. The worker is contained as far as the
machine allows (kit_worker/containment.py), and every wait here has a deadline.

    launch.py    which walls hold here, what the worker may see, starting it
    session.py   Sandbox (the worker's clean zygote), Kernel (a loaded learner program),
                 Worker (one function's process), Scratch (a folder for a check's files)
    figures.py   a Figure the learner returned, rebuilt for the checks
"""

from .launch import Limits, SandboxError, containment_kind
from .session import CallOutcome, CellReport, Kernel, Sandbox, Scratch, Worker, WorkerLost

__all__ = ["CallOutcome", "CellReport", "Kernel", "Limits", "Sandbox", "SandboxError", "Scratch", "Worker",
           "WorkerLost", "containment_kind"]
