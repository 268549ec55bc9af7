"""The grading API used by the pytest suites and the notebooks: run_checks, list_checks,
the learner-file harness, and what the learner's code may and may not do while graded."""

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from curriculum_trees import make_tree, solved_text

import grading
import solutions.activations
from grading import (CallsReferenceError, GradingError, LearnerFileError, LearnerProgram, NotWrittenYet,
                     get_stage, list_checks, load_learner_module, run_checks)


def program_from(stage: str, source: str) -> LearnerProgram:
    """The learner's program of `stage` made of `source` (run in the grading worker, as a file would be)."""
    return LearnerProgram.from_source(stage, textwrap.dedent(source))


GOOD_ACTIVATIONS = """
    import numpy as np

    def relu(Z):
        return np.maximum(Z, 0)

    def relu_deriv(Z):
        return Z > 0

    def softmax(Z):
        e = np.exp(Z - Z.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)
"""


# ----------------------------------------------------------------- run_checks
def test_run_checks_grades_a_learner_program() -> None:
    namespace = program_from("01", GOOD_ACTIVATIONS)
    for function in ("relu", "relu_deriv", "softmax"):
        names = run_checks("01", function, namespace)
        assert names == [check.name for check in grading.checks_for("01", function)]


def test_stage_can_be_named_in_several_ways() -> None:
    namespace = program_from("01", GOOD_ACTIVATIONS)
    for key in ("01", 1, "1", "activations", "01_activations", "exercises/01_activations"):
        assert run_checks(key, "relu", namespace)
    with pytest.raises(KeyError, match="no stage called 'six'"):
        run_checks("six", "relu", namespace)
    with pytest.raises(KeyError, match="'relu' is not a function of Stage 02"):
        run_checks("02", "relu", namespace)


def test_visible_and_hidden_checks_split_the_list() -> None:
    namespace = program_from("01", GOOD_ACTIVATIONS)
    everything = run_checks("01", "softmax", namespace)
    visible = run_checks("01", "softmax", namespace, visible_only=True)
    hidden = run_checks("01", "softmax", namespace, hidden_only=True)
    assert visible and hidden and sorted(visible + hidden) == sorted(everything)


def test_listing_covers_every_function_with_visible_and_hidden_checks() -> None:
    listing = list_checks()
    assert list(listing) == ["01", "02", "03", "06", "04", "05"]  # in the order they are taught
    for number, functions in listing.items():
        assert tuple(functions) == get_stage(number).functions
        for function, checks in functions.items():
            assert any(c.visible for c in checks) and any(not c.visible for c in checks), function
            assert all(c.description and c.stage == number and c.function == function for c in checks)
            assert len({c.name for c in checks}) == len(checks)


def test_failure_says_called_returned_expected_and_hint() -> None:
    namespace = program_from("01", GOOD_ACTIVATIONS.replace("return np.maximum(Z, 0)", "return Z.copy()"))
    with pytest.raises(GradingError) as caught:
        run_checks("01", "relu", namespace)
    message = str(caught.value)
    assert message.splitlines()[0] == "Stage 01 (activations), relu(): the result has the wrong values."
    for label in ("  called:   relu(Z) with", "  returned: ", "  expected: ", "  hint:     ", "  check:    "):
        assert label in message, message
    assert isinstance(caught.value, AssertionError)
    assert (caught.value.stage, caught.value.function, caught.value.check) == ("01", "relu", "negatives_become_zero")


def test_a_stub_is_not_written_yet() -> None:
    namespace = program_from("01", """
        def relu(Z):
            raise NotImplementedError("Stage 01 (activations): implement relu() - see README.md")
    """)
    with pytest.raises(NotWrittenYet, match=r"^Stage 01 \(activations\): relu\(\) is not written yet"):
        run_checks("01", "relu", namespace)


def test_a_missing_function_is_named() -> None:
    with pytest.raises(LearnerFileError, match=r"there is no function softmax\(\)"):
        run_checks("01", "softmax", program_from("01", "def relu(Z):\n    return Z\n"))
    with pytest.raises(LearnerFileError, match="softmax is a int, not a function"):
        run_checks("01", "softmax", program_from("01", "softmax = 3\n"))


def test_a_namespace_of_this_process_is_refused() -> None:
    """The learner's code never runs in the checker's process: there is no in-process grading."""
    with pytest.raises(TypeError, match="runs in the grading worker"):
        run_checks("01", "softmax", {"softmax": solutions.activations.softmax})


def test_importing_the_reference_is_refused() -> None:
    """The reference does not exist where graded code runs: importing it is reported as such."""
    inside = program_from("01", """
        def relu(Z):
            import solutions
            return solutions.relu(Z) + 0.0
    """)
    with pytest.raises(CallsReferenceError, match=r"relu\(\) imports the reference solution or the grader "
                                                  r"\(activations.py, line 3\)"):
        run_checks("01", "relu", inside)
    at_top = program_from("01", "import numpy as np\nfrom solutions.activations import relu\n")
    with pytest.raises(CallsReferenceError, match=r"your file imports the reference solution"):
        run_checks("01", "relu", at_top)


def test_reading_the_reference_from_disk_is_not_possible() -> None:
    """Nor can its text be read (exec'd under another name, inspect.getsource, copied)."""
    import grading.sandbox
    if grading.sandbox.containment_kind() == "none":
        pytest.skip("needs Linux namespaces (root, or user namespaces) to hide the kit's files")
    program = program_from("01", f"""
        def relu(Z):
            source = open({str(Path(solutions.activations.__file__))!r}).read()
            namespace = {{}}
            exec(compile(source, "mine.py", "exec"), namespace)
            return namespace["relu"](Z)
    """)
    with pytest.raises(GradingError, match=r"raised FileNotFoundError"):
        run_checks("01", "relu", program)


def test_earlier_stages_are_answered_by_the_reference() -> None:
    """Stage 02 imports stage 01 as usual; its functions are the reference's, answered by the checker."""
    program = program_from("02", """
        from activations import relu, softmax
        def forward_prop(W1, b1, W2, b2, X):
            Z1 = W1 @ X + b1
            A1 = relu(Z1)
            Z2 = W2 @ A1 + b2
            return Z1, A1, Z2, softmax(Z2)
    """)
    assert run_checks("02", "forward_prop", program)


def test_numpy_warnings_fail_where_the_contract_forbids_them(capfd: pytest.CaptureFixture) -> None:
    namespace = program_from("01", GOOD_ACTIVATIONS.replace("e = np.exp(Z - Z.max(axis=0, keepdims=True))",
                                                        "print('computing'); e = np.exp(Z)"))
    with pytest.raises(GradingError, match="NumPy warned: overflow encountered in exp") as caught:
        run_checks("01", "softmax", namespace)
    assert "subtract each column's maximum" in str(caught.value)
    assert caught.value.check == "large_logits_do_not_overflow"  # the check whose contract forbids it
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_warning_elsewhere_is_noted_not_failed() -> None:
    """A correct cross_entropy written with np.where(p > 0, np.log(p), ...) warns on log(0) and passes."""
    where = program_from("03", """
        import numpy as np
        def cross_entropy(A2, Y):
            p = A2[Y, np.arange(Y.size)]
            return float(-np.mean(np.where(p > 0, np.log(p), np.log(1e-12))))
    """)
    assert run_checks("03", "cross_entropy", where)
    wrong = program_from("03", """
        import numpy as np
        def cross_entropy(A2, Y):
            p = A2[Y, np.arange(Y.size)]
            return float(np.mean(np.where(p > 0, np.log(p), np.log(1e-12))))
    """)
    with pytest.raises(GradingError) as caught:
        run_checks("03", "cross_entropy", wrong)
    assert "wrong sign" in str(caught.value)


def test_an_exception_names_the_learners_line() -> None:
    namespace = program_from("01", """
        import numpy as np
        def softmax(Z):
            return np.exp(Z) / np.ones((3, 3)).sum(axis=0)
    """)
    with pytest.raises(GradingError) as caught:
        run_checks("01", "softmax", namespace)
    message = str(caught.value)
    assert "raised ValueError: operands could not be broadcast" in message
    assert "raised at: activations.py, line 4, in softmax(): return np.exp(Z) / np.ones((3, 3)).sum(axis=0)" in message
    assert "shapes:   on that line, Z (3, 2)" in message
    assert "hint:     array shapes do not fit" in message


def test_a_return_type_the_checks_cannot_use_is_explained() -> None:
    namespace = program_from("02", """
        def forward_prop(W1, b1, W2, b2, X):
            return {"Z1": W1}
    """)
    with pytest.raises(GradingError, match=r"should return the 4 values \(Z1, A1, Z2, A2\), returned dict"):
        run_checks("02", "forward_prop", namespace)


def test_each_function_is_graded_on_its_own() -> None:
    """A wrong helper of the same stage costs only its own points: while gradient_descent is graded,
    the stage's other functions are the reference's."""
    program = program_from("04", """
        import numpy as np
        from forward import forward_prop, init_params
        from backprop import backward_prop
        def get_predictions(A2):
            return np.argmax(A2, axis=1)
        def get_accuracy(predictions, Y):
            return int(np.sum(predictions == Y))
        def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
            return W1 + alpha * dW1, b1, W2, b2
        def gradient_descent(X, Y, alpha, iterations, *, seed=None, history=None, print_every=10):
            W1, b1, W2, b2 = init_params(X.shape[0], 10, 10, seed=seed)
            for i in range(iterations):
                Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
                W1, b1, W2, b2 = update_params(W1, b1, W2, b2, *backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y), alpha)
                if history is not None:
                    history.setdefault("accuracy", []).append(get_accuracy(get_predictions(A2), Y))
                    history.setdefault("loss", []).append(float(np.mean(-np.log(A2[Y, np.arange(Y.size)]))))
                if print_every and i % print_every == 0:
                    print(f"Iteration: {i}  Accuracy: {get_accuracy(get_predictions(A2), Y):.3f}")
            return W1, b1, W2, b2
    """)
    for helper in ("get_predictions", "get_accuracy", "update_params"):
        with pytest.raises(GradingError):
            run_checks("04", helper, program)
    assert run_checks("04", "gradient_descent", program)


def test_a_wrong_relative_error_costs_check_backprop_nothing(tmp_path: Path) -> None:
    """check_backprop calls relative_error (inside a dict comprehension): while check_backprop is graded,
    relative_error is the reference's, so a wrong relative_error costs only its own points."""
    text = solved_text(get_stage("06")).replace("    return float(np.max(np.abs(a - b)",
                                                 "    return float(np.max(np.abs(a + b)")
    assert "np.abs(a + b)" in text
    module = load_learner_module("06", exercises_dir=make_tree(tmp_path, {"06": text}) / "exercises")
    with pytest.raises(GradingError, match=r"relative_error\(\): wrong relative error"):
        run_checks("06", "relative_error", module)
    assert run_checks("06", "check_backprop", module)


def test_a_wrong_numerical_gradient_fails_check_backprop_too(tmp_path: Path) -> None:
    """numerical_gradient takes a function, so check_backprop runs the learner's own (Stage.adapters):
    a wrong one fails both, and check_backprop's hint says which of its parts may be wrong."""
    text = solved_text(get_stage("06")).replace("(up - down) / (2 * h)", "(up - down) / h")
    assert "(up - down) / h" in text
    module = load_learner_module("06", exercises_dir=make_tree(tmp_path, {"06": text}) / "exercises")
    with pytest.raises(GradingError, match="divide by 2h"):
        run_checks("06", "numerical_gradient", module)
    with pytest.raises(GradingError, match=r"check_backprop\(\): it reports errors of W1: 0\.33") as caught:
        run_checks("06", "check_backprop", module)
    assert "YOUR numerical_gradient (this stage)" in str(caught.value) and "fix it first" in str(caught.value)


# ----------------------------------------------------------------- bonus checks
def test_bonus_checks_are_a_part_of_their_own() -> None:
    """bonus=False runs the core checks, bonus=True the bonus ones; together, every check in order."""
    from grading.checks.registry import checks_for

    for stage in grading.STAGES:
        for function in stage.functions:
            every = checks_for(stage, function)
            core, extra = checks_for(stage, function, bonus=False), checks_for(stage, function, bonus=True)
            assert [c for c in every if c in core] == core and sorted(core + extra, key=every.index) == every
    bonus = {(c.function, c.name) for f in grading.get_stage("05").functions
             for c in checks_for("05", f, bonus=True)}
    assert bonus == {("mini_batch_gradient_descent", "keywords_n_hidden_init_weight_decay"),
                     ("mini_batch_gradient_descent", "learning_rate_schedule"),
                     ("mini_batch_gradient_descent", "augmentation_is_used"),
                     ("mini_batch_gradient_descent", "one_epoch_with_alpha_final"),
                     ("save_params", "replaces_atomically"), ("save_params", "never_writes_into_the_old_file"),
                     ("plot_history", "draws_accuracy_and_loss"), ("plot_history", "writes_a_png"),
                     ("plot_history", "curves_are_labelled")}
    assert all(not c.bonus for s in grading.STAGES if s.number != "05" for f in s.functions
               for c in checks_for(s, f))


def test_a_failing_extra_leaves_the_core_passing(tmp_path: Path) -> None:
    """A learning-rate schedule that is ignored: the core checks of mini_batch_gradient_descent pass, its
    bonus checks fail (and all of them together, in order, fail at the schedule)."""
    text = solved_text(get_stage("05")).replace("    if alpha_final is not None:\n", "    if False:\n")
    tree = make_tree(tmp_path, {"05": text}) / "exercises"
    module = load_learner_module("05", exercises_dir=tree)
    assert run_checks("05", "mini_batch_gradient_descent", module, bonus=False)
    for bonus in (True, None):
        with pytest.raises(GradingError) as caught:
            run_checks("05", "mini_batch_gradient_descent", module, bonus=bonus)
        assert caught.value.check == "learning_rate_schedule"


def test_the_bonus_flag_needs_a_function_of_the_stage() -> None:
    from grading.checks.registry import checker

    with pytest.raises(ValueError, match="'relu' is not a function of Stage 05"):
        checker("05")("relu", bonus=True)


# ----------------------------------------------------------------- callables at the call boundary
def test_numerical_gradient_gets_a_real_function_from_a_name(tmp_path: Path) -> None:
    """The checks pass the NAME of an example; the learner's numerical_gradient receives the function,
    built beside it by the stage's adapter (kit_helpers.gradient_examples.call_with_example)."""
    guard = ("    if isinstance(f, str) or not callable(f):\n"
             "        raise TypeError(f'f is {f!r}, not a function')\n")
    text = solved_text(get_stage("06")).replace("    grad = np.zeros(x.shape)\n", guard + "    grad = np.zeros(x.shape)\n")
    assert guard in text
    module = load_learner_module("06", exercises_dir=make_tree(tmp_path, {"06": text}) / "exercises")
    assert run_checks("06", "numerical_gradient", module)
    assert get_stage("06").adapter("numerical_gradient") == "kit_helpers.gradient_examples:call_with_example"
    assert get_stage("06").adapter("relative_error") is None


# ----------------------------------------------------------------- harness
def test_stages_02_to_04_use_the_reference_building_blocks(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, solved=False) / "exercises"
    get_stage("02").learner_file(tree).write_text(solved_text(get_stage("02")))
    before = sys.modules.get("activations")
    module = load_learner_module("02", exercises_dir=tree)
    assert module.relu is solutions.activations.relu  # the stage 01 stub is not used
    assert sys.modules.get("activations") is before
    assert run_checks("02", "forward_prop", module)


def test_the_capstone_uses_the_learners_own_files(tmp_path: Path) -> None:
    tree = make_tree(tmp_path) / "exercises"
    module = load_learner_module("05", exercises_dir=tree)
    assert Path(module.forward_prop.__code__.co_filename) == get_stage("02").learner_file(tree)
    assert Path(module.forward_prop.__globals__["relu"].__code__.co_filename) == get_stage("01").learner_file(tree)


def test_the_gradient_check_uses_the_learners_own_backprop(tmp_path: Path) -> None:
    """Stage 06 builds on the learner's files of 01-03 (not on 04 or 05, which may be unfinished)."""
    tree = make_tree(tmp_path, {"04": "raise SystemError('stage 04 is not loaded')\n",
                                "05": "raise SystemError('stage 05 is not loaded')\n"}) / "exercises"
    module = load_learner_module("06", exercises_dir=tree)
    assert Path(module.backward_prop.__code__.co_filename) == get_stage("03").learner_file(tree)
    assert Path(module.forward_prop.__code__.co_filename) == get_stage("02").learner_file(tree)
    assert run_checks("06", "check_backprop", module)


def test_the_gradient_check_reports_a_broken_backprop(tmp_path: Path) -> None:
    """The learner's own backward_prop without 1/m in dW2: check_backprop says so, with W2's error."""
    text = solved_text(get_stage("03")).replace("    dW2 = dZ2 @ A1.T / m\n", "    dW2 = dZ2 @ A1.T\n")
    module = load_learner_module("06", exercises_dir=make_tree(tmp_path, {"03": text}) / "exercises")
    with pytest.raises(GradingError, match=r"it reports errors of W2: 0\.67 \(a right backprop"):
        run_checks("06", "check_backprop", module)
    assert run_checks("06", "numerical_gradient", module) and run_checks("06", "relative_error", module)


def test_the_capstone_names_the_unfinished_stage(tmp_path: Path) -> None:
    tree = make_tree(tmp_path, {"02": get_stage("02").learner_file().read_text()}) / "exercises"
    module = load_learner_module("05", exercises_dir=tree)
    with pytest.raises(NotWrittenYet, match=r"make_predictions\(\) needs your forward_prop\(\) from stage 02 "
                                            r"\(forward pass\), which is not written yet - finish that stage first: "
                                            r"python -m pytest exercises/02_forward_pass"):
        run_checks("05", "make_predictions", module)


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "activations.py"
    path.write_text("import numpy as np\n\ndef relu(Z)\n    return Z\n")
    with pytest.raises(LearnerFileError) as caught:
        load_learner_module("01", path)
    message = str(caught.value)
    assert message.startswith(f"Stage 01 (activations): {path}, line 3: expected ':' (a syntax error)")
    assert "def relu(Z)" in message


def test_a_missing_file_says_how_to_restore_it(tmp_path: Path) -> None:
    with pytest.raises(LearnerFileError, match=r"is missing - restore it with `git checkout "
                                               r"exercises/03_backprop/backprop.py`"):
        load_learner_module("03", tmp_path / "backprop.py")


def test_an_error_while_loading_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "forward.py"
    path.write_text("import numpy as np\nx = 1 / 0\n")
    with pytest.raises(LearnerFileError, match=r"line 2 raised ZeroDivisionError: division by zero"):
        load_learner_module("02", path)


def test_a_missing_mnist_sample_is_a_clear_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grading.checks.fixtures

    tree = make_tree(tmp_path) / "exercises"
    module = load_learner_module("05", exercises_dir=tree)
    monkeypatch.setattr(grading.checks.fixtures, "SAMPLE_PATH", tmp_path / "gone.csv.gz")
    grading.checks.fixtures.mnist_images.cache_clear()
    try:
        with pytest.raises(GradingError, match=r"cannot train: the bundled MNIST sample .*gone.csv.gz is missing "
                                               r"\(restore it with `git checkout data/`\)"):
            run_checks("05", "mini_batch_gradient_descent", module)
    finally:
        grading.checks.fixtures.mnist_images.cache_clear()


def test_pyplots_reminder_to_close_figures_is_not_a_numpy_warning(capfd: pytest.CaptureFixture) -> None:
    namespace = program_from("01", """
        import warnings
        import numpy as np
        def relu(Z):
            warnings.warn("More than 20 figures have been opened. Figures created through the pyplot "
                          "interface are retained until explicitly closed", RuntimeWarning)
            return np.maximum(Z, 0)
    """)
    assert run_checks("01", "relu", namespace)
    assert capfd.readouterr().err == ""


def test_an_endless_loop_is_stopped_and_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import grading.running.learner_function

    monkeypatch.setattr(grading.running.learner_function, "CALL_TIME_LIMIT", 0.5)
    namespace = program_from("04", """
        def get_accuracy(predictions, Y):
            i = 0
            while i < len(Y):
                try:
                    pass  # forgot i += 1
                except BaseException:  # swallows even the interrupt
                    pass
            return 1.0
        def get_predictions(A2):
            return A2.argmax(axis=0)
    """)
    with pytest.raises(GradingError, match=r"get_accuracy\(\): it did not return within 0.5 seconds") as caught:
        run_checks("04", "get_accuracy", namespace)
    assert "a loop that never ends" in str(caught.value)
    assert run_checks("04", "get_predictions", namespace)  # its program is loaded again: the rest is graded


def test_a_check_that_cannot_use_the_result_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import grading.checks.registry

    def confused(relu) -> None:
        """needs a dict."""
        relu(np.ones((2, 2)))["key"]

    fake = grading.checks.registry.Check("01", "relu", "confused", True, "needs a dict.", confused)
    monkeypatch.setattr(grading.checks.registry, "checks_for", lambda stage, function, bonus=None: [fake])
    with pytest.raises(GradingError) as caught:
        run_checks("01", "relu", program_from("01", GOOD_ACTIVATIONS))
    message = str(caught.value)
    assert message.startswith("Stage 01 (activations), relu(): the grader could not use what it returned "
                              "(IndexError: only integers")
    assert "called:   relu(Z) with" in message and "check confused: needs a dict." in message


def test_a_recognised_mistake_is_recorded_and_an_unrecognised_one_is_not() -> None:
    rows = program_from("01", """
        import numpy as np
        def softmax(Z):
            e = np.exp(Z - Z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
    """)
    with pytest.raises(GradingError) as recognised:
        run_checks("01", "softmax", rows)
    assert recognised.value.mistake and "normalises each ROW" in recognised.value.mistake
    assert recognised.value.mistake in str(recognised.value)

    nonsense = program_from("01", """
        import numpy as np
        def softmax(Z):
            return np.full(Z.shape, 0.25)
    """)
    with pytest.raises(GradingError) as unrecognised:
        run_checks("01", "softmax", nonsense)
    assert unrecognised.value.mistake is None


def test_a_program_names_the_line_of_a_syntax_error_and_of_an_error_while_loading(tmp_path: Path) -> None:
    path = tmp_path / "exercises" / "01_activations" / "activations.py"
    path.parent.mkdir(parents=True)
    path.write_text("import numpy as np\n\ndef relu(Z)\n    return Z\n")
    with pytest.raises(LearnerFileError) as caught:
        run_checks("01", "relu", LearnerProgram.from_files("01", path))
    assert "line 3: expected ':' (a syntax error)" in str(caught.value) and "def relu(Z)" in str(caught.value)
    path.write_text("import numpy as np\nx = 1 / 0\n")
    with pytest.raises(LearnerFileError, match=r"line 2 raised ZeroDivisionError: division by zero"):
        run_checks("01", "relu", LearnerProgram.from_files("01", path))
