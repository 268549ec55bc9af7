"""The checks of every stage: what is called, what counts as right, what the message says.

    registry.py            the `checker` decorator, run_checks, list_checks
    expect.py              comparing a result with the expected one, recognising the usual mistakes
    fixtures.py, show.py   the inputs the checks use; printing values in messages
    stageNN_<name>.py      the checks of stage NN, one function each
"""
