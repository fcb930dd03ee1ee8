"""Seeds: the library's one rule, and seeding third-party code that draws from NumPy's legacy global RNG.

``seed=None`` means fresh randomness (from the operating system), an int or a ``numpy.random.Generator``
reproduces; nothing is seeded at import. Code that needs an integer (cache keys, per-column streams) turns a
None or a Generator into one with :func:`int_seed` and records it, so a fresh run can be repeated.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["numpy_global_seed", "int_seed", "legacy_seed"]

_MAX_SEED = 2**63 - 1


def int_seed(seed: int | np.random.Generator | None) -> int:
    """A non-negative int for ``seed``: itself, one drawn from a Generator, or a fresh one for None."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % _MAX_SEED)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, _MAX_SEED))
    return seed  # validated by the caller (check_int), so a wrong type is reported with its argument name

def legacy_seed(seed: int) -> int:
    """``seed`` for APIs built on NumPy's legacy ``RandomState`` (scikit-learn's and pandas' ``random_state``),
    which refuse seeds from 2**32 up while :func:`int_seed` draws below 2**63: unchanged below 2**32, else
    reduced modulo 2**32."""
    return int(seed) % 2**32


# One lock for the process: two threads seeding the global state at once would interleave their draws.
_LOCK = threading.RLock()


@contextlib.contextmanager
def numpy_global_seed(seed: int | None) -> Iterator[None]:
    """Seed ``np.random``'s global state for the block, then restore the caller's state (no-op for None)."""
    if seed is None:
        yield
        return
    with _LOCK:
        state = np.random.get_state()
        np.random.seed(legacy_seed(seed))
        try:
            yield
        finally:
            np.random.set_state(state)
