"""Generating the curriculum from the reference modules in solutions/ (the single source of truth).

    python -m grading.build           # write every generated file
    python -m grading.build --check   # only compare; exit status 1 when one is out of date

    stubs.py            the learner's stub files in exercises/
    notebooks.py        the nbgrader course in grader/ (notebooks and points table)
    student_edition.py  grader/student/, the package students install to run the visible checks
    generated.py        every generated file, and the command above
"""
