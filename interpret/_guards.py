"""Resource guards: estimate the memory a request needs before allocating it, refuse with the estimate.

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

from .exceptions import ValidationError

__all__ = ["check_memory", "bootstrap_bytes", "format_bytes", "RESAMPLE_OVERHEAD"]

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
