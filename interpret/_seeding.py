"""Seeding third-party code that draws from NumPy's legacy global RNG (dit's optimisers, causal-learn's rcit)."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["numpy_global_seed"]

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
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)
