"""Running the learner's code for the checks: loading their files, calling their functions.

    loading.py           load_learner_module: a learner's file in THIS process (their own scripts)
    learner_function.py  LearnerFunction: how a check calls the learner's function
    program.py           LearnerProgram: the learner's files or cells, loaded in the sealed worker
    import_errors.py     explaining a failed import in terms of the stages
    raised_hints.py      the hint for an exception the learner's code raised, from facts alone
"""
