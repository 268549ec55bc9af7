"""The sealed grading worker: for every wall it claims, the attack that would break it.

Each test runs hostile learner code in a real worker (grading/sandbox) and checks that
the wall held. The attacks stay bounded: small limits, short timeouts, temporary
folders, a server on 127.0.0.1 only, and every process they start is gone when the
test ends (checked on this machine's /proc).

The walls need Linux namespaces (root, or user namespaces); where they are missing
the tests skip, unless MNIST_KIT_REQUIRE_SANDBOX=1 (set by .ci/run) makes that a failure.
"""

import io
import os
import re
import socket
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import grading
import solutions.activations
from grading.sandbox import Limits, Sandbox, containment_kind, launch
from grading.sandbox.kit_worker import codec
from grading.stages import REPO_ROOT

NEEDS_NAMESPACES = "needs Linux namespaces (run as root, or allow user namespaces)"


def _require_namespaces() -> None:
    if containment_kind() == "none":
        if os.environ.get("MNIST_KIT_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"MNIST_KIT_REQUIRE_SANDBOX=1, but the sandbox {NEEDS_NAMESPACES}")
        pytest.skip(NEEDS_NAMESPACES)


@pytest.fixture(scope="module")
def sandbox():
    _require_namespaces()
    with Sandbox(Limits(memory_bytes=768 << 20, processes=48, file_bytes=8 << 20, disk_bytes=32 << 20,
                        tmp_bytes=8 << 20)) as box:
        yield box


def run(sandbox: Sandbox, source: str, function: str = "attack", *args, timeout: float = 10.0):
    """Load `source` as a learner module in a fresh program and call `function` once."""
    kernel = sandbox.load({"kind": "modules", "main": "m", "proxies": [],
                           "modules": [{"name": "m", "filename": "m.py", "source": textwrap.dedent(source)}]},
                          timeout=10)
    assert kernel.problem is None, kernel.problem
    with kernel.fork() as worker:
        return worker.call(function, args, {}, timeout=timeout, answer=_no_callbacks)


def _no_callbacks(name, args, kwargs):
    raise RuntimeError("no callbacks here")


def _uid_of(sandbox: Sandbox) -> int:
    match = re.search(r"uid (\d+)", " ".join(sandbox.report))
    return int(match.group(1)) if match else os.getuid()


def _processes_of(uid: int) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if re.search(rf"^Uid:\s+{uid}\s", status, re.MULTILINE):
            found.append(entry)
    return found


# ------------------------------------------------------------------ what it can see
def test_the_report_says_which_walls_hold(sandbox: Sandbox) -> None:
    report = "\n".join(sandbox.report)
    for wall in ("namespaces: PID, mount, network", "files: an empty root", "limits:", "privileges:"):
        assert wall in report, report


def test_the_reference_the_checks_and_the_course_are_not_there(sandbox: Sandbox, tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "gradebook.db").write_bytes(b"SQLite format 3\0")
    targets = [str(Path(solutions.activations.__file__)), str(REPO_ROOT / "grading" / "checks"),
               str(REPO_ROOT / "tests"), str(course / "gradebook.db"), str(Path.home()), str(REPO_ROOT)]
    # what may stand in the home folder: the first folder of the path to Python, if Python is there
    python_home = Path(os.path.realpath(sys.base_prefix))
    allowed_home = ([python_home.relative_to(Path.home()).parts[0]]
                    if python_home.is_relative_to(Path.home()) else [])
    outcome = run(sandbox, f"""
        import os
        def attack():
            seen = {{}}
            for path in {targets!r}:
                try:
                    seen[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path, "rb").read(16)
                except OSError as error:
                    seen[path] = type(error).__name__
            for name in ("solutions", "grading", "tests"):
                try:
                    __import__(name)
                    seen[name] = "imported"
                except ImportError as error:
                    seen[name] = type(error).__name__
            return seen
    """)
    assert outcome.kind == "returned", outcome
    seen = outcome.value
    for path in targets[:4]:
        assert seen[path] == "FileNotFoundError", (path, seen[path])
    assert seen[str(Path.home())] in ("FileNotFoundError", allowed_home), seen[str(Path.home())]
    assert seen[str(REPO_ROOT)] in ("FileNotFoundError", [".venv"], []), seen[str(REPO_ROOT)]
    assert seen["solutions"] == seen["grading"] == seen["tests"] == "ModuleNotFoundError"


def test_nothing_it_can_see_is_writable(sandbox: Sandbox) -> None:
    import numpy
    targets = [os.path.dirname(numpy.__file__), "/usr/lib", "/kit/lib/kit_helpers", "/", "/etc"]
    outcome = run(sandbox, f"""
        import os
        def attack():
            result = {{}}
            for folder in {targets!r}:
                try:
                    with open(os.path.join(folder, "planted.pth"), "w") as file:
                        file.write("import os; os.system('touch /tmp/owned')")
                    result[folder] = "written"
                except OSError as error:
                    result[folder] = type(error).__name__
            return result
    """)
    assert outcome.kind == "returned", outcome
    assert all(value != "written" for value in outcome.value.values()), outcome.value
    assert not os.path.exists(os.path.join(targets[0], "planted.pth"))


def test_no_network_not_even_this_machine(sandbox: Sandbox) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted = []

    def accept():
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        outcome = run(sandbox, f"""
            import socket
            def attack():
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"grades")
                    return "connected"
                except OSError as error:
                    return type(error).__name__
        """)
    finally:
        thread.join()
        server.close()
    assert outcome.kind == "returned" and outcome.value != "connected", outcome
    assert not accepted


# ------------------------------------------------------------------ what it can do
def test_no_process_it_starts_outlives_its_program(sandbox: Sandbox) -> None:
    uid = _uid_of(sandbox)
    outcome = run(sandbox, """
        import os, subprocess
        def attack():
            if os.fork() == 0:          # a grandchild that leaves the session, then sleeps
                os.setsid()
                subprocess.Popen(["sleep", "987.6"], start_new_session=True)
                os._exit(0)
            subprocess.Popen(["sleep", "987.6"])
            return os.getpid()
    """)
    assert outcome.kind == "returned", outcome
    time.sleep(0.3)
    sleeping = [pid for pid in _processes_of(uid)
                if "987.6" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
    assert sleeping, "the attack did not start its processes"
    sandbox.reset()
    time.sleep(0.3)
    assert not [pid for pid in _processes_of(uid) if os.path.exists(f"/proc/{pid}/cmdline")
                and "987.6" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]


def test_a_fork_bomb_stops_at_the_process_limit(sandbox: Sandbox) -> None:
    uid = _uid_of(sandbox)
    outcome = run(sandbox, """
        import os, time
        def attack():
            started = 0
            try:
                while True:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    started += 1
            except OSError as error:
                return started, type(error).__name__
    """, timeout=20)
    assert outcome.kind == "returned", outcome
    started, error = outcome.value
    assert started < 48 and error == "BlockingIOError", outcome.value
    sandbox.reset()
    time.sleep(0.3)
    assert len(_processes_of(uid)) <= 1  # the zygote only


def test_memory_is_limited_and_a_big_allocation_costs_only_its_call(sandbox: Sandbox) -> None:
    outcome = run(sandbox, """
        import numpy as np
        def attack():
            return np.ones(2 * 1024**3 // 8).sum()
    """)
    assert outcome.kind == "raised" and outcome.raised == "memory", outcome
    assert run(sandbox, "def attack():\n    return 42\n").value == 42


def test_files_are_limited_in_size_and_in_total(sandbox: Sandbox) -> None:
    outcome = run(sandbox, """
        import os
        def attack():
            results = []
            for size, count in ((16 << 20, 1), (6 << 20, 8)):
                try:
                    for index in range(count):
                        with open(f"big{size}_{index}", "wb") as file:
                            file.write(b"x" * size)
                    results.append("written")
                except OSError as error:
                    results.append(error.errno)
            return results
    """)
    import errno
    assert outcome.kind == "returned", outcome
    assert outcome.value == [errno.EFBIG, errno.ENOSPC], outcome.value


def test_a_loop_that_swallows_every_interrupt_is_ended(sandbox: Sandbox) -> None:
    started = time.monotonic()
    outcome = run(sandbox, """
        import signal
        def attack():
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
                signal.signal(number, signal.SIG_IGN)
            while True:
                try:
                    pass
                except BaseException:
                    pass
    """, timeout=1.0)
    assert outcome.kind == "timed out" and time.monotonic() - started < 8, outcome
    assert run(sandbox, "def attack():\n    return 'next'\n").value == "next"


def test_the_zygote_cannot_be_killed_or_read(sandbox: Sandbox) -> None:
    outcome = run(sandbox, """
        import os, signal
        def attack():
            result = {}
            for number in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
                try:
                    os.kill(1, number)
                    result[number] = "sent"
                except OSError as error:
                    result[number] = type(error).__name__
            for what in ("mem", "environ", "maps"):
                try:
                    open(f"/proc/1/{what}", "rb").read(10)
                    result[what] = "read"
                except OSError as error:
                    result[what] = type(error).__name__
            return result
    """)
    assert outcome.kind == "returned", outcome
    assert outcome.value["mem"] != "read" and outcome.value["environ"] != "read", outcome.value
    assert run(sandbox, "def attack():\n    return 'still here'\n").value == "still here"


def test_a_worker_that_writes_garbage_on_its_channel_fails_alone(sandbox: Sandbox) -> None:
    outcome = run(sandbox, """
        import os, socket
        def attack():
            for fd in map(int, os.listdir("/proc/self/fd")):
                try:
                    if socket.socket(fileno=os.dup(fd)).type == socket.SOCK_STREAM:
                        os.write(fd, b"MKW1" + b"\\xff" * 64)
                except OSError:
                    pass
            return "sent"
    """)
    assert outcome.kind == "crashed", outcome
    assert run(sandbox, "def attack():\n    return 1\n").value == 1


# ------------------------------------------------------------------ the checks cannot be fooled
def test_patching_numpy_changes_only_the_returned_values() -> None:
    _require_namespaces()
    program = grading.LearnerProgram.from_source("01", textwrap.dedent("""
        import numpy as np
        np.allclose = lambda *args, **kwargs: True
        np.array_equal = lambda *args, **kwargs: True
        np.isclose = lambda *args, **kwargs: True
        def relu(Z):
            return Z
    """))
    with pytest.raises(grading.GradingError, match="the result has the wrong values"):
        grading.run_checks("01", "relu", program)


def test_breaking_the_workers_own_machinery_fails_and_never_passes() -> None:
    _require_namespaces()
    program = grading.LearnerProgram.from_source("01", textwrap.dedent("""
        import builtins, json
        builtins.isinstance = lambda *args: True
        json.dumps = lambda *args, **kwargs: '{"op": "returned", "value": null}'
        def relu(Z):
            return Z
    """))
    with pytest.raises(grading.GradingError) as caught:
        grading.run_checks("01", "relu", program)
    assert not caught.value.check or "wrong" in str(caught.value), str(caught.value)


def test_a_helper_called_back_cannot_be_the_function_graded(tmp_path: Path) -> None:
    """While relu is graded, the reference answers the stage's OTHER functions only."""
    _require_namespaces()
    program = grading.LearnerProgram.from_source("01", textwrap.dedent("""
        import kit_worker.calls as calls
        def relu(Z):
            return calls.stub("relu")(Z)
        def softmax(Z):
            return calls.stub("softmax")(Z)
    """))
    with pytest.raises(grading.GradingError, match=r"relu\(\): raised RuntimeError: relu\(\) is not available to relu"):
        grading.run_checks("01", "relu", program)


# ------------------------------------------------------------------ the channel
def _frame(header: dict, blobs: list[bytes]) -> socket.socket:
    mine, theirs = socket.socketpair()
    codec.send_message(theirs, header, blobs)
    theirs.close()
    return mine


def test_the_channel_never_unpickles() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    header, blobs, _ = codec.receive_message(_frame({"value": {"array": 0}}, [buffer.getvalue()]))
    with pytest.raises(codec.ChannelError, match="not a valid .npy blob|may not cross"):
        codec.Decoder(blobs).decode(header["value"])


@pytest.mark.parametrize("tree, problem", [
    ({"list": [1] * 10}, None),
    ([1, 2], "untagged list"),
    ({"eval": "__import__('os')"}, "tagged 'eval'"),
    ({"array": 3}, "does not hold"),
    ({"float": "1e400" * 20}, "float that is not one"),
    ({"int": "9" * 10_000}, "integer that is not one"),
    ({"generator": {"dict": [["bit_generator", "Evil"]]}}, "unknown kind"),
])
def test_the_channel_refuses_what_is_not_data(tree, problem) -> None:
    if problem is None:
        assert codec.Decoder([]).decode(tree) == [1] * 10
        return
    with pytest.raises(codec.ChannelError, match=problem):
        codec.Decoder([]).decode(tree)


def test_the_channel_refuses_deep_nesting_and_oversized_messages() -> None:
    deep: dict = {"float": "0x1p+0"}
    for _ in range(100):
        deep = {"list": [deep]}
    with pytest.raises(codec.ChannelError, match="too deeply"):
        codec.Decoder([]).decode(deep)
    big = _frame({"op": "x"}, [b"\0" * 2048])
    with pytest.raises(codec.ChannelError, match="over the limit"):
        codec.receive_message(big, max_bytes=1024)
    garbage = socket.socketpair()
    garbage[1].sendall(b"GET / HTTP/1.1\r\n")
    with pytest.raises(codec.ChannelError, match="not a message"):
        codec.receive_message(garbage[0])


def test_values_cross_and_come_back_as_they_were() -> None:
    value = (None, True, 3, -2**70, 1.5, float("nan"), "text", [1, 2], {"loss": [0.5]}, Path("a/b.npz"),
             np.float32(2.5), np.arange(6, dtype=np.int8).reshape(2, 3), np.random.default_rng(3))
    tree, blobs = codec.encode_value(value)
    back = codec.Decoder(blobs).decode(tree)
    assert back[:5] == value[:5] and np.isnan(back[5]) and back[6:10] == value[6:10]
    assert type(back[10]) is np.float32 and back[10] == 2.5
    assert back[11].dtype == np.int8 and np.array_equal(back[11], value[11])
    assert back[12].random() == np.random.default_rng(3).random()


# ------------------------------------------------------------------ other kinds of walls
@pytest.mark.parametrize("kind", ["user", "none"])
def test_the_other_kinds_of_walls_still_keep_the_reference_out_of_reach(kind: str, monkeypatch) -> None:
    if kind == "user":
        _require_namespaces()
    monkeypatch.setenv("MNIST_KIT_SANDBOX", kind)
    launch.containment_kind.cache_clear()
    try:
        with Sandbox() as box:
            outcome = run(box, f"""
                import os
                def attack():
                    try:
                        import solutions
                        imported = "imported"
                    except ImportError:
                        imported = "refused"
                    return imported, os.path.exists({str(Path(solutions.activations.__file__))!r})
            """)
            report = "\n".join(box.report)
    finally:
        launch.containment_kind.cache_clear()
    assert outcome.kind == "returned", outcome
    imported, readable = outcome.value
    assert imported == "refused"
    if kind == "user":
        assert not readable and "user namespace with no capabilities" in report
    else:  # without namespaces the files stay readable by path, and the report says so
        assert readable and "every file this user can read" in report


def test_packages_installed_under_tmp_are_seen_and_survive_the_clean_up(tmp_path: Path, monkeypatch) -> None:
    """A kit cloned into `mktemp -d` has its virtual environment under /tmp, where the worker mounts
    its own empty /tmp: the packages are bound on top of it, stay there when a reset empties /tmp,
    and the folders that lead to them are not the learner's to write."""
    _require_namespaces()
    if not str(tmp_path).startswith("/tmp/"):
        pytest.skip(f"pytest's temporary folder {tmp_path} is not under /tmp")
    site = tmp_path / "site-packages"
    (site / "extra_pkg").mkdir(parents=True)
    (site / "extra_pkg" / "__init__.py").write_text("VALUE = 42\n")
    installed = launch.learner_package_files()
    monkeypatch.setattr(launch, "learner_package_files", lambda: (*installed, site / "extra_pkg"))
    attack = f"""
        import os
        import extra_pkg

        def attack():
            left = sorted(os.listdir("/tmp/leftover")) if os.path.exists("/tmp/leftover") else None
            os.makedirs("/tmp/leftover", exist_ok=True)
            open("/tmp/leftover/note", "w").write("from the last student")
            try:
                open({str(tmp_path / 'planted')!r}, "w").write("x")
                planted = "written"
            except OSError as error:
                planted = type(error).__name__
            return [extra_pkg.VALUE, left, planted]
    """
    with Sandbox(Limits(memory_bytes=768 << 20, processes=48, file_bytes=8 << 20, disk_bytes=32 << 20,
                        tmp_bytes=8 << 20)) as box:
        first = run(box, attack)
        box.reset()
        second = run(box, attack)
    assert first.kind == "returned" and first.value == [42, None, "PermissionError"], first
    assert second.kind == "returned" and second.value == [42, None, "PermissionError"], second  # /tmp emptied
    assert not (tmp_path / "planted").exists()
