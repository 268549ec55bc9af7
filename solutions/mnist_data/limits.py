"""The most the data layer reads from one file. Each limit is checked before the memory it guards is allocated.

Full MNIST is 60,000 training and 10,000 test images: 47 MB of IDX pixels for
the training set, a 110 MB CSV. The limits leave generous room above that
(EMNIST's 240,000 training digits, which use the same IDX format, fit) and
refuse what no MNIST file can be: a header claiming millions of images, a gzip
"bomb" that expands a megabyte into gigabytes, a line with no end.
"""

#: Images (or labels) in one file. X for this many is 250,000 x 784 x 8 bytes = 1.6 GB.
MAX_IMAGES = 250_000

#: Bytes in one CSV line. A row of 785 values 0-255 is at most 3,140 bytes.
MAX_CSV_LINE_BYTES = 64 * 1024

#: Blank lines one CSV may have (a real one has none, or one at the end).
MAX_CSV_BLANK_LINES = 1_000

#: Bytes a CSV may hold (after gunzip). A 250,000-row CSV of values 0-255 holds at most 785 MB.
MAX_CSV_BYTES = 1 << 30


def megabytes(size: int) -> str:
    """'47 MB', '1.1 GB', '64 KiB': a size for a message."""
    if size < 1 << 20:
        return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size:,} bytes"
    if size < 10**9:
        return f"{size / 1e6:.0f} MB"
    return f"{size / 1e9:.1f} GB"
