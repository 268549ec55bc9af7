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
from curriculum_trees import (ALTERNATIVES_DIR, MISTAKES_DIR, expectations, make_tree, run_batch, run_pytest,
                              solved_text, suite_tests)

from grading.checks.registry import checks_for
from grading.stages import STAGES, get_stage

#: every test of every stage's suite; the bonus ones (test_bonus_<function>) xfail when their extra fails
ALL_TESTS = sum(len(suite_tests(stage)) for stage in STAGES)
BONUS_TESTS = sum(1 for stage in STAGES for test in suite_tests(stage) if test.startswith("test_bonus_"))
CORE_TESTS = ALL_TESTS - BONUS_TESTS
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
    assert _summary(output).startswith(f"{CORE_TESTS} failed, {BONUS_TESTS} xfailed"), output
    assert "Traceback" not in output and "error" not in _summary(output), output
    assert "NotImplementedError:" not in output, "the raw exception should not be shown:\n" + output
    bonus_line = next(line for line in output.splitlines() if line.startswith("Bonus (optional extras"))
    for stage in STAGES:
        for function in stage.functions:
            line = re.compile(rf"^{re.escape(stage.label)}: {function}\(\) is not written yet - .*{re.escape(stage.learner_relpath)}",
                              re.MULTILINE)
            core = bool(checks_for(stage, function, bonus=False))
            assert len(line.findall(output)) == core, f"expected {int(core)} line for {function}:\n{output}"
            if checks_for(stage, function, bonus=True):  # the extras are summed up in one line
                assert f"{function}() (not written yet)" in bonus_line, bonus_line
    assert f"0 of {BONUS_TESTS} pass" in bonus_line and "python -m pytest exercises/05_train_mnist -m bonus" in bonus_line
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
    assert f"Bonus (optional extras): all {BONUS_TESTS} pass" in completed.stdout


def test_the_capstone_is_done_without_its_extras(tmp_path: Path) -> None:
    """Stage 05 with only its core written (the extras still stubs): the suite passes, the bonus tests
    xfail and are summed up in one line; asked for with -m bonus, they fail with their messages."""
    stage = get_stage("05")
    solved = solved_text(stage)
    stub = stage.learner_file().read_text(encoding="utf-8")
    plot_stub = next(line for line in stub.splitlines() if "implement plot_history()" in line)
    assert solved.count("    if alpha_final is not None:\n") == 1
    core_only = solved.replace("    if alpha_final is not None:\n", "    if False:  # no schedule yet\n")
    head, plot_body, tail = core_only.rpartition("    figure = Figure(figsize=(10, 4))")
    assert plot_body and "\ndef " not in tail  # plot_history's code ends the file
    core_only = head + plot_stub.rstrip() + "\n"
    tree = make_tree(tmp_path, {"05": core_only})
    completed = run_pytest(tree, "exercises/05_train_mnist")
    output = completed.stdout
    assert completed.returncode == 0, output
    bonus = [test for test in suite_tests(stage) if test.startswith("test_bonus_")]
    assert _summary(output).startswith(f"{len(suite_tests(stage)) - 2} passed, 2 xfailed"), output
    assert (f"Bonus (optional extras, not needed for the stage to be done): {len(bonus) - 2} of {len(bonus)} "
            f"pass - not yet: mini_batch_gradient_descent() (check learning_rate_schedule), "
            f"plot_history() (not written yet). See why: python -m pytest exercises/05_train_mnist -m bonus") \
        in output, output
    asked = run_pytest(tree, "exercises/05_train_mnist", "-m", "bonus")
    assert asked.returncode == 1 and _summary(asked.stdout).startswith(f"2 failed, {len(bonus) - 2} passed")
    assert "check:    learning_rate_schedule" in asked.stdout, asked.stdout
    assert "See why" not in asked.stdout


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

#: Trees of the stages built on the learner's own files (05 on 01-04, 06 on 01-03), whose earlier stages
#: are unfinished or broken: (the stage graded, {stage: None for the stub, or (old, new) in the solved
#: file}, {test: phrase}).
BUILT_ON_SCENARIOS = {
    "capstone_before_stage_03": ("05", {"03": None}, {
        "test_earlier_stages_are_done": "stage 03 (backprop) is not finished yet",
        "test_evaluate": "needs your cross_entropy() from stage 03 (backprop), which is not written yet - "
                         "finish that stage first: python -m pytest exercises/03_backprop",
        "test_mini_batch_gradient_descent": "python -m pytest exercises/03_backprop",
        "test_bonus_mini_batch_gradient_descent": "python -m pytest exercises/03_backprop"}),
    "capstone_with_broken_softmax": ("05", {"01": ("    return exps / exps.sum(axis=0, keepdims=True)\n",
                                                   "    return exps / exps.sum()\n")}, {
        "test_earlier_stages_are_done": "stage 01 (activations) is not finished yet",
        "test_evaluate": "your functions of stages 01-04 do this work",
        "test_mini_batch_gradient_descent": "your functions of stages 01-04 do this work",
        "test_bonus_mini_batch_gradient_descent": "your functions of stages 01-04 do this work"}),
    "capstone_with_syntax_error_in_stage_02": ("05", {"02": ("def forward_prop(", "def forward_prop(:")}, {
        test: "02_forward_pass/forward.py, line" for test in suite_tests(get_stage("05"))
    } | {"test_earlier_stages_are_done": "forward.py, line"}),
    "gradient_check_before_stage_03": ("06", {"03": None}, {
        "test_earlier_stages_are_done": "stage 03 (backprop) is not finished yet",
        "test_check_backprop": "needs your backward_prop() from stage 03 (backprop), which is not written yet"}),
    # the gradient check doing its job: a backprop without 1/m in dW2 is off by (m - 1) / (m + 1)
    "gradient_check_finds_a_broken_backprop": ("06", {"03": ("    dW2 = dZ2 @ A1.T / m\n", "    dW2 = dZ2 @ A1.T\n")}, {
        "test_earlier_stages_are_done": "stage 03 (backprop) is not finished yet",
        "test_check_backprop": "it reports errors of W2: 0.67"}),
}


#: Tests that use no other function of the stage's file: a mistake elsewhere in the file cannot affect
#: them (the earlier-stages test reads only the solved earlier stages), and they are the slow ones (a PNG,
#: all of stages 01-04), so mistake trees run them only when a mistake aims at them.
INDEPENDENT_SLOW_TESTS = ("test_bonus_plot_history", "test_earlier_stages_are_done")


def _tests_to_run(stage, expected: dict[str, str]) -> list[str] | None:
    if not stage.builds_on:
        return None
    return [test for test in suite_tests(stage) if test not in INDEPENDENT_SLOW_TESTS or test in expected]


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
                           stage.folder, _tests_to_run(stage, expectations(path)))
    for name, (key, breaks, _) in SCENARIOS.items():
        stage = get_stage(key)
        trees[name] = (make_tree(folder / name, {key: breaks(solved_text(stage))}), stage.folder, None)
    for name, (graded, changes, _) in BUILT_ON_SCENARIOS.items():
        files = {}
        for key, change in changes.items():
            stage = get_stage(key)
            if change is None:  # leave the shipped stub
                files[key] = stage.learner_file().read_text(encoding="utf-8")
            else:
                text = solved_text(stage)
                assert change[0] in text
                files[key] = text.replace(change[0], change[1], 1)
        trees[name] = (make_tree(folder / name, files), get_stage(graded).folder, None)
    return run_batch(folder, trees)


def _assert_outcome(result, expected: dict[str, str], stage_key: str, what: str,
                    ran: list[str] | None = None) -> None:
    stage = get_stage(stage_key)
    all_tests = set(suite_tests(stage) if ran is None else ran)
    assert set(result.outcomes) == all_tests, f"{what}: the suite did not run cleanly: {result.outcomes}"
    assert result.failed == set(expected), (
        f"{what}: expected failures in {sorted(expected)}, got {sorted(result.failed)}:\n"
        + "\n".join(f"{name}: {message}" for name, message in result.outcomes.items() if message))
    # an extra that fails never fails the suite: bonus tests xfail, the others fail
    assert result.xfailed == {test for test in result.failed if test.startswith("test_bonus_")}, (
        f"{what}: xfailed {sorted(result.xfailed)}")
    for test, phrase in expected.items():
        message = result.outcomes[test]
        assert phrase in message, f"{what}: {test}'s message lacks {phrase!r}:\n{message}"
        assert "Traceback" not in message, message


@pytest.mark.parametrize("path", _mistake_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mistake_is_caught_with_a_pointed_message(batch_results: dict, path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path} has no '# EXPECT test_...: phrase' line"
    stage = get_stage(path.parent.name)
    result = batch_results[f"{stage.number}_{path.stem}"]
    _assert_outcome(result, expected, stage.number, path.name, _tests_to_run(stage, expected))
    # one function wrong costs only its points: the functions that call it are graded on their own
    for test in re.findall(r"^# PASSES (test_\w+):", path.read_text(encoding="utf-8"), re.MULTILINE):
        assert test in result.outcomes and test not in result.failed, (path.name, test, result.outcomes.get(test))


@pytest.mark.parametrize("path", _wild_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_code_from_the_wild_gets_the_real_cause(batch_results: dict, path: Path) -> None:
    expected = expectations(path)
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


@pytest.mark.parametrize("name", sorted(BUILT_ON_SCENARIOS))
def test_stage_built_on_own_files_names_the_stage_to_finish(batch_results: dict, name: str) -> None:
    graded, _, expected = BUILT_ON_SCENARIOS[name]
    _assert_outcome(batch_results[name], expected, graded, name)


def test_catalogue_covers_every_function() -> None:
    """Every learner function has at least one mistake aimed at it (at its core test, or its bonus
    test when it has only bonus checks), and every bonus test has one."""
    targeted = {test for path in _mistake_files() for test in list(expectations(path))[:1]}
    wanted = [test for stage in STAGES for test in suite_tests(stage) if test != "test_earlier_stages_are_done"]
    missing = [test for test in wanted if test not in targeted]
    assert not missing, missing
