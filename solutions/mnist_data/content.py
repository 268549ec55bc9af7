"""Say what a file looks like from its first bytes, for messages about a file that is not what its name says.

A download that went wrong often leaves an HTML error page under the data
file's name; a tar archive or a zip saved as a data file, or a file gzipped
twice, is another common slip. "wrong magic number" alone does not tell the
user which; looks_like(first_bytes) does.
"""

GZIP_MAGIC = b"\x1f\x8b"
TAR_MAGIC_OFFSET = 257  # "ustar" sits here in every POSIX tar header

#: (test on the first bytes, what to say); the first match wins.
_SIGNATURES = (
    (lambda head: head.startswith(GZIP_MAGIC), "a gzip file"),
    (lambda head: head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar",
     "a tar archive (extract it first: tar -xf FILE)"),
    (lambda head: head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"),
     "a zip archive (unzip it first)"),
    (lambda head: head.startswith(b"BZh"), "a bzip2 file (bunzip2 it first)"),
    (lambda head: head.startswith(b"\xfd7zXZ\x00"), "an xz file (unxz it first)"),
    (lambda head: head.startswith(b"7z\xbc\xaf\x27\x1c"), "a 7-Zip archive"),
    (lambda head: head.startswith(b"\x93NUMPY"), "a NumPy .npy file"),
    (lambda head: _is_html(head), "an HTML page (a web page saved instead of the file? a failed download?)"),
)


def _is_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml", b"<body"))


def looks_like(head: bytes) -> str | None:
    """What the bytes `head` (a file's first 512 or more) are, if recognisable: 'an HTML page (...)', ...

    None when nothing is recognised.
    """
    for test, what in _SIGNATURES:
        if test(head):
            return what
    return None
