"""Guards: estimate the memory a request needs before allocating it, refuse with the estimate; and early
checks of inputs that would otherwise fail deep inside (empty or non-numeric arrays).

Each guard names the function, the request, the estimate, what is available and the knob to turn, e.g.
``decompose(): n_boot=10000000 bootstrap resamples need about 19 GiB, more than half of the 22 GiB of
available memory; lower 'n_boot' (1000-10000 resamples give stable 95 % intervals)``.

Examples
--------
>>> from interpret._guards import check_memory
>>> check_memory("f", "a small request", 1024, "'n'")          # fits: returns quietly
>>> check_memory("f", "n=10**15 rows", 8e15, "'n'")            # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
ValidationError: f(): n=10**15 rows need about 7.1e+06 GiB, ...
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .exceptions import ValidationError

__all__ = ["check_memory", "check_resamples", "check_numeric_rows", "bootstrap_bytes", "format_bytes",
           "RESAMPLE_OVERHEAD"]

#: Bytes held per bootstrap resample / permutation / shuffle by the parallel map and its results (its seed,
#: task tuple, result dict): measured ~0.8 KiB with 5 atoms, taken as 2 KiB to cover larger results.
RESAMPLE_OVERHEAD = 2048


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover


def bootstrap_bytes(n_resamples: int, n_values: int = 8) -> float:
    """Estimated memory [bytes] of ``n_resamples`` resamples each returning ``n_values`` numbers."""
    return float(n_resamples) * (RESAMPLE_OVERHEAD + 32 * n_values)


def check_memory(func: str, request: str, need_bytes: float, knob: str, *, hint: str = "",
                 fraction: float = 0.5, device: str = "cpu") -> None:
    """Raise :class:`ValidationError` when ``need_bytes`` exceeds ``fraction`` of the available memory.

    Parameters
    ----------
    func, request, knob : str
        Function name, what was asked for (``"n_boot=10000000 bootstrap resamples"``), the argument to lower.
    need_bytes : float
        The estimate.
    hint : str, optional
        Appended advice (a typical value of the knob).
    """
    from ._memory import available_memory

    avail = available_memory(device)
    if need_bytes > fraction * avail:
        raise ValidationError(f"{func}(): {request} need about {format_bytes(need_bytes)}, more than "
                              f"{fraction:.0%} of the {format_bytes(avail)} of available memory; lower {knob}"
                              + (f" ({hint})" if hint else ""))


def check_resamples(func: str, knob: str, n: Any, *, n_values: int = 8, extra_bytes: float = 0.0,
                    what: str = "resamples") -> None:
    """Refuse ``n`` resamples (``n_boot``, ``n_shuffles``, ``n_permutations``) whose memory cannot fit.

    ``extra_bytes`` is the memory of one resample beyond the shared overhead (e.g. its index array).
    Non-integers are left to the caller's own type check.
    """
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0:
        need = bootstrap_bytes(int(n), n_values) + float(n) * extra_bytes
        check_memory(func, f"{knob}={int(n)} {what}", need, f"'{knob}'",
                     hint="1000-10000 resamples give stable 90-95 % intervals")


def _first_bad(arr: np.ndarray) -> Any:
    for v in arr.ravel()[:1000]:
        try:
            float(v)
        except (TypeError, ValueError):
            return v.item() if isinstance(v, np.generic) else v
    return arr.ravel()[0]


def check_numeric_rows(func: str, target: Any, sources: Any) -> None:
    """``target`` and every source must have rows and numeric values; the error names the offender.

    Sources may be a dict of name -> array or a sequence of arrays; anything else is left to the caller.
    """
    if isinstance(sources, Mapping):
        items = [(f"sources[{k!r}]", v) for k, v in sources.items()]
    elif isinstance(sources, Sequence) and not isinstance(sources, (str, bytes)):
        items = [(f"sources[{i}]", v) for i, v in enumerate(sources)]
    else:
        items = []
    for name, value in [("'target'", target), *items]:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            continue                        # ragged input: the caller's own checks describe it
        if arr.ndim == 0:
            continue
        if arr.size == 0:
            raise ValidationError(f"{func}(): {name} is empty (shape {arr.shape}); pass one value per "
                                  "galaxy, at least a few hundred galaxies")
        if arr.dtype.kind in "biuf":
            continue
        try:
            arr.astype(float)
        except (TypeError, ValueError):
            raise ValidationError(f"{func}(): {name} is not numeric (dtype {arr.dtype}, e.g. "
                                  f"{_first_bad(arr)!r}); encode categories as integers first (e.g. "
                                  "pandas.factorize(values)[0]) and pass bins=None to use them as symbols") from None
