"""download_mnist against a local HTTP server on 127.0.0.1 (never the internet).

The server plays several mirrors at once, one per URL prefix, each serving what a
test tells it to: the real t10k files, a corrupted copy, a body cut short, a 404,
or a body that stalls. It records every request, so a test can tell what was fetched.
"""

import gzip
import hashlib
import http.server
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest

from solutions.mnist_data import DEFAULT_MIRRORS, OFFICIAL_SHA256, MnistDataError, download_mnist, load_mnist
from solutions.mnist_data.download import Progress

T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TIMEOUT = 2.0  # seconds for every socket operation of the client under test


@dataclass
class Reply:
    body: bytes
    status: int = 200
    declared_length: int | None = None  # Content-Length to announce (default: the body's length)
    stall: bool = False  # send half the body, then hang until the test ends


class Mirrors:
    """A threaded HTTP server on 127.0.0.1:<ephemeral port> serving `replies[path]`, else 404."""

    def __init__(self):
        self.replies: dict[str, Reply] = {}
        self.requests: list[str] = []
        self.release = threading.Event()
        mirrors = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                mirrors.requests.append(self.path)
                reply = mirrors.replies.get(self.path)
                if reply is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(reply.status)
                length = len(reply.body) if reply.declared_length is None else reply.declared_length
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if reply.stall:
                    self.wfile.write(reply.body[: len(reply.body) // 2])
                    self.wfile.flush()
                    mirrors.release.wait(timeout=10)
                    return
                self.wfile.write(reply.body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 5
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, prefix: str) -> str:
        return f"http://127.0.0.1:{self.port}/{prefix}/"

    def serve(self, prefix: str, name: str, reply: Reply) -> None:
        self.replies[f"/{prefix}/{name}"] = reply

    def requested(self, name: str) -> list[str]:
        return [path for path in self.requests if path.endswith("/" + name)]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def mirrors():
    server = Mirrors()
    yield server
    server.close()


@pytest.fixture
def t10k(shared_mnist):
    """The real t10k files' bytes and their official sums (the table the downloader would use for them)."""
    bodies = {name: (shared_mnist / name).read_bytes() for name in T10K}
    return bodies, {name: OFFICIAL_SHA256[name] for name in T10K}


def quiet() -> Progress:
    return Progress(io.StringIO())


def leftovers(folder):
    """Names in `folder`, to check no partial or unverified file is left behind."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def raises_download_error(call, *fragments):
    with pytest.raises(MnistDataError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, f"one line expected, got {message!r}"
    for fragment in fragments:
        assert fragment in message, f"expected {fragment!r} in {message!r}"
    return message


# --- the constants ----------------------------------------------------------------------------


def test_official_sums_match_the_shared_readme(shared_mnist):
    listed = dict(re.findall(r"^\s+(\S+-ubyte\.gz)\s+([0-9a-f]{64})\s*$", (shared_mnist / "README.md").read_text(), re.M))
    assert listed == OFFICIAL_SHA256, "OFFICIAL_SHA256 must be the four official sums"


def test_default_mirrors():
    assert DEFAULT_MIRRORS == (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    )


# --- downloads that work ----------------------------------------------------------------------


def test_downloads_and_verifies_the_real_t10k_files(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    for name, body in bodies.items():
        mirrors.serve("good", name, Reply(body))
    cache = tmp_path / "cache"
    paths = download_mnist(cache, [mirrors.url("good")], checksums=sums, timeout=TIMEOUT, progress=quiet())
    assert paths == [cache / name for name in T10K]
    for name in T10K:
        assert (cache / name).read_bytes() == bodies[name]
    assert leftovers(cache) == sorted(T10K), "nothing but the verified files (no .part)"
    assert load_mnist("test", cache).Y.size == 10_000


def test_verified_file_is_not_downloaded_again(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    for name, body in bodies.items():
        mirrors.serve("good", name, Reply(body))
    download_mnist(tmp_path, [mirrors.url("good")], checksums=sums, timeout=TIMEOUT, progress=quiet())
    assert len(mirrors.requests) == 2
    out = io.StringIO()
    download_mnist(tmp_path, [mirrors.url("good")], checksums=sums, timeout=TIMEOUT, progress=Progress(out))
    assert len(mirrors.requests) == 2, f"a verified file was fetched again: {mirrors.requests}"
    assert out.getvalue().count("already downloaded and verified") == 2


def test_file_in_cache_with_wrong_sum_is_replaced(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[1]
    mirrors.serve("good", name, Reply(bodies[name]))
    (tmp_path / name).write_bytes(b"stale junk")
    download_mnist(tmp_path, [mirrors.url("good")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet())
    assert (tmp_path / name).read_bytes() == bodies[name]
    assert mirrors.requested(name) == [f"/good/{name}"]


def test_file_in_cache_with_wrong_sum_is_kept_when_no_mirror_works(mirrors, t10k, tmp_path):
    _, sums = t10k
    name = T10K[1]
    (tmp_path / name).write_bytes(b"stale junk")
    raises_download_error(
        lambda: download_mnist(tmp_path, [mirrors.url("missing")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet()),
        name, "HTTP 404", f"kept {tmp_path / name}", "wrong SHA-256",
    )
    assert (tmp_path / name).read_bytes() == b"stale junk", (
        "a cached file is replaced only by a verified one, never deleted first (with the mirrors down "
        "the user would be left with nothing)"
    )
    assert leftovers(tmp_path) == [name], "no .part left"


def test_train_files_with_an_injected_checksum_table(mirrors, tmp_path):
    # The real training images are not available here, so serve stand-ins under the official names.
    bodies = {"train-images-idx3-ubyte.gz": gzip.compress(b"images"), "train-labels-idx1-ubyte.gz": gzip.compress(b"labels")}
    sums = {name: hashlib.sha256(body).hexdigest() for name, body in bodies.items()}
    for name, body in bodies.items():
        mirrors.serve("m", name, Reply(body))
    download_mnist(tmp_path, [mirrors.url("m").rstrip("/")], checksums=sums, timeout=TIMEOUT, progress=quiet())
    assert {name: (tmp_path / name).read_bytes() for name in bodies} == bodies
    assert mirrors.requested("train-images-idx3-ubyte.gz") == ["/m/train-images-idx3-ubyte.gz"], "mirror without a trailing /"


def test_a_single_mirror_as_a_string(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    mirrors.serve("good", T10K[1], Reply(bodies[T10K[1]]))
    download_mnist(tmp_path, mirrors.url("good"), checksums={T10K[1]: sums[T10K[1]]}, timeout=TIMEOUT, progress=quiet())
    assert mirrors.requested(T10K[1]) == [f"/good/{T10K[1]}"]


def test_cache_folder_is_created(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    mirrors.serve("good", T10K[1], Reply(bodies[T10K[1]]))
    cache = tmp_path / "a" / "b" / "cache"
    download_mnist(cache, [mirrors.url("good")], checksums={T10K[1]: sums[T10K[1]]}, timeout=TIMEOUT, progress=quiet())
    assert (cache / T10K[1]).is_file()


# --- mirrors that fail: the next one is tried, and nothing bad is kept -----------------------


def test_404_then_a_good_mirror(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[1]
    mirrors.serve("good", name, Reply(bodies[name]))
    download_mnist(tmp_path, [mirrors.url("missing"), mirrors.url("good")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet())
    assert mirrors.requested(name) == [f"/missing/{name}", f"/good/{name}"]
    assert leftovers(tmp_path) == [name]


def test_corrupted_file_is_not_kept_and_the_next_mirror_is_tried(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[0]
    corrupted = bytearray(bodies[name])
    corrupted[1000] ^= 0x01
    mirrors.serve("bad", name, Reply(bytes(corrupted)))
    mirrors.serve("good", name, Reply(bodies[name]))
    download_mnist(tmp_path, [mirrors.url("bad"), mirrors.url("good")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet())
    assert mirrors.requested(name) == [f"/bad/{name}", f"/good/{name}"]
    assert (tmp_path / name).read_bytes() == bodies[name]
    assert leftovers(tmp_path) == [name]


def test_corrupted_everywhere_keeps_nothing(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[1]
    mirrors.serve("bad", name, Reply(bodies[name][:-1] + bytes([bodies[name][-1] ^ 0xFF])))
    raises_download_error(
        lambda: download_mnist(tmp_path, [mirrors.url("bad")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet()),
        name, "checksum mismatch", sums[name],
    )
    assert leftovers(tmp_path) == []


def test_transfer_cut_short_leaves_no_partial_file(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[0]
    body = bodies[name]
    mirrors.serve("short", name, Reply(body[:100_000], declared_length=len(body)))
    raises_download_error(
        lambda: download_mnist(tmp_path, [mirrors.url("short")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet()),
        name, mirrors.url("short") + name, f"incomplete: got 100,000 of {len(body):,} bytes",
    )
    assert leftovers(tmp_path) == []


def test_transfer_cut_short_then_a_good_mirror(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[0]
    mirrors.serve("short", name, Reply(bodies[name][:-10], declared_length=len(bodies[name])))
    mirrors.serve("good", name, Reply(bodies[name]))
    download_mnist(tmp_path, [mirrors.url("short"), mirrors.url("good")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet())
    assert mirrors.requested(name) == [f"/short/{name}", f"/good/{name}"]
    assert leftovers(tmp_path) == [name]


def test_stalled_transfer_times_out(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[1]
    mirrors.serve("slow", name, Reply(bodies[name], stall=True))
    raises_download_error(
        lambda: download_mnist(tmp_path, [mirrors.url("slow")], checksums={name: sums[name]}, timeout=0.3, progress=quiet()),
        name, "timed out (nothing received for 0.3 s)",
    )
    assert leftovers(tmp_path) == []


def test_every_mirror_fails_names_the_file_and_each_error(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[1]
    with socket.socket() as probe:  # a port nobody listens on: bind, note it, close
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    wrong = bytearray(bodies[name])
    wrong[-1] ^= 0xFF  # the official size, the wrong content
    mirrors.serve("bad", name, Reply(bytes(wrong)))
    refused = f"http://127.0.0.1:{closed_port}/"
    urls = [mirrors.url("missing"), mirrors.url("bad"), refused]
    message = raises_download_error(
        lambda: download_mnist(tmp_path, urls, checksums={name: sums[name]}, timeout=TIMEOUT, progress=quiet()),
        f"could not download {name}", "HTTP 404", "checksum mismatch", "cannot connect",
    )
    for url in urls:
        assert url + name in message
    assert leftovers(tmp_path) == []


def test_a_file_no_mirror_has_does_not_stop_the_others(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    mirrors.serve("good", T10K[1], Reply(bodies[T10K[1]]))  # the images are on no mirror
    message = raises_download_error(
        lambda: download_mnist(tmp_path, [mirrors.url("good")], checksums=sums, timeout=TIMEOUT, progress=quiet()),
        f"could not download {T10K[0]}",
    )
    assert T10K[1] not in message
    assert leftovers(tmp_path) == [T10K[1]], "the file that was found is kept, verified"


def test_local_folder_as_a_file_url_mirror(shared_mnist, t10k, tmp_path):
    _, sums = t10k
    download_mnist(tmp_path, [shared_mnist.as_uri() + "/"], checksums=sums, timeout=TIMEOUT, progress=quiet())
    assert leftovers(tmp_path) == sorted(T10K)


def test_interrupt_mid_write_leaves_no_part_file(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[0]
    mirrors.serve("good", name, Reply(bodies[name]))

    seen_while_writing = []

    class CtrlC(Progress):
        def advance(self, received):
            super().advance(received)
            seen_while_writing.extend(leftovers(tmp_path))
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C after the first chunk was written

    with pytest.raises(KeyboardInterrupt):
        download_mnist(tmp_path, [mirrors.url("good")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=CtrlC(io.StringIO()))
    part_name = rf"\.{re.escape(name)}\.[A-Za-z0-9-]+\.{os.getpid()}\.[0-9a-f]+\.part"
    assert len(seen_while_writing) == 1 and re.fullmatch(part_name, seen_while_writing[0]), (
        f"while downloading, only a .part file should exist (the name remove_stale_parts looks for): {seen_while_writing}"
    )
    assert leftovers(tmp_path) == []


def test_part_file_left_by_a_killed_download_is_removed_but_a_live_one_is_not(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[1]
    mirrors.serve("good", name, Reply(bodies[name]))
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32]
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()  # its pid is now free: the writer of the abandoned part is gone
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            abandoned = tmp_path / f".{name}.{host}.{killed.pid}.0badf00d.part"
            live = tmp_path / f".{name}.{host}.{alive.pid}.5eedf00d.part"
            other_host = tmp_path / f".{name}.elsewhere.{killed.pid}.0badf00d.part"
            for part in (abandoned, live, other_host):
                part.write_bytes(b"half a file")
            out = io.StringIO()
            download_mnist(tmp_path, [mirrors.url("good")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=Progress(out))
        finally:
            alive.kill()
    assert leftovers(tmp_path) == sorted([name, live.name, other_host.name]), (
        "only the part of a process that is gone, on this host, is removed"
    )
    assert f"removed {abandoned.name}" in out.getvalue()


def test_no_mirrors(tmp_path):
    raises_download_error(lambda: download_mnist(tmp_path, [], progress=quiet()), "no mirrors")


def test_cache_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    raises_download_error(lambda: download_mnist(blocker / "cache", ["http://127.0.0.1:9/"], progress=quiet()), str(blocker / "cache"))


# --- progress ---------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_in_a_log_is_a_few_whole_lines(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    for name, body in bodies.items():
        mirrors.serve("good", name, Reply(body))
    out = io.StringIO()
    download_mnist(tmp_path, [mirrors.url("good")], checksums=sums, timeout=TIMEOUT, progress=Progress(out))
    lines = out.getvalue().splitlines()
    assert len(lines) == 4, f"expected a start and an end line per file, got {lines}"
    assert "\r" not in out.getvalue() and "%" not in out.getvalue()
    assert all("verified" in line for line in lines[1::2])


def test_progress_on_a_terminal_shows_percentages(mirrors, t10k, tmp_path):
    bodies, sums = t10k
    name = T10K[0]
    mirrors.serve("good", name, Reply(bodies[name]))
    out = Terminal()
    download_mnist(tmp_path, [mirrors.url("good")], checksums={name: sums[name]}, timeout=TIMEOUT, progress=Progress(out))
    text = out.getvalue()
    percents = [int(p) for p in re.findall(r"\r\S+: +(\d+)%", text)]
    assert percents and percents[-1] == 100 and percents == sorted(set(percents)), percents
    assert len(percents) <= 101, "at most one update per percent"
    lines = text.split("\n")
    assert len(lines) == 3 and lines[-1] == "", f"a 'downloading' line and one rewritten line, got {lines}"
    assert lines[1].endswith("verified -> " + str(tmp_path / name))
