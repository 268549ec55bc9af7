"""The exercise suites, run exactly as learners run them, on stubs, solutions and mistakes.

* the shipped stubs fail cleanly: one short line per unfinished function;
* the reference solution and the differently written alternatives pass every stage;
* every mistake in tests/mistakes/ fails its stage's suite, in the tests its header
  names, with a message holding the phrase its header gives; so does every file of
  tests/wild/, code shaped like what learners really wrote (whole functions in the
  original notebook's style, not one small change), whose message must name the real cause;
* broken learner files (syntax error, missing function, a copy of the reference)
  give clean failures naming the problem.

These start fresh Python processes; the mistakes run together in one batch.
"""

import re
from pathlib import Path

import pytest
from curriculum_trees import (ALTERNATIVES_DIR, MISTAKES_DIR, make_tree, run_batch, run_pytest,
                              solved_text)

from grading.stages import STAGES, get_stage

ALL_TESTS = sum(len(stage.functions) for stage in STAGES) + 1  # + the capstone's earlier-stages test
#: complete learner files in the shapes real learners' code takes, each with its expected message
WILD_DIR = Path(__file__).resolve().parent / "wild"


def _summary(output: str) -> str:
    """pytest's last line without its ===== frame, e.g. "20 failed in 1.35s"."""
    return output.strip().splitlines()[-1].strip("= ")


# ------------------------------------------------------------------ stubs
def test_stubs_fail_with_one_line_per_unfinished_function(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, solved=False)
    completed = run_pytest(tree, "exercises")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert _summary(output).startswith(f"{ALL_TESTS} failed"), output
    assert "Traceback" not in output and "error" not in _summary(output), output
    assert "NotImplementedError:" not in output, "the raw exception should not be shown:\n" + output
    for stage in STAGES:
        for function in stage.functions:
            line = re.compile(rf"^{re.escape(stage.label)}: {function}\(\) is not written yet - .*{re.escape(stage.learner_relpath)}",
                              re.MULTILINE)
            assert len(line.findall(output)) == 1, f"expected one line for {function}:\n{output}"
    assert "Finish it first:  python -m pytest exercises/01_activations" in output


def test_a_single_stub_stage_as_a_learner_runs_it(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, solved=False)
    completed = run_pytest(tree, "exercises/02_forward_pass")
    lines = [line for line in completed.stdout.splitlines() if "is not written yet" in line]
    assert lines == [
        "Stage 02 (forward pass): init_params() is not written yet - replace its `raise NotImplementedError(...)` "
        "in exercises/02_forward_pass/forward.py with your code.",
        "Stage 02 (forward pass): forward_prop() is not written yet - replace its `raise NotImplementedError(...)` "
        "in exercises/02_forward_pass/forward.py with your code.",
    ], completed.stdout
    assert _summary(completed.stdout).startswith("2 failed"), completed.stdout


# ------------------------------------------------------- correct solutions
def test_reference_passes_every_stage(tmp_path: Path) -> None:
    completed = run_pytest(make_tree(tmp_path), "exercises")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert _summary(completed.stdout).startswith(f"{ALL_TESTS} passed"), completed.stdout


def _alternatives() -> dict[str, list[Path]]:
    return {stage.number: sorted((ALTERNATIVES_DIR / stage.folder).glob("*.py")) for stage in STAGES}


@pytest.mark.parametrize("index", [0, 1])
def test_differently_written_solutions_pass(tmp_path: Path, index: int) -> None:
    """Tree `index` holds the index-th alternative of every stage (the capstone runs on them all)."""
    chosen = {number: files[index] for number, files in _alternatives().items()}
    assert all(chosen.values())
    tree = make_tree(tmp_path, {number: path.read_text() for number, path in chosen.items()})
    completed = run_pytest(tree, "exercises")
    assert completed.returncode == 0, f"{sorted(p.name for p in chosen.values())}:\n{completed.stdout}"
    assert _summary(completed.stdout).startswith(f"{ALL_TESTS} passed"), completed.stdout


def test_every_stage_has_two_alternatives() -> None:
    assert all(len(files) >= 2 for files in _alternatives().values()), _alternatives()


# --------------------------------------------------------------- mistakes
def _mistake_files() -> list[Path]:
    return sorted(MISTAKES_DIR.glob("*/*.py"))


def _wild_files() -> list[Path]:
    return sorted(WILD_DIR.glob("*/*.py"))


def _expectations(path: Path) -> dict[str, str]:
    """{test name: phrase} from the file's `# EXPECT test_x: phrase` header lines."""
    return dict(re.findall(r"^# EXPECT (test_\w+): (.*)$", path.read_text(encoding="utf-8"), re.MULTILINE))


#: Broken learner files beyond the mistake catalogue: (stage, how to break the solved file,
#: {test: phrase}). Every test not listed must pass.
SCENARIOS = {
    "syntax_error": ("02", lambda text: text.replace("    A1 = relu(Z1)\n", "    A1 = relu(Z1\n"),
                     {"test_init_params": "forward.py, line", "test_forward_prop": "(a syntax error)"}),
    "missing_function": ("01", lambda text: text.replace("def relu(", "def my_relu("),
                         {"test_relu": "there is no function relu()"}),
    # the reference does not exist where graded code runs: a file importing it does not load
    "imports_the_reference": ("01", lambda text: text + "\nfrom solutions.activations import softmax\n",
                              {f"test_{f}": "imports the reference solution" for f in get_stage("01").functions}),
    # ...and a function importing it fails alone (backward_prop gets the reference one_hot)
    "wraps_the_reference": ("03", lambda text: text + "\n\ndef one_hot(Y, num_classes=10):\n"
                            "    import solutions\n    return solutions.one_hot(Y, num_classes)\n",
                            {"test_one_hot": "imports the reference solution"}),
    "fails_on_import": ("04", lambda text: text.replace("import numpy as np\n", "import numpy as np\nnp.nonexistent()\n", 1),
                        {f"test_{f}": "raised AttributeError" for f in get_stage("04").functions}),
    "prints_and_warns": ("01", lambda text: text.replace("    return np.maximum(Z, 0)\n",
                                                         "    print('debug', Z.shape)\n    return np.maximum(Z, 0)\n"), {}),
}

#: Capstone trees: the learner's own earlier stages are unfinished or broken.
CAPSTONE_SCENARIOS = {
    "capstone_before_stage_03": ({"03": None}, {
        "test_earlier_stages_are_done": "stage 03 (backprop) is not finished yet",
        "test_evaluate": "needs your cross_entropy() from stage 03 (backprop), which is not written yet - "
                         "finish that stage first: python -m pytest exercises/03_backprop",
        "test_mini_batch_gradient_descent": "python -m pytest exercises/03_backprop"}),
    "capstone_with_broken_softmax": ({"01": ("    return exps / exps.sum(axis=0, keepdims=True)\n",
                                             "    return exps / exps.sum()\n")}, {
        "test_earlier_stages_are_done": "stage 01 (activations) is not finished yet",
        "test_evaluate": "your functions of stages 01-04 do this work",
        "test_mini_batch_gradient_descent": "your functions of stages 01-04 do this work"}),
    "capstone_with_syntax_error_in_stage_02": ({"02": ("def forward_prop(", "def forward_prop(:")}, {
        f"test_{f}": "02_forward_pass/forward.py, line" for f in get_stage("05").functions
    } | {"test_earlier_stages_are_done": "forward.py, line"}),
}


#: Capstone tests that use no other function of train_mnist.py: they cannot be affected by a mistake
#: elsewhere in the file (the earlier-stages test reads only the solved stages 01-04), and they are the
#: slow ones (a PNG, all of stages 01-04), so mistake trees run them only when a mistake aims at them.
INDEPENDENT_SLOW_TESTS = ("test_plot_history", "test_earlier_stages_are_done")


def _tests_to_run(stage, expected: dict[str, str]) -> list[str] | None:
    if stage.number != "05":
        return None
    tests = ["test_earlier_stages_are_done"] + [f"test_{function}" for function in stage.functions]
    return [test for test in tests if test not in INDEPENDENT_SLOW_TESTS or test in expected]


@pytest.fixture(scope="module")
def batch_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every mistake and scenario, each in its own tree, graded in one pytest process."""
    folder = tmp_path_factory.mktemp("batch")
    trees = {}
    for prefix, paths in (("", _mistake_files()), ("wild_", _wild_files())):
        for path in paths:
            stage = get_stage(path.parent.name)
            name = f"{prefix}{stage.number}_{path.stem}"
            trees[name] = (make_tree(folder / name, {stage.number: path.read_text(encoding="utf-8")}),
                           stage.folder, _tests_to_run(stage, _expectations(path)))
    for name, (key, breaks, _) in SCENARIOS.items():
        stage = get_stage(key)
        trees[name] = (make_tree(folder / name, {key: breaks(solved_text(stage))}), stage.folder, None)
    for name, (changes, _) in CAPSTONE_SCENARIOS.items():
        files = {}
        for key, change in changes.items():
            stage = get_stage(key)
            if change is None:  # leave the shipped stub
                files[key] = stage.learner_file().read_text(encoding="utf-8")
            else:
                text = solved_text(stage)
                assert change[0] in text
                files[key] = text.replace(change[0], change[1], 1)
        trees[name] = (make_tree(folder / name, files), get_stage("05").folder, None)
    return run_batch(folder, trees)


def _assert_outcome(result, expected: dict[str, str], stage_key: str, what: str,
                    ran: list[str] | None = None) -> None:
    stage = get_stage(stage_key)
    all_tests = {f"test_{function}" for function in stage.functions}
    if stage.number == "05":
        all_tests.add("test_earlier_stages_are_done")
    if ran is not None:
        all_tests = set(ran)
    assert set(result.outcomes) == all_tests, f"{what}: the suite did not run cleanly: {result.outcomes}"
    assert result.failed == set(expected), (
        f"{what}: expected failures in {sorted(expected)}, got {sorted(result.failed)}:\n"
        + "\n".join(f"{name}: {message}" for name, message in result.outcomes.items() if message))
    for test, phrase in expected.items():
        message = result.outcomes[test]
        assert phrase in message, f"{what}: {test}'s message lacks {phrase!r}:\n{message}"
        assert "Traceback" not in message, message


@pytest.mark.parametrize("path", _mistake_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mistake_is_caught_with_a_pointed_message(batch_results: dict, path: Path) -> None:
    expected = _expectations(path)
    assert expected, f"{path} has no '# EXPECT test_...: phrase' line"
    stage = get_stage(path.parent.name)
    result = batch_results[f"{stage.number}_{path.stem}"]
    _assert_outcome(result, expected, stage.number, path.name, _tests_to_run(stage, expected))
    # one function wrong costs only its points: the functions that call it are graded on their own
    for test in re.findall(r"^# PASSES (test_\w+):", path.read_text(encoding="utf-8"), re.MULTILINE):
        assert test in result.outcomes and test not in result.failed, (path.name, test, result.outcomes.get(test))


@pytest.mark.parametrize("path", _wild_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_code_from_the_wild_gets_the_real_cause(batch_results: dict, path: Path) -> None:
    expected = _expectations(path)
    text = path.read_text(encoding="utf-8")
    assert re.match(r"# MISTAKE: .+\n(# EXPECT test_\w+: .+\n)+(# PASSES test_\w+: .+\n)*# Stage", text), \
        f"{path}: header lines # MISTAKE, # EXPECT test_...: phrase (and # PASSES test_...: why)"
    stage = get_stage(path.parent.name)
    result = batch_results[f"wild_{stage.number}_{path.stem}"]
    _assert_outcome(result, expected, stage.number, path.name, _tests_to_run(stage, expected))
    for test in re.findall(r"^# PASSES (test_\w+):", text, re.MULTILINE):
        assert test in result.outcomes and test not in result.failed, (path.name, test, result.outcomes.get(test))


def test_the_wild_set_covers_every_stage() -> None:
    assert {path.parent.name for path in _wild_files()} == {stage.folder for stage in STAGES}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_broken_file_fails_cleanly(batch_results: dict, name: str) -> None:
    key, _, expected = SCENARIOS[name]
    _assert_outcome(batch_results[name], expected, key, name)


@pytest.mark.parametrize("name", sorted(CAPSTONE_SCENARIOS))
def test_capstone_names_the_stage_to_finish(batch_results: dict, name: str) -> None:
    _, expected = CAPSTONE_SCENARIOS[name]
    _assert_outcome(batch_results[name], expected, "05", name)


def test_catalogue_covers_every_function() -> None:
    """Every learner function has at least one mistake aimed at it."""
    targeted = {test for path in _mistake_files() for test in list(_expectations(path))[:1]}
    missing = [f"test_{f}" for stage in STAGES for f in stage.functions if f"test_{f}" not in targeted]
    assert not missing, missing
