"""Shutting the grading worker in, before any learner code exists in it (Linux; elsewhere, less).

`enter(config)` runs first thing in the worker's first process and applies every
layer the machine allows, returning one line per layer saying whether it held:

    own process group   the checker kills the whole group when grading ends
    namespaces          new PID, mount, network, IPC and UTS namespaces (as root, or in a
                        user namespace when an unprivileged user may make one): every
                        process the learner starts dies with the worker's first process,
                        no network but a loopback that is down, no view of other processes
    an empty root       a new root file system on tmpfs holding only read-only copies (bind
                        mounts) of Python, the system libraries, NumPy and matplotlib, and
                        this folder; the course, the kit, the gradebook and every home
                        folder are simply not there; /worker and /tmp are small tmpfs folders
    another user        as root: every uid and gid become one no account uses (one per
                        worker), so nothing outside would be writable even if it were there;
                        in a user namespace: no capability is left
    limits              RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_FSIZE, RLIMIT_CORE=0 (RLIMIT_AS
                        and RLIMIT_CPU are set per process by the zygote)
    no new privileges   PR_SET_NO_NEW_PRIVS, and the process is not dumpable (not ptrace-able)

Where a layer is refused (not root and no user namespaces, or not Linux) the
worker still runs, with fewer walls, and the report says which are missing.
"""

import ctypes
import os
import resource
import signal
import sys
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
#: device files a Python process may need, bound read-write into the new root
DEVICES = ("null", "zero", "full", "random", "urandom")


class ContainmentError(OSError):
    """A layer that the machine said it allows failed half-way: the worker must not run."""


def _libc() -> "ctypes.CDLL | None":
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise ContainmentError(errno, f"{what}: {os.strerror(errno)}")


def prctl(libc: "ctypes.CDLL | None", option: int, value: int) -> bool:
    if libc is None:
        return False
    return libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) == 0


def enter(config: dict) -> list[str]:
    """Apply every containment layer the machine allows; return the report lines.

    `config` (from the checker, see grading/sandbox/launch.py):
        namespaces: "root" | "user" | "none"   which kind of namespaces to try
        root: a host folder to build the new root on (empty)
        binds: [[host path, path inside], ...]  read-only views of Python and the packages
        uid, gid: the unprivileged user (as root)
        disk_bytes, tmp_bytes: sizes of /work and /tmp
        processes, open_files, file_bytes: limits
    """
    libc = _libc()
    report: list[str] = []
    prctl(libc, PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the checker that started us
    kind = config.get("namespaces", "none") if libc is not None else "none"
    if kind in ("root", "user"):
        try:
            _namespaces(libc, kind, config)
            report.append("namespaces: PID, mount, network, IPC and UTS (no network, no other processes)")
            _new_root(libc, config)
            report.append("files: an empty root holding only Python, the libraries and NumPy/matplotlib, read-only")
            if kind == "root":
                _drop_to_user(config["uid"], config["gid"])
                report.append(f"user: every process runs as uid {config['uid']} (nothing outside is writable)")
            else:
                _drop_capabilities(libc)
                report.append("user: a user namespace with no capabilities left")
        except ContainmentError as error:
            raise ContainmentError(error.errno, f"sealed grading could not shut the worker in: {error.strerror}")
    else:
        report.append("namespaces: not available here (not Linux, or neither root nor user namespaces): "
                      "the graded code can see the network, other processes and every file this user can read")
        os.makedirs(config["work"], exist_ok=True)
    _limits(config, report, per_namespace_processes=kind in ("root", "user"))
    if prctl(libc, PR_SET_NO_NEW_PRIVS, 1) and prctl(libc, PR_SET_DUMPABLE, 0):
        report.append("privileges: no new privileges, not traceable by the graded code")
    if kind == "none":
        prctl(libc, PR_SET_CHILD_SUBREAPER, 1)  # orphans of the graded code come back to us
    prctl(libc, PR_SET_PDEATHSIG, signal.SIGKILL)  # changing uid cleared it: set it again
    return report


# ------------------------------------------------------------------ namespaces
def _namespaces(libc: ctypes.CDLL, kind: str, config: dict) -> None:
    """Enter new namespaces and fork: the child goes on as PID 1, this process waits and exits."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if kind == "user":
        flags |= CLONE_NEWUSER
    _check(libc.unshare(flags), "unshare")
    if kind == "user":
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    child = os.fork()
    if child:  # the first process stays outside the PID namespace: it waits, then leaves
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) if status else 0)
    prctl(libc, PR_SET_PDEATHSIG, signal.SIGKILL)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # PID 1 ignores what it does not handle
        signal.signal(number, signal.SIG_DFL)


def _mount(libc: ctypes.CDLL, source: "str | None", target: str, fstype: "str | None", flags: int,
           data: "str | None" = None) -> None:
    encode = (lambda text: text.encode() if text is not None else None)
    _check(libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def _new_root(libc: ctypes.CDLL, config: dict) -> None:
    """Build the new root on tmpfs from read-only binds, then pivot into it."""
    root = config["root"]
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # the writable folders first, the binds after them: a virtual environment that lives under
    # /tmp (a clone made with `mktemp -d`) is bound on top of the worker's own /tmp, at the same
    # path as outside (what NumPy imported before the pivot keeps working); the zygote's clean-up
    # of /tmp leaves those binds and the folders that lead to them alone
    owner = f"uid={config.get('uid', 0)},gid={config.get('gid', 0)}" if config["namespaces"] == "root" else ""
    for folder, size, mode in ((config["work"], config["disk_bytes"], "0700"), (config["tmp"], config["tmp_bytes"], "1777"),
                               ("/dev/shm", config["tmp_bytes"], "1777")):
        os.makedirs(root + folder, exist_ok=True)
        options = ",".join(filter(None, [f"size={size}", f"mode={mode}", owner if folder == config["work"] else ""]))
        _mount(libc, "tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
    old_umask = os.umask(0o022)  # the folders leading to a bind: not writable by the learner's uid
    emptied = []
    for source, inside, kind in config["binds"]:
        target = root + inside
        if kind == "link":  # /bin -> usr/bin on a merged-/usr system: the same link inside
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.lexists(target):
                os.symlink(os.readlink(source), target)
            continue
        if kind == "empty" or os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        if kind == "empty":  # hide what is there; read-only once the allowed entries are bound in it
            _mount(libc, "tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
            emptied.append(target)
            continue
        _mount(libc, source, target, None, MS_BIND | MS_REC)
        _mount(libc, None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for target in emptied:
        _mount(libc, None, target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    os.umask(old_umask)
    os.makedirs(root + "/dev", exist_ok=True)
    for device in DEVICES:
        target = f"{root}/dev/{device}"
        open(target, "a").close()
        _mount(libc, f"/dev/{device}", target, None, MS_BIND)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount(libc, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/.old", exist_ok=True)
    _check(libc.pivot_root(root.encode(), (root + "/.old").encode()), "pivot_root")
    os.chdir("/")
    _check(libc.umount2(b"/.old", MNT_DETACH), "umount the old root")
    os.rmdir("/.old")
    _mount(libc, None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    try:
        libc.sethostname(b"mnist-kit-worker", 16)
    except AttributeError:
        pass


def _drop_to_user(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgroups():
        raise ContainmentError(1, "the worker could not become the unprivileged user")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(libc: ctypes.CDLL) -> None:
    """Leave no capability at all (a user namespace's first process starts with all of them)."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset")


def _limits(config: dict, report: list[str], *, per_namespace_processes: bool) -> None:
    limits = [(resource.RLIMIT_NOFILE, config["open_files"]), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_FSIZE, config["file_bytes"])]
    if per_namespace_processes:  # RLIMIT_NPROC counts every process of the uid: only ours here
        limits.append((resource.RLIMIT_NPROC, config["processes"]))
    for which, value in limits:
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))
    shown = f"limits: {config['file_bytes'] >> 20} MiB per file, {config['open_files']} open files"
    if per_namespace_processes:
        shown += f", {config['processes']} processes"
    report.append(shown + ", memory and CPU time per process")
