"""MNIST data: read it (IDX, Kaggle CSV, Colab CSV), find it, and download it verified.

    from solutions.mnist_data import load_mnist, MnistDataError
    data = load_mnist("train")     # X (784, m) float64 in [0, 1], Y (m,) int64
    print(data.description)        # where it came from; data.is_sample for the bundled 5k

Modules, one idea each:

    errors        MnistDataError for every data problem (MnistDataNotFound: nowhere to be found)
    limits        the most one file may hold, checked before allocating
    content       what a file that is not what its name says looks like (HTML, tar, ...)
    compressed    stream a regular file's content, gunzipped on the fly, capped
    idx           the official IDX format
    csv_files     Kaggle / Colab CSV, with or without a header
    locate        conventional file names, the cache and sample locations
    load          load_mnist and its resolution order
    download      download_mnist: mirrors, SHA-256, .part files
"""

from .download import DEFAULT_MIRRORS, OFFICIAL_SHA256, Progress, download_mnist
from .errors import MnistDataError, MnistDataNotFound
from .load import MnistData, load_mnist
from .locate import CACHE_ENV_VAR, ENV_VAR, default_cache_dir, default_sample_path

__all__ = [
    "load_mnist",
    "MnistData",
    "MnistDataError",
    "MnistDataNotFound",
    "download_mnist",
    "Progress",
    "DEFAULT_MIRRORS",
    "OFFICIAL_SHA256",
    "ENV_VAR",
    "CACHE_ENV_VAR",
    "default_cache_dir",
    "default_sample_path",
]
