"""Printing values in failure messages: small arrays in full, big ones by shape."""

import numpy as np

#: arrays with at most this many entries are printed in full
MAX_PRINTED_ENTRIES = 40


def show(value: object, *, indent: int = 0) -> str:
    """A short readable text for `value` (multi-line arrays are indented by `indent`)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 2 and value.shape[1] == 1 and 4 < value.shape[0] <= MAX_PRINTED_ENTRIES:
            with np.printoptions(**_print_options(value)):
                row = np.array2string(value[:, 0], separator=" ")
            return f"{row} as a column  (shape {value.shape}, {value.dtype})"
        if value.size <= MAX_PRINTED_ENTRIES and value.ndim <= 2:
            with np.printoptions(**_print_options(value), threshold=MAX_PRINTED_ENTRIES):
                text = np.array2string(value, separator=" ")
            text = text.replace("\n", "\n" + " " * indent)
            return f"{text}  (shape {value.shape}, {value.dtype})"
        return f"array of shape {value.shape}, {value.dtype}{_summary(value)}"
    if isinstance(value, tuple):
        if len(value) > 8:
            return f"a tuple of {len(value)} values"
        return "(" + ", ".join(short(v) for v in value) + ")"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}" + ("" if isinstance(value, float) else f" ({type(value).__name__})")
    if isinstance(value, (list, dict)) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _print_options(value: np.ndarray) -> dict:
    """4 decimals; scientific notation when every non-zero entry would print as 0 at 4 decimals."""
    options = {"precision": 4, "suppress": True, "linewidth": 100}
    if np.issubdtype(value.dtype, np.floating) and value.size:
        magnitudes = np.abs(value[np.isfinite(value)])
        nonzero = magnitudes[magnitudes > 0]
        if nonzero.size and nonzero.max() < 5e-5:
            options.update(precision=3, suppress=False, floatmode="maxprec")
    return options


def short(value: object) -> str:
    """One-line description: arrays by shape and dtype, everything else by show()."""
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    return show(value)


def _summary(value: np.ndarray) -> str:
    """min/max/NaN summary of a numeric array, for arrays too big to print."""
    if value.size == 0 or not np.issubdtype(value.dtype, np.number):
        return ""
    finite = np.isfinite(value)
    text = ""
    if finite.any():
        text = f", values from {value[finite].min():.4g} to {value[finite].max():.4g}"
    if not finite.all():
        text += f", {int((~finite).sum())} NaN/inf entries"
    return text
