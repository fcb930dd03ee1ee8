"""Chunked, device-aware execution of captum calls: memory stays bounded by ``batch_size`` galaxies."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..parallel import parallel_map, seeded_map

__all__ = ["Chunks", "as_tuple", "forward_outputs", "to_tensor", "slices"]


def as_tuple(value: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """A tensor or a sequence of tensors as a tuple."""
    return (value,) if isinstance(value, torch.Tensor) else tuple(value)


@dataclass
class Chunks:
    """Galaxy slices of one attribution run and the tensors for each of them."""

    inputs: tuple[np.ndarray, ...]
    batch_size: int
    device: torch.device
    dtype: torch.dtype

    @property
    def slices(self) -> list[slice]:
        return slices(self.inputs[0].shape[0], self.batch_size)

    def tensors(self, arrays: tuple[np.ndarray, ...], sl: slice | None = None, *,
                grad: bool = False) -> tuple[torch.Tensor, ...]:
        """Slice ``arrays`` (all rows when ``sl`` is None), move them to the device, optionally track grads."""
        out = tuple(to_tensor(a if sl is None else a[sl], self.device, self.dtype) for a in arrays)
        return tuple(t.clone().requires_grad_(True) for t in out) if grad else out

    def run(self, func: Callable[[slice], tuple], *, progress: bool | None, desc: str,
            seed: int | np.random.Generator | None = None) -> list[tuple]:
        """Call ``func(slice)`` (or ``func(slice, rng)`` when ``seed`` is given) for every chunk, in order."""
        if seed is None:
            return parallel_map(func, self.slices, n_jobs=1, progress=progress, desc=desc)
        return seeded_map(func, self.slices, seed=seed, n_jobs=1, progress=progress, desc=desc)


def slices(n: int, size: int) -> list[slice]:
    """Consecutive slices of ``size`` rows (the last may be shorter) covering ``n`` rows."""
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def to_tensor(a: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``a`` as a tensor on ``device``; read-only arrays (pandas views, memory maps) are copied first."""
    if isinstance(a, np.ndarray) and not a.flags.writeable:
        a = np.array(a)
    return torch.as_tensor(a, device=device, dtype=dtype)


def to_numpy(parts: list[tuple[torch.Tensor, ...]]) -> tuple[np.ndarray, ...]:
    """Concatenate per-chunk tuples of tensors into one numpy array per input."""
    return tuple(np.concatenate([p[i].detach().cpu().numpy() for p in parts]) for i in range(len(parts[0])))


def forward_outputs(forward: Callable, chunks: Chunks, arrays: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """f(x) per galaxy (no gradients), computed chunk by chunk."""
    arrays = chunks.inputs if arrays is None else arrays
    outs = []
    with torch.no_grad():
        for sl in chunks.slices:
            outs.append(forward(*chunks.tensors(arrays, sl)).detach().cpu().numpy())
    return np.concatenate(outs)


def torch_seed(rng: np.random.Generator) -> int:
    """A torch seed drawn from a numpy generator."""
    return int(rng.integers(0, 2**62))


@contextlib.contextmanager
def seeded_globals(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's and numpy's global RNGs (captum draws from both) and restore them afterwards.

    The caller's global random state is untouched, so no global seeding leaks out of the library.
    """
    devices = [device] if device.type == "cuda" else []
    state = np.random.get_state()
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            np.random.seed(seed % 2**32)
            yield
    finally:
        np.random.set_state(state)
