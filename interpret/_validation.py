"""Shared input checks used at the public boundary.

Messages follow one shape: ``"<func>(): '<arg>' <what is wrong>; <how to fix>"``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .exceptions import ValidationError

__all__ = [
    "as_generator",
    "check_array",
    "check_finite",
    "check_same_length",
    "check_int",
    "check_fraction",
    "check_choice",
    "spawn_seeds",
]


def as_generator(seed: int | np.random.Generator | np.random.SeedSequence | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed`` (int, SeedSequence, Generator or None)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    raise ValidationError(f"'seed' must be an int, numpy Generator or None; got {type(seed).__name__}")


def spawn_seeds(seed: int | np.random.Generator | None, n: int) -> list[np.random.SeedSequence]:
    """Derive ``n`` independent, reproducible child seeds from ``seed``.

    Children depend only on ``seed`` and their index, so parallel and serial runs draw the same numbers.
    """
    if isinstance(seed, np.random.Generator):
        entropy = int(seed.integers(0, 2**63 - 1))
    else:
        entropy = seed
    return np.random.SeedSequence(entropy).spawn(n)


def _rows(mask: np.ndarray, limit: int = 5) -> str:
    idx = np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1)) if mask.ndim > 1 else np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:limit])
    return shown + (", ..." if idx.size > limit else "")


_FINITE_BLOCK = 2**24     # elements tested at a time: no n-sized temporaries for large cutout arrays (issue 21)


def _all_finite(x: np.ndarray) -> bool:
    if x.ndim == 0 or x.size <= _FINITE_BLOCK:
        return bool(np.isfinite(x).all())
    step = max(1, _FINITE_BLOCK // max(x[0].size, 1))
    return all(bool(np.isfinite(x[i:i + step]).all()) for i in range(0, len(x), step))


def check_finite(x: np.ndarray, name: str, func: str) -> np.ndarray:
    """Raise if ``x`` holds NaN or inf, naming how many and the first rows."""
    x = np.asarray(x)
    if x.dtype.kind in "fc" and not _all_finite(x):
        bad = ~np.isfinite(x)
        if bad.any():
            n_nan = int(np.isnan(x).sum())
            n_inf = int(bad.sum()) - n_nan
            what = " and ".join(s for s in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} infinite" if n_inf else "") if s)
            raise ValidationError(
                f"{func}(): '{name}' has {what} values (rows {_rows(bad)}); drop or impute them first"
            )
    return x


def check_array(
    x: Any,
    name: str,
    func: str,
    *,
    ndim: int | Sequence[int] | None = None,
    dtype: Any = None,
    finite: bool = True,
    min_rows: int = 1,
) -> np.ndarray:
    """Convert ``x`` to an array and check dimensionality, finiteness and row count."""
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{func}(): '{name}' could not be converted to a numeric array ({exc})") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValidationError(
                f"{func}(): '{name}' must have {' or '.join(map(str, allowed))} dimension(s); "
                f"got shape {arr.shape}"
            )
    if arr.ndim >= 1 and arr.shape[0] < min_rows:
        raise ValidationError(f"{func}(): '{name}' needs at least {min_rows} rows; got {arr.shape[0]}")
    if finite:
        check_finite(arr, name, func)
    return arr


def check_same_length(func: str, **arrays: Any) -> int:
    """Raise unless every array has the same first dimension; return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"'{k}' has {n}" for k, n in lengths.items())
        raise ValidationError(f"{func}(): inputs must have the same number of rows; {desc}")
    return next(iter(lengths.values())) if lengths else 0


def check_int(value: Any, name: str, func: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check ``value`` is an integer within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{func}(): '{name}' must be an integer; got {value!r}")
    if minimum is not None and value < minimum:
        raise ValidationError(f"{func}(): '{name}' must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValidationError(f"{func}(): '{name}' must be <= {maximum}; got {value}")
    return int(value)


def check_fraction(value: Any, name: str, func: str, *, inclusive: bool = False) -> float:
    """Check ``value`` lies in (0, 1) (or [0, 1] with ``inclusive``)."""
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{func}(): '{name}' must be a number in (0, 1); got {value!r}") from exc
    ok = (0.0 <= v <= 1.0) if inclusive else (0.0 < v < 1.0)
    if not ok:
        rng = "[0, 1]" if inclusive else "(0, 1)"
        raise ValidationError(f"{func}(): '{name}' must be in {rng}; got {value}")
    return v


def check_choice(value: Any, name: str, func: str, choices: Iterable[Any]) -> Any:
    """Check ``value`` is one of ``choices``; the message lists the valid ones."""
    choices = list(choices)
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValidationError(f"{func}(): unknown {name} {value!r}; valid values are {valid}")
    return value
