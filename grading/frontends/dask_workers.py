"""The grading tasks of `mnist-kit autograde --dask-scheduler ADDRESS`, on a Dask distributed cluster.

    with DaskWorkers("tcp://scheduler:8786") as pool:   # DaskUnavailable: one line saying why
        pool.submit(task_id, payload)
        for task_id, outcome in pool.finished(timeout=0.5): ...

The same interface as local_workers.LocalWorkers, and the same task: Dask runs
grading_tasks.grade_task on its workers (each grading thread with a Sandbox of its
own) and schedules, retries and balances them; this module only hands tasks over
and collects outcomes. The submitting process alone writes the gradebook: a worker
gets a sanitized notebook and gives back data.

Every worker must have the kit installed, the same version (`pip install
'mnist-kit[dask]'` from the same checkout or wheel): before grading, every worker
connected is asked for its kit fingerprint, and one that cannot import the kit or
has another version stops the run with a line naming it; a worker that joins later
refuses tasks of another version (grading_tasks.grade_task).
"""

import itertools
import time
import uuid
from typing import Any

from .grading_tasks import grade_task, kit_fingerprint

#: seconds to wait for the scheduler to answer
CONNECT_SECONDS = 10.0


class DaskUnavailable(RuntimeError):
    """The cluster cannot be used (no `distributed`, no scheduler at the address, a worker without the kit)."""


def _probe() -> str:
    from grading.frontends.grading_tasks import kit_fingerprint as fingerprint

    return fingerprint()


class DaskWorkers:
    """The grading tasks sent to the Dask scheduler at `address` (see the module docstring)."""

    def __init__(self, address: str, *, connect_seconds: float = CONNECT_SECONDS) -> None:
        try:
            import distributed
        except ImportError:
            raise DaskUnavailable("--dask-scheduler needs the `distributed` package: pip install "
                                  "'mnist-kit[dask]'") from None
        self.address = address
        try:
            self.client = distributed.Client(address, timeout=connect_seconds, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise DaskUnavailable(f"cannot reach the Dask scheduler at {address} ({reason})") from None
        self._distributed = distributed
        self.futures: dict[Any, Any] = {}
        self._names = itertools.count()
        self._asked, self._threads = -1e9, 1
        self._run = uuid.uuid4().hex[:8]
        try:
            self._check_workers()
        except BaseException:
            self.client.close()
            raise

    def _check_workers(self) -> None:
        ours = kit_fingerprint()
        try:
            theirs = self.client.run(_probe, on_error="return")
        except Exception as error:
            raise DaskUnavailable(f"the Dask workers at {self.address} could not be asked for their kit "
                                  f"({type(error).__name__}: {error})") from None
        for worker, answer in sorted(theirs.items()):
            if isinstance(answer, BaseException):
                raise DaskUnavailable(f"the Dask worker {worker} cannot run the kit's grading "
                                      f"({type(answer).__name__}: {answer}): install mnist-kit there")
            if answer != ours:
                raise DaskUnavailable(f"the Dask worker {worker} has another version of the kit's checks "
                                      f"(fingerprint {answer}, here {ours}): install the same mnist-kit there")

    @property
    def threads(self) -> int:
        """The cluster's grading threads (asked again every few seconds: workers come and go)."""
        now = time.monotonic()
        if now - self._asked > 5.0:
            self._asked = now
            try:
                self._threads = max(1, sum(self.client.nthreads().values()))
            except Exception:
                self._threads = 1
        return self._threads

    @property
    def description(self) -> str:
        workers = len(self.client.nthreads())
        return f"the Dask cluster at {self.address} ({workers} worker{'s' if workers != 1 else ''})"

    @property
    def capacity(self) -> int:
        return self.threads * 2 + 2

    def __enter__(self) -> "DaskWorkers":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, task_id: Any, payload: dict) -> None:
        key = f"mnist-kit-grade-{self._run}-{next(self._names)}"
        self.futures[task_id] = self.client.submit(grade_task, payload, key=key, pure=False)

    def finished(self, timeout: float) -> list[tuple[Any, dict]]:
        if not self.futures:
            return []
        try:
            self._distributed.wait(list(self.futures.values()), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        except Exception:  # the scheduler went away: the outcome of each future says so below
            pass
        done = []
        for task_id, future in list(self.futures.items()):
            if future.status == "pending":
                continue
            del self.futures[task_id]
            if future.status == "finished":
                try:
                    done.append((task_id, future.result()))
                    continue
                except Exception as error:
                    reason = f"{type(error).__name__}: {error}"
            elif future.status == "error":
                error = future.exception()
                reason = f"the Dask worker raised {type(error).__name__}: {error}"
            else:
                reason = f"the Dask task was {future.status} (a worker or the scheduler went away?)"
            done.append((task_id, {"ok": False, "seconds": 0.0, "error": reason}))
        return done

    def close(self, *, now: bool = False) -> None:
        for future in self.futures.values():
            future.cancel()
        self.futures = {}
        self.client.close()
