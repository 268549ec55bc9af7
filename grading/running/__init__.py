"""Running the learner's code for the checks: loading their files, calling their functions.

    loading.py           load_learner_module: a learner's stage file as a module
    learner_function.py  LearnerFunction: how a check calls the learner's function
    import_errors.py, shape_errors.py   explaining the learner's errors in terms of the stages
    raised_hints.py      the hint for an exception the learner's code raised, from facts alone
"""
