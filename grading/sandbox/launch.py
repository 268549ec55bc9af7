"""Starting the grading worker: which walls this machine allows, and what the worker may see.

The worker is `python -I -S kit_worker/boot.py CONFIG` (the base interpreter, no site,
no environment of ours), in a session of its own, with a clean environment and one
socket. What it can see is decided here:

    namespaces   "root" when this process is root, "user" when an unprivileged user may
                 make user namespaces, else "none" ($MNIST_KIT_SANDBOX overrides it:
                 root, user or none)
    binds        read-only views, at their own paths, of the Python installation (its
                 site-packages hidden), the system libraries, and exactly the installed
                 files of NumPy and matplotlib and their dependencies; the kit's
                 kit_helpers and kit_worker under /kit/lib. Nothing else exists inside:
                 not the kit, not the course, not a home folder.
    without namespaces, a folder of symbolic links to the same packages is the only
                 place on sys.path, so `import solutions` fails, though the files can
                 still be read by path (the report says so).
"""

import importlib.metadata
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .kit_worker import codec

KIT_WORKER = Path(__file__).resolve().parent / "kit_worker"
KIT_HELPERS = Path(__file__).resolve().parent.parent.parent / "kit_helpers"
#: the distributions whose installed files the worker may import
LEARNER_DISTRIBUTIONS = ("numpy", "matplotlib")
#: where the worker's writable folders are, inside its own root
WORK_INSIDE, TMP_INSIDE, LIB_INSIDE = "/worker", "/tmp", "/kit/lib"
#: system folders every Python needs (those that exist are bound read-only)
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/ld.so.conf",
                "/etc/ld.so.conf.d", "/etc/passwd", "/etc/group", "/etc/localtime")
STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class Limits:
    """What one learner program may use (a kernel and every process it starts).

    Attributes:
        memory_bytes: RLIMIT_AS of each process running learner code.
        cpu_seconds: RLIMIT_CPU of each such process (the wall-clock limits come first).
        processes: RLIMIT_NPROC (inside namespaces only).
        open_files: RLIMIT_NOFILE.   file_bytes: RLIMIT_FSIZE, the largest file it may write.
        disk_bytes, tmp_bytes: the sizes of its /worker and /tmp folders (inside namespaces).
    """

    memory_bytes: int = 1536 << 20
    cpu_seconds: int = 600
    processes: int = 256
    open_files: int = 256
    file_bytes: int = 64 << 20
    disk_bytes: int = 256 << 20
    tmp_bytes: int = 64 << 20


class SandboxError(RuntimeError):
    """The worker could not be started (the message says why)."""


@lru_cache(maxsize=None)
def containment_kind() -> str:
    """"root", "user" or "none": the strongest kind of namespaces this process can use."""
    forced = os.environ.get("MNIST_KIT_SANDBOX", "").strip().lower()
    if forced in ("root", "user", "none"):
        return forced
    if not sys.platform.startswith("linux"):
        return "none"
    if os.geteuid() == 0:
        return "root"
    probe = ("import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); "
             "sys.exit(0 if libc.unshare(0x10000000 | 0x20000 | 0x40000000) == 0 else 1)")
    try:
        result = subprocess.run([_python(), "-I", "-S", "-c", probe], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "none"
    return "user" if result.returncode == 0 else "none"


def _python() -> str:
    """The base interpreter (not a virtual environment's launcher)."""
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


@lru_cache(maxsize=None)
def learner_package_files() -> tuple[Path, ...]:
    """The top-level files and folders (in site-packages) of NumPy, matplotlib and their dependencies.

    Read from each distribution's RECORD (the list of files pip installed), following
    its requirements; extras are not followed.
    """
    entries: set[Path] = set()
    seen: set[str] = set()
    todo = list(LEARNER_DISTRIBUTIONS)
    while todo:
        key = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = importlib.metadata.distribution(key)
        except importlib.metadata.PackageNotFoundError:
            continue
        record = distribution.read_text("RECORD") or ""
        tops = {re.split(r"[/,]", line, maxsplit=1)[0] for line in record.splitlines() if line}
        for top in tops - {"..", "__pycache__", ""}:
            if not top.endswith(".pth"):
                entries.add(Path(distribution.locate_file(top)).resolve())
        for requirement in distribution.requires or []:
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
            if match and "extra ==" not in requirement:
                todo.append(match.group(0))
    forbidden = {"solutions", "grading", "kit_helpers", "tests", "exercises"}
    return tuple(sorted(p for p in entries if p.exists() and p.name not in forbidden))


def _site_folders() -> list[Path]:
    """Every site-packages folder of this interpreter and of its base installation."""
    folders = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    base = {"base": sys.base_prefix, "platbase": sys.base_prefix}
    folders |= {Path(sysconfig.get_paths(vars=base)[key]).resolve() for key in ("purelib", "platlib")}
    return sorted(f for f in folders if f.exists())


def worker_view() -> tuple[list[list[str]], list[str]]:
    """(binds: [host path, path inside, "ro"|"empty"], the site-packages folders on sys.path)."""
    binds: list[list[str]] = []
    for path in SYSTEM_PATHS:
        if os.path.lexists(path):
            binds.append([path, path, "link" if os.path.islink(path) else "ro"])
    prefix = os.path.realpath(sys.base_prefix)
    if not any(prefix == p or prefix.startswith(p.rstrip("/") + "/") for p in SYSTEM_PATHS):
        binds.append([prefix, prefix, "ro"])
    python = _python()
    if not python.startswith(prefix + "/") and not any(python.startswith(p + "/") for p in SYSTEM_PATHS):
        binds.append([python, python, "ro"])
    sites = _site_folders()
    for site in sites:  # hide whatever is installed there; only the learner's packages come back
        binds.append([str(site), str(site), "empty"])
    for entry in learner_package_files():
        binds.append([str(entry), str(entry), "ro"])
    binds.append([str(KIT_WORKER), f"{LIB_INSIDE}/kit_worker", "ro"])
    binds.append([str(KIT_HELPERS), f"{LIB_INSIDE}/kit_helpers", "ro"])
    used = sorted({str(entry.parent) for entry in learner_package_files()})
    return binds, used


def _symlink_farm(folder: Path) -> tuple[list[str], list[str]]:
    """Without namespaces: folders of symbolic links holding only what the worker may import."""
    site, lib = folder / "site-packages", folder / "lib"
    site.mkdir(parents=True)
    lib.mkdir()
    for entry in learner_package_files():
        (site / entry.name).symlink_to(entry)
    (lib / "kit_worker").symlink_to(KIT_WORKER)
    (lib / "kit_helpers").symlink_to(KIT_HELPERS)
    return [str(site)], [str(lib)]


#: as root, each worker runs as its own uid from this range (no account needs to exist): the
#: process limit (RLIMIT_NPROC counts a uid's processes machine-wide) and what a process may
#: signal are then its own, even with several workers grading side by side
UID_RANGE = (1_900_000_000, 2_000_000_000)


def _unused_uid() -> int:
    """A uid of UID_RANGE that no running process has."""
    used = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                used.add(os.stat(f"/proc/{entry}").st_uid)
            except OSError:
                pass
    while True:
        uid = random.randrange(*UID_RANGE)
        if uid not in used:
            return uid


class Launched:
    """A started worker: its process, its control socket, what it reported, its host folder."""

    def __init__(self, process: subprocess.Popen, control: socket.socket, report: list[str],
                 folder: Path, kind: str, work: str, log: Path) -> None:
        self.process, self.control, self.report = process, control, report
        self.folder, self.kind, self.work, self.log = folder, kind, work, log

    def kill(self) -> None:
        """End the worker and everything it started, and remove its host folder."""
        try:
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.kill()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.control.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def launch(limits: Limits, preload: tuple[str, ...] = ("numpy",)) -> Launched:
    """Start a worker and wait until it is ready (SandboxError when it cannot start)."""
    kind = containment_kind()
    folder = Path(tempfile.mkdtemp(prefix="mnist-kit-worker-"))
    os.chmod(folder, 0o755)
    parent_end, child_end = socket.socketpair()
    uid = _unused_uid() if kind == "root" else os.getuid()
    config = {"namespaces": kind, "control_fd": child_end.fileno(), "preload": list(preload),
              "uid": uid, "gid": uid, "disk_bytes": limits.disk_bytes, "tmp_bytes": limits.tmp_bytes,
              "processes": limits.processes, "open_files": limits.open_files, "file_bytes": limits.file_bytes}
    if kind == "none":
        site_packages, learner_paths = _symlink_farm(folder / "view")
        work, tmp = str(folder / "worker"), str(folder / "tmp")
        os.makedirs(tmp)
        config.update(root=None, binds=[], work=work, tmp=tmp, site_packages=site_packages, learner_paths=learner_paths)
    else:
        binds, site_packages = worker_view()
        root = folder / "root"
        root.mkdir()
        work, tmp = WORK_INSIDE, TMP_INSIDE
        config.update(root=str(root), binds=binds, work=work, tmp=tmp, site_packages=site_packages,
                      learner_paths=[LIB_INSIDE])
    log = folder / "worker.log"
    environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": work, "TMPDIR": tmp,
                   "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    with open(log, "wb") as stderr:
        process = subprocess.Popen([_python(), "-I", "-S", "-B", str(KIT_WORKER / "boot.py"), json.dumps(config)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                   pass_fds=[child_end.fileno()], start_new_session=True, cwd=folder,
                                   env=environment)
    child_end.close()
    launched = Launched(process, parent_end, [], folder, kind, work, log)
    try:
        header, _, _ = codec.receive_message(parent_end, deadline=time.monotonic() + STARTUP_SECONDS)
    except codec.ChannelError as error:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        launched.kill()
        raise SandboxError(f"the grading worker did not start ({error}){': ' + tail.strip() if tail.strip() else ''}")
    if header.get("op") != "ready":
        launched.kill()
        raise SandboxError(str(header.get("message") or "the grading worker did not start"))
    launched.report = [str(line) for line in header.get("report", [])]
    return launched
