"""The kit's helpers that are not answers: learners use them, nobody is asked to write them.

    from kit_helpers import atomic_write, random_shifts

They are the only kit code the grading worker holds beside the learner's own
(see ARCHITECTURE.md, "Sealed grading"): the reference solution and the checks
live in `solutions` and `grading`, which graded code cannot import.
"""

from .atomic_files import atomic_write
from .augmentation import random_shifts

__all__ = ["atomic_write", "random_shifts"]
