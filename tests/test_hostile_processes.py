"""Signals, killed processes and start-up: what needs a real `mnist-kit` process of its own.

SIGTERM during a weights save and during training (handled like Ctrl-C:
nothing partial left), kill -9 during a save or a download (the next run of the
same command removes the part, a live process's part is kept), Ctrl-C at
every moment of start-up (never a traceback), the user's umask and symlinks
end to end, and that the memory limit the catalogue runs under really bites.
"""

import http.server
import os
import re
import signal
import socketserver
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cli_support import SAMPLE, cli_environment, describe, leftover_partial_files
from test_hostile_cli import MEMORY_LIMIT, _limit_memory

#: Runs `mnist-kit ARGS` after making np.savez write a megabyte, touch READY and wait: a save caught mid-write.
SLOW_SAVE = r"""
import pathlib, sys, time
import numpy as np

def slow_savez(file, **arrays):
    file.write(b"x" * (1 << 20))
    pathlib.Path(sys.argv[1]).write_text("writing")
    time.sleep(60)

np.savez = slow_savez
from solutions.cli import main
raise SystemExit(main(sys.argv[2:]))
"""

TRAIN = ["train", "--epochs", "1", "--dev", "0", "--data", str(SAMPLE)]


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def start_slow_save(tmp_path: Path, weights: Path) -> tuple[subprocess.Popen, Path]:
    ready = tmp_path / "ready"
    process = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(ready), *TRAIN, "--weights", str(weights)],
                               cwd=tmp_path, env=cli_environment(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_for(lambda: ready.exists() or process.poll() is not None)
    assert process.poll() is None, "the save did not start: " + process.stderr.read()
    return process, ready


def finished(process: subprocess.Popen, command) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_sigterm_during_a_weights_save_leaves_nothing(tmp_path):
    weights = tmp_path / "out" / "w.npz"
    process, ready = start_slow_save(tmp_path, weights)
    try:
        assert len(leftover_partial_files(tmp_path)) == 1, "the save is under way, in a .part file"
        process.send_signal(signal.SIGTERM)
        result = finished(process, ["train"])
    finally:
        process.kill()
    assert result.returncode == 143, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    assert result.stderr.strip().splitlines() == ["mnist-kit train: terminated (SIGTERM)"], describe(result)
    ready.unlink()
    assert leftover_partial_files(tmp_path) == [] and not weights.exists(), "nothing partial left"


def test_sigterm_during_training_saves_nothing(tmp_path):
    command = [sys.executable, "-m", "solutions", "train", "--epochs", "2000", "--data", str(SAMPLE),
               "--weights", "w.npz"]
    process = subprocess.Popen(command, cwd=tmp_path, env=cli_environment(tmp_path, {"PYTHONUNBUFFERED": "1"}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if line.startswith("Epoch"):
                break
        process.send_signal(signal.SIGTERM)
        result = finished(process, command)
    finally:
        process.kill()
    assert result.returncode == 143, describe(result)
    lines = result.stderr.strip().splitlines()
    assert lines == ["mnist-kit train: terminated (SIGTERM); no weights saved"], describe(result)
    assert not (tmp_path / "w.npz").exists() and leftover_partial_files(tmp_path) == []


def test_a_part_left_by_kill_9_is_removed_by_the_next_save_but_not_a_live_one(tmp_path):
    weights = tmp_path / "w.npz"
    killed, ready = start_slow_save(tmp_path, weights)
    killed.kill()
    killed.wait()
    ready.unlink()
    stale = leftover_partial_files(tmp_path)
    assert len(stale) == 1 and f".{killed.pid}." in stale[0].name, "kill -9 leaves the part, named by its pid"
    live, ready = start_slow_save(tmp_path, weights)  # another save, still writing
    try:
        live_part = [p for p in leftover_partial_files(tmp_path) if f".{live.pid}." in p.name]
        result = subprocess.run([sys.executable, "-m", "solutions", *TRAIN, "--weights", str(weights)],
                                cwd=tmp_path, env=cli_environment(tmp_path), capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, describe(result)
        assert leftover_partial_files(tmp_path) == live_part, "the dead writer's part is gone, the live one kept"
    finally:
        live.kill()
        live.wait()
    assert weights.is_file()


class Drip(http.server.BaseHTTPRequestHandler):
    """A mirror sending a byte every 50 ms, for up to 30 s."""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(600):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def test_a_download_killed_and_restarted_at_once_removes_its_stale_part(tmp_path):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    cache = tmp_path / "cache"
    mirror = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        command = [sys.executable, "-m", "solutions", "download", "--to", str(cache), "--mirror", mirror]
        process = subprocess.Popen(command, cwd=tmp_path, env=cli_environment(tmp_path),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: cache.is_dir() and leftover_partial_files(cache))
        finally:
            process.kill()
            process.wait()
        [stale] = leftover_partial_files(cache)
        again = subprocess.run([*command[:-1], "http://127.0.0.1:9/", "--timeout", "2"], cwd=tmp_path,
                               env=cli_environment(tmp_path), capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert f"removed {stale.name}, left by a download that was killed" in again.stderr, describe(again)
    assert leftover_partial_files(cache) == []


#: How each way of starting the kit goes on once solutions.cli is imported. The import itself (the
#: standard library's argparse and signal, about 15 ms) and Python's own start-up before it are the
#: interpreter's: a Ctrl-C there is reported by Python. From main() on, the kit handles it.
STARTS = {
    "module": "import runpy; runpy.run_module('solutions', run_name='__main__', alter_sys=True)",
    "script": "raise SystemExit(solutions.cli.main())",  # what the console script runs
}
KIT_STARTS = r"""
import pathlib, sys
import solutions.cli
pathlib.Path(sys.argv[1]).write_text("main is next")
sys.argv = ["mnist-kit", *sys.argv[2:]]
"""


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.06, 0.1, 0.2, 0.35, 0.6])
@pytest.mark.parametrize("how", sorted(STARTS))
def test_ctrl_c_at_any_moment_of_start_up_is_never_a_traceback(tmp_path, delay, how):
    ready = tmp_path / "ready"
    command = [sys.executable, "-c", KIT_STARTS + STARTS[how], str(ready),
               "train", "--epochs", "3000", "--data", str(SAMPLE), "--weights", "w.npz"]
    process = subprocess.Popen(command, cwd=tmp_path, env=cli_environment(tmp_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: ready.exists() or process.poll() is not None)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    result = subprocess.CompletedProcess(command, process.returncode, "", stderr)
    assert "Traceback" not in stderr, f"Ctrl-C {delay} s into the kit's start-up" + describe(result)
    assert process.returncode == 130, describe(result)
    assert stderr.strip().splitlines() in (["mnist-kit: interrupted (Ctrl-C)"],
                                           ["mnist-kit train: interrupted (Ctrl-C)"],
                                           ["mnist-kit train: interrupted (Ctrl-C); no weights saved"]), describe(result)
    assert not (tmp_path / "w.npz").exists()


def test_training_writes_through_a_symlink_with_the_users_umask(tmp_path):
    (tmp_path / "shared").mkdir()
    target = tmp_path / "shared" / "weights.npz"
    target.write_bytes(b"old weights")
    (tmp_path / "w.npz").symlink_to(target)
    result = subprocess.run([sys.executable, "-m", "solutions", *TRAIN, "--weights", "w.npz"], cwd=tmp_path,
                            env=cli_environment(tmp_path), capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: os.umask(0o002))
    assert result.returncode == 0, describe(result)
    assert (tmp_path / "w.npz").is_symlink(), "the link stays a link"
    assert target.read_bytes()[:2] == b"PK", "its target holds the new weights"
    assert stat.S_IMODE(target.stat().st_mode) == 0o664, "the mode the umask gives (0o666 & ~0o002)"


def test_the_memory_limit_of_the_catalogue_bites():
    size = 2 * MEMORY_LIMIT
    result = subprocess.run([sys.executable, "-c", f"bytearray({size})"], preexec_fn=_limit_memory,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "MemoryError" in result.stderr, (
        "allocating twice the limit must fail, or the catalogue's bombs prove nothing"
    )


def test_the_last_resort_handler_is_one_line_naming_what_failed(capsys, monkeypatch):
    from solutions import cli
    from solutions.commands import evaluate

    def broken(args):
        return {}["no such key"]
    monkeypatch.setattr(evaluate, "run", broken)
    status = cli.main(["evaluate"])
    err = capsys.readouterr().err
    assert status == 1
    assert re.fullmatch(r"mnist-kit evaluate: unexpected error \(a bug in the kit, please report it\): "
                        r"KeyError: 'no such key' at test_hostile_processes\.py:\d+ in broken\(\)\n", err), err
