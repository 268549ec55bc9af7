"""Grading processes on this machine for `mnist-kit autograde`: N workers, one task at a time each.

    with LocalWorkers(2, deadline=660) as pool:
        pool.submit(task_id, payload)                  # payload: see grading_tasks.grade_task
        for task_id, outcome in pool.finished(timeout=0.5):
            ...

Each worker is a fresh interpreter, `python -m grading.frontends.local_workers FD`
(nothing of the submitting process is inherited: not nbgrader, not the gradebook's
connection), in a session of its own, so a Ctrl-C in the terminal reaches only the
submitting process, which ends the workers itself. Tasks and outcomes are pickled over
a socket pair (both ends are the kit's own code; the student's code runs further
inside, in the worker's sealed Sandbox, and answers it as data only).

Each runs with one BLAS thread (ONE_THREAD). A worker warms up before its first task: the checks of every stage imported, its
Sandbox started (`ready` says how long each took). A worker that dies, or whose task
is still running `deadline` seconds after the worker could start it, is ended and replaced,
and that task comes back as failed with the reason; the other tasks carry on.
"""

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any

from ..stages import REPO_ROOT

#: one BLAS thread per grading process: the checks' products are small, and several processes
#: already share the cores (two BLAS threads each made the reference's answers several times
#: slower on a busy 2-core machine)
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class _Worker:
    def __init__(self, number: int) -> None:
        mine, theirs = socket.socketpair()
        self.number = number
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grading.frontends.local_workers", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO_ROOT,
            env={**os.environ, **ONE_THREAD, "PYTHONDONTWRITEBYTECODE": "1"})
        theirs.close()
        self.conn = Connection(os.dup(mine.fileno()))
        mine.close()
        self.task: tuple[Any, float] | None = None  # (task id, when it was handed out)
        self.ready: dict[str, float] | None = None

    def stop(self, *, now: bool = False) -> None:
        if self.process.poll() is None:
            if not now:
                try:
                    self.conn.send(None)
                    self.process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if self.process.poll() is None:
                self.process.terminate()  # the worker closes its Sandbox on SIGTERM
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        self.conn.close()


class LocalWorkers:
    """`count` grading processes on this machine (see the module docstring)."""

    def __init__(self, count: int, *, deadline: float) -> None:
        self.count = max(1, int(count))
        self.deadline = deadline
        self.queue: deque[tuple[Any, dict]] = deque()
        self.payloads: dict[Any, dict] = {}
        self.workers = [_Worker(number) for number in range(self.count)]
        self.started_workers = len(self.workers)
        self.readiness: list[dict[str, float]] = []

    @property
    def description(self) -> str:
        return f"{self.count} worker{'s' if self.count != 1 else ''} on this machine"

    @property
    def capacity(self) -> int:
        """How many tasks to keep handed out at once (a little more than the workers, so none waits)."""
        return self.count * 2

    def __enter__(self) -> "LocalWorkers":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(now=exc_type is not None)

    def submit(self, task_id: Any, payload: dict) -> None:
        self.payloads[task_id] = payload
        self.queue.append((task_id, payload))
        self._dispatch()

    def _dispatch(self) -> None:
        for worker in self.workers:
            if not self.queue:
                return
            if worker.task is None:
                task_id, payload = self.queue.popleft()
                try:
                    worker.conn.send({"id": task_id, "payload": payload})
                except OSError:  # it died while idle: the next finished() replaces it
                    self.queue.appendleft((task_id, payload))
                    continue
                worker.task = (task_id, time.monotonic())

    def finished(self, timeout: float) -> list[tuple[Any, dict]]:
        """The tasks that ended within `timeout` seconds: (task id, outcome)."""
        done: list[tuple[Any, dict]] = []
        ready = wait([worker.conn for worker in self.workers], timeout)
        for worker in list(self.workers):
            if worker.conn in ready:
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError, pickle.UnpicklingError):
                    done.extend(self._replace(worker, "its grading process stopped unexpectedly"))
                    continue
                if "ready" in message:
                    worker.ready = message["ready"]
                    if worker.task is not None:  # the deadline counts from when it could start
                        worker.task = (worker.task[0], time.monotonic())
                    self.readiness.append({**message["ready"], "after": time.monotonic() - worker.started})
                    continue
                if worker.task is not None and message.get("id") == worker.task[0]:
                    done.append((worker.task[0], message["outcome"]))
                    self.payloads.pop(worker.task[0], None)
                    worker.task = None
            elif worker.task is not None and time.monotonic() - worker.task[1] > self.deadline:
                done.extend(self._replace(worker, f"grading took longer than {self.deadline:g} s, so its "
                                                  f"grading process was stopped"))
            elif worker.process.poll() is not None:
                done.extend(self._replace(worker, "its grading process stopped unexpectedly"))
        self._dispatch()
        return done

    def _replace(self, worker: _Worker, why: str) -> list[tuple[Any, dict]]:
        if self.started_workers > 3 * self.count + 20:
            raise RuntimeError(f"the grading processes on this machine keep stopping ({why})")
        lost = []
        if worker.task is not None:
            task_id = worker.task[0]
            payload = self.payloads.pop(task_id, {})
            code = worker.process.poll()
            lost.append((task_id, {"key": payload.get("key"), "ok": False, "seconds": 0.0,
                                   "error": why + (f" (exit status {code})" if code not in (None, 0) else "")}))
        worker.stop(now=True)
        self.workers[self.workers.index(worker)] = _Worker(worker.number)
        self.started_workers += 1
        return lost

    def close(self, *, now: bool = False) -> None:
        for worker in self.workers:
            worker.stop(now=now)
        self.workers = []


# ----------------------------------------------------------------------------- inside a worker
def serve(fd: int) -> None:
    """A worker's life: warm up, then grade each task it is sent until it is told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the submitting process
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    conn = Connection(fd)
    from . import grading_tasks

    try:
        began = time.monotonic()
        from ..checks.registry import list_checks

        list_checks()  # every stage's checks imported
        imported = time.monotonic()
        ready = {"imports": imported - began}
        try:
            grading_tasks.sandbox().start()
        except Exception as error:  # each task tries again, and says why it could not grade
            grading_tasks.close_sandbox()
            ready["problem"] = str(error)
        conn.send({"ready": {**ready, "sandbox": time.monotonic() - imported}})
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            conn.send({"id": message["id"], "outcome": grading_tasks.grade_task(message["payload"])})
    finally:
        grading_tasks.close_sandbox()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
