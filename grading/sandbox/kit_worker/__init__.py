"""The code that runs INSIDE the grading worker, beside the learner's code.

Everything here imports only the standard library and NumPy (matplotlib only to
describe a figure the learner returned), and uses only relative imports: inside
the sandbox this folder is importable as the top-level package `kit_worker`, and
neither `grading` nor `solutions` exists there. The checker imports the same
modules as `grading.sandbox.kit_worker` (the codec is shared by both sides).

    codec.py          data-only messages: JSON headers and .npy blobs, never pickle
    containment.py    namespaces, an empty root, limits, an unprivileged user (Linux)
    zygote.py         the clean process that forks a kernel per learner program
    kernel.py         a learner program (files or notebook cells), forking a worker per function
    calls.py          one call of the learner's function: output, warnings, errors, mutations
    facts.py          what an exception raised by the learner's code says (line, shapes)
    figures.py        a matplotlib Figure described as data
    boot.py           the entry point: python -I -S boot.py CONFIG
"""
