"""`mnist-kit watch`: grading again when the learner saves, moving on, stopping.

The command runs in a subprocess on a copy of the exercises; the test reads its
output line by line (with a deadline, so a broken watch fails instead of
hanging) and edits the learner's file once the command says it is waiting.
"""

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from exercise_copies import check_count, copy_exercises, learner_text, write_learner_file

import grading
from grading.tools.watch import signature, watched_files

DEADLINE = 120.0  # seconds any expected line may take (generous: CI is slow, the grading takes a few)


class Watch:
    """`python -m solutions watch ARGS` in a subprocess, its stdout read by a thread."""

    def __init__(self, exercises: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "solutions", "watch", *args, "--exercises", exercises.name, "--interval", "0.05"],
            cwd=exercises.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str) -> str:
        """Read lines until one contains `text`; fail when the output ends or the deadline passes."""
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            try:
                line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"watch ended before printing {text!r}:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if text in line:
                return line
        pytest.fail(f"no {text!r} within {DEADLINE:g} s:\n" + "\n".join(self.lines))

    def finish(self) -> tuple[int, str]:
        """Wait for the end: (exit status, the whole stdout)."""
        try:
            status = self.process.wait(timeout=DEADLINE)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        while (line := self._queue.get(timeout=DEADLINE)) is not None:
            self.lines.append(line)
        return status, "\n".join(self.lines)


def test_regrades_on_save_and_moves_on_when_green(tmp_path: Path) -> None:
    """A wrong relu: the failing check's message; saved correct: the stage passes, stage 02 comes next."""
    exercises = copy_exercises(tmp_path)
    solved = learner_text(grading.get_stage("01"), solved=True)
    write_learner_file(exercises, "01", solved.replace("return np.maximum(Z, 0)", "return Z"))
    watch = Watch(exercises, "01", "--max-runs", "3")
    watch.wait_for("Stage 01 (activations): ")
    failure = watch.wait_for("Stage 01 (activations), relu(): ")
    watch.wait_for("Waiting for you to save exercises/01_activations/activations.py")
    assert "check:" in "\n".join(watch.lines)  # the whole message of the first failing check
    assert failure
    write_learner_file(exercises, "01", solved)
    watch.wait_for(f"Stage 01 (activations): all {check_count('01')} checks pass - stage done!")
    watch.wait_for("Moving on to Stage 02 (forward pass).")
    watch.wait_for(f"Stage 02 (forward pass): 0 of {check_count('02')} checks passing")
    status, output = watch.finish()
    assert status == 0 and output.endswith("Stopped after 3 gradings (--max-runs).")
    assert "init_params() is not written yet" in output


def test_without_a_stage_starts_at_the_first_unfinished(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path, solved=("01", "02"))
    watch = Watch(exercises, "--max-runs", "1")
    status, output = watch.finish()
    assert status == 0, output
    assert "Stages passing already: 01, 02." in output
    assert "Stage 03 (backprop): 0 of" in output and "one_hot() is not written yet" in output


def test_every_stage_passing_ends_the_watch(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path, solved=("01", "02", "03", "04"))
    write_learner_file(exercises, "05", learner_text(grading.get_stage("05"), solved=True))
    status, output = Watch(exercises, "05").finish()
    assert status == 0 and "Every stage passes" in output


def test_a_finished_stage_03_moves_on_to_the_gradient_check(tmp_path: Path) -> None:
    """The stages follow in the order they are taught: 06 comes right after 03."""
    exercises = copy_exercises(tmp_path, solved=("01", "02", "03"))
    status, output = Watch(exercises, "03", "--max-runs", "3", "--stop-after", "20").finish()
    assert status == 0, output
    assert "Moving on to Stage 06 (gradient check)." in output, output
    assert "(or your files of stages 01-03)" in output


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path)
    watch = Watch(exercises, "02")
    watch.wait_for("Waiting for you to save")
    watch.process.send_signal(signal.SIGINT)
    status, output = watch.finish()
    assert status == 0 and output.endswith("Stopped watching.")
    assert "Traceback" not in watch.process.stderr.read()


def test_stop_after_bounds_the_run(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path)
    status, output = Watch(exercises, "02", "--stop-after", "1").finish()
    assert status == 0 and output.endswith("Stopped (--stop-after).")


def test_unknown_stage_is_one_line(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path)
    watch = Watch(exercises, "backpropagation")
    status, output = watch.finish()
    error = watch.process.stderr.read()
    assert status == 1 and output == ""
    assert "no stage called 'backpropagation'" in error and len(error.strip().splitlines()) == 1


def test_capstone_watches_the_earlier_stages_files_too(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path)
    assert watched_files(grading.get_stage("02"), exercises) == [exercises / "02_forward_pass" / "forward.py"]
    files = watched_files(grading.get_stage("05"), exercises)
    assert files == [grading.get_stage(n).learner_file(exercises) for n in ("01", "02", "03", "04", "05")]
    files = watched_files(grading.get_stage("06"), exercises)
    assert files == [grading.get_stage(n).learner_file(exercises) for n in ("01", "02", "03", "06")]


def test_a_save_made_while_grading_is_not_missed(tmp_path: Path) -> None:
    """The watch compares with the files as they were when its grading started: a save that lands
    while it grades (or prints "Waiting ...") is seen, where a fresh snapshot would miss it."""
    from grading.tools import watch as watch_module

    path = tmp_path / "activations.py"
    path.write_text("a = 1\n")
    graded = signature([path])
    path.write_text("a = 22\n")  # saved after the grading started
    watch_module._wait_for_change([path], 0.01, time.monotonic() + 5, since=graded)  # returns at once
    with pytest.raises(watch_module._Stop):  # compared with now, the save is lost until the deadline
        watch_module._wait_for_change([path], 0.01, time.monotonic() + 0.2)


def test_signature_sees_a_save_and_a_deletion(tmp_path: Path) -> None:
    path = tmp_path / "file.py"
    path.write_text("a = 1\n")
    before = signature([path])
    path.write_text("a = 12\n")
    assert signature([path]) != before
    path.unlink()
    assert signature([path]) == (None,)
