"""The worker's clean first process: it never runs learner code, it forks the processes that do.

After containment.enter and the imports (NumPy; matplotlib when asked), the zygote
answers the checker on its control socket:

    {"op": "kernel", "memory_bytes": N, "cpu_seconds": S} + a socket -> {"op": "forked"}
        fork a kernel (kernel.py) in a fresh folder /worker/kN, with its own limits
    {"op": "reset"} -> {"op": "reset"}
        kill every other process of the worker and empty /worker and /tmp: whatever a
        learner program left behind (a child, a file, a loop that ignores signals) is gone
    {"op": "fs", "action": "mkdir" | "list" | "read" | "write" | "link" | "exists", ...}
        file operations inside /worker/scratch for the checks (save_params writes a file
        there, a check reads it back): done here, where no learner code can interfere
    {"op": "exit"}

Inside a PID namespace the zygote is PID 1, so every process the learner starts is
its descendant or orphan, and `kill(-1)` ends them all; without namespaces it kills
the process groups of the kernels it started (a process that leaves its group is
out of reach there: containment's report says so).
"""

import errno
import os
import resource
import select
import shutil
import signal
import socket
import stat

from . import codec, kernel

MAX_FILE_READ = 64 << 20


class Zygote:
    def __init__(self, sock: socket.socket, config: dict) -> None:
        self.sock = sock
        self.config = config
        self.work = config["work"]
        self.is_init = os.getpid() == 1
        self.kernels: list[int] = []
        self.count = 0
        # binds inside the writable folders (a virtual environment under /tmp): kept by the clean-up
        writable = [folder for folder in (self.work, config.get("tmp")) if folder]
        self.kept = {inside for _, inside, _ in config.get("binds") or []
                     if any(inside.startswith(folder + "/") for folder in writable)}
        self.leading: set[str] = set()  # the folders between a writable folder and a kept bind
        for kept in self.kept:
            parent = os.path.dirname(kept)
            while parent not in writable and parent != "/":
                self.leading.add(parent)
                parent = os.path.dirname(parent)
        self._fresh_folders()

    # ------------------------------------------------------------ the loop
    def serve(self) -> None:
        while True:
            self._reap()
            ready, _, _ = select.select([self.sock], [], [], 1.0)
            if not ready:
                continue
            try:
                header, blobs, fds = codec.receive_message(self.sock, want_fds=1)
            except codec.ChannelError:
                self._kill_everyone()
                return
            op = header.get("op")
            if op == "kernel" and len(fds) == 1:
                self._fork_kernel(header, fds[0])
                codec.send_message(self.sock, {"op": "forked"})
                continue
            codec.close_fds(fds)
            if op == "reset":
                self._kill_everyone()
                self._fresh_folders()
                codec.send_message(self.sock, {"op": "reset"})
            elif op == "fs":
                answer, data = self._file_operation(header, blobs)
                codec.send_message(self.sock, answer, data)
            else:
                self._kill_everyone()
                return

    # ------------------------------------------------------------ processes
    def _fork_kernel(self, request: dict, fd: int) -> None:
        self.count += 1
        folder = os.path.join(self.work, f"k{self.count}")
        os.makedirs(folder, exist_ok=True)
        pid = os.fork()
        if pid:
            os.close(fd)
            self.kernels.append(pid)
            return
        try:
            self.sock.close()
            if not self.is_init:
                os.setpgid(0, 0)  # its own group, so that reset can end it and its children
            memory = int(request.get("memory_bytes") or 0)
            if memory:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            cpu = int(request.get("cpu_seconds") or 0)
            if cpu:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
            os.chdir(folder)
            os.environ.update(HOME=folder, TMPDIR=folder)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            kernel.run(socket.socket(fileno=fd))
        finally:
            os._exit(0)

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.kernels:
                self.kernels.remove(pid)

    def _kill_everyone(self) -> None:
        if self.is_init:
            try:
                os.kill(-1, signal.SIGKILL)  # from PID 1: every other process of the namespace
            except ProcessLookupError:
                pass
        else:
            for pid in self.kernels:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
        self.kernels.clear()

    # ------------------------------------------------------------ files
    def _fresh_folders(self) -> None:
        for folder in (self.work, self.config.get("tmp")):
            if folder and os.path.isdir(folder):
                self._empty(folder)
        for sub in ("scratch", ".matplotlib"):
            os.makedirs(os.path.join(self.work, sub), exist_ok=True)

    def _empty(self, folder: str) -> None:
        """Remove everything in `folder` but the kept binds and the folders that lead to them."""
        for entry in os.listdir(folder):
            path = os.path.join(folder, entry)
            if path in self.kept:
                continue
            if path in self.leading:
                self._empty(path)
            else:
                _remove(path)

    def _inside_scratch(self, relative: object) -> str:
        if not isinstance(relative, str) or "\0" in relative or os.path.isabs(relative):
            raise ValueError("not a relative path")
        base = os.path.realpath(os.path.join(self.work, "scratch"))
        path = os.path.realpath(os.path.join(base, relative))
        if path != base and not path.startswith(base + os.sep):
            raise ValueError("outside the scratch folder")
        return path

    def _file_operation(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        action = header.get("action")
        try:
            path = self._inside_scratch(header.get("path", ""))
            if action == "mkdir":
                os.makedirs(path, exist_ok=True)
                return {"op": "fs", "path": path}, []
            if action == "exists":
                return {"op": "fs", "exists": os.path.lexists(path), "is_file": os.path.isfile(path)}, []
            if action == "list":
                names = []
                for folder, dirs, files in os.walk(path):
                    for name in dirs + files:
                        names.append(os.path.relpath(os.path.join(folder, name), path))
                        if len(names) > 10_000:
                            break
                return {"op": "fs", "names": sorted(names)}, []
            if action == "read":
                with open(path, "rb") as file:
                    data = file.read(MAX_FILE_READ + 1)
                if len(data) > MAX_FILE_READ:
                    return {"op": "fs", "error": "the file is larger than the checks read"}, []
                return {"op": "fs", "size": len(data)}, [data]
            if action == "write" and len(blobs) == 1:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as file:
                    file.write(blobs[0])
                return {"op": "fs"}, []
            if action == "link":
                os.link(path, self._inside_scratch(header.get("target", "")))
                return {"op": "fs"}, []
        except (OSError, ValueError) as error:
            return {"op": "fs", "error": f"{type(error).__name__}: {error}"}, []
        return {"op": "fs", "error": f"unknown file operation {action!r}"}, []


def _remove(path: str) -> None:
    """Remove a file or a whole tree, even one the learner made read-only."""
    def retry(function, target, _):
        try:
            os.chmod(os.path.dirname(target), stat.S_IRWXU)
            os.chmod(target, stat.S_IRWXU)
            function(target)
        except OSError:
            pass
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, onerror=retry)
        else:
            os.unlink(path)
    except OSError as error:
        if error.errno != errno.ENOENT:
            pass
