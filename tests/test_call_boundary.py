"""Only data crosses the call from a check to the learner's function (see conventions: sealed grading).

Every check of every stage runs on the solved exercises while LearnerFunction.__call__ notes what
it is given; each argument must be data: numbers, strings, None, numeric or bool arrays,
tuples / lists / dicts of those, pathlib.Path, np.random.Generator. In particular stage 06's
numerical_gradient(f, x, h) is called with f the NAME of an example function (the callable is
built on the learner's side, by the stage's adapter), never with a function from the checks.
"""

from pathlib import Path, PurePath

import numpy as np
import pytest
from curriculum_trees import make_tree

import grading
from grading.running.learner_function import LearnerFunction


def is_data(value: object) -> bool:
    """True for what the sealed channel carries (the list in the conventions)."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic, PurePath, np.random.Generator)):
        return not isinstance(value, np.generic) or np.issubdtype(value.dtype, np.number) or value.dtype == bool
    if isinstance(value, np.ndarray):
        return np.issubdtype(value.dtype, np.number) or value.dtype == bool
    if isinstance(value, (tuple, list)):
        return all(is_data(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_data(item) for key, item in value.items())
    return False


def test_is_data_refuses_a_callable_and_an_object_array() -> None:
    assert is_data((np.ones(2), {"loss": [1.0]}, "sum_of_cubes", Path("w.npz"), np.random.default_rng(0)))
    assert not is_data(lambda x: x) and not is_data([np.sum]) and not is_data(np.array([None]))


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, tuple, dict]]:
    """(stage, function, args, kwargs) of every call the checks make, every check of every stage."""
    exercises = make_tree(tmp_path_factory.mktemp("solved")) / "exercises"
    seen: list[tuple[str, str, tuple, dict]] = []
    original = LearnerFunction.__call__

    def spy(self, *args, **kwargs):
        seen.append((self.stage.number, self.name, args, kwargs))
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LearnerFunction, "__call__", spy)
        for stage in grading.STAGES:
            module = grading.load_learner_module(stage, exercises_dir=exercises)
            for function in stage.functions:
                assert grading.run_checks(stage, function, module)
    return seen


def test_every_argument_is_data(calls: list) -> None:
    assert {number for number, *_ in calls} == {stage.number for stage in grading.STAGES}
    for number, function, args, kwargs in calls:
        for value in (*args, *kwargs.values()):
            assert is_data(value), f"stage {number}, {function}(): {type(value).__name__} crosses the call"


def test_numerical_gradient_is_given_the_name_of_a_function(calls: list) -> None:
    from kit_helpers.gradient_examples import EXAMPLES

    names = [args[0] for number, function, args, _ in calls if function == "numerical_gradient"]
    assert names and set(names) <= set(EXAMPLES) and len(set(names)) == len(EXAMPLES), names
