"""`mnist-kit download` end to end against local HTTP mirrors on 127.0.0.1 (never the internet).

The mirrors serve the real files of ../shared/mnist. The official training images are
not among them, so a complete download cannot be shown here (solutions.mnist_data's own
tests cover that with test checksums); these tests check what the command adds: mirrors
tried in the order given, progress, verified files kept and not fetched again, one
clear error line, and nothing partial left behind.
"""

import http.server
import shutil
import threading
from functools import partial

import pytest
from cli_support import describe, leftover_partial_files, run_cli


@pytest.fixture
def mirror(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/site; yields (base URL, site folder, requests)."""
    site = tmp_path / "site"
    site.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Handler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site, requests
    finally:
        server.shutdown()
        server.server_close()


REAL_FILES = ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def test_download_tries_each_mirror_keeps_verified_files_only(tmp_path, mirror, shared_mnist):
    base, site, requests = mirror
    good = site / "good"
    good.mkdir()
    for name in REAL_FILES:
        shutil.copy(shared_mnist / name, good / name)
    # the official size (9,912,422 bytes, as ../shared/mnist/README.md says), the wrong content
    (good / "train-images-idx3-ubyte.gz").write_bytes(b"not the real MNIST".ljust(9_912_422, b"."))
    target = tmp_path / "cache"
    command = ("download", "--to", target, "--mirror", f"{base}/missing/",
               "--mirror", f"{base}/good/", "--timeout", "10")
    result = run_cli(*command, cwd=tmp_path)

    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr + result.stdout, describe(result)
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("mnist-kit download: error: could not download "
                            "train-images-idx3-ubyte.gz"), describe(result)
    assert "/missing/train-images-idx3-ubyte.gz: HTTP 404" in error, describe(result)
    assert "/good/train-images-idx3-ubyte.gz: checksum mismatch" in error, describe(result)
    assert "downloading from" in result.stderr, "progress is shown" + describe(result)
    for name in REAL_FILES:  # the first mirror has nothing, the second the real file
        assert requests.count(f"/missing/{name}") == 1 and requests.count(f"/good/{name}") == 1
        assert (target / name).read_bytes() == (shared_mnist / name).read_bytes()
    assert sorted(p.name for p in target.iterdir()) == sorted(REAL_FILES), (
        "only verified files are kept, not the training images whose checksum was wrong"
    )
    assert leftover_partial_files(tmp_path) == []

    requests.clear()
    again = run_cli(*command, cwd=tmp_path)
    assert again.returncode == 1, describe(again)
    assert again.stderr.count("already downloaded and verified") == 3, describe(again)
    assert requests == ["/missing/train-images-idx3-ubyte.gz", "/good/train-images-idx3-ubyte.gz"], (
        "verified files must not be downloaded again"
    )


def test_download_with_no_server_fails_in_one_line(tmp_path, mirror):
    base, _, _ = mirror
    unused_port = base.rsplit(":", 1)[0] + ":9"  # discard port: nothing listens
    result = run_cli("download", "--to", tmp_path / "cache", "--mirror", unused_port + "/",
                     "--timeout", "5", cwd=tmp_path)
    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    error = result.stderr.strip().splitlines()[-1]
    assert "could not download train-images-idx3-ubyte.gz" in error, describe(result)
    assert "cannot connect" in error, describe(result)


def test_download_rejects_a_bad_timeout(tmp_path):
    result = run_cli("download", "--timeout", "0", cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert result.stderr.count("\n") == 1 and "--timeout" in result.stderr, describe(result)
