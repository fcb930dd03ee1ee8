"""``H5Array``: a read-only array whose rows stay in an HDF5 dataset until they are indexed.

A universe written to disk by ``make_universe(..., path=...)`` (or read with ``Universe.load(path, lazy=True)``)
holds its images and spectra as ``H5Array``: ``a[i]``, ``a[start:stop]``, ``a[mask]`` and ``a[[i, j, ...]]``
read those rows only and return numpy arrays, ``np.asarray(a)`` reads everything. Rows are read in blocks of
about :data:`BLOCK_BYTES`, so a selection over a file larger than memory costs the selection plus one block.

Examples
--------
>>> import os, tempfile
>>> import h5py, numpy as np
>>> from interpret.mock._h5array import H5Array
>>> tmp = tempfile.TemporaryDirectory()
>>> path = os.path.join(tmp.name, "a.h5")
>>> with h5py.File(path, "w") as fh:
...     _ = fh.create_dataset("x", data=np.arange(12.0).reshape(6, 2))
>>> a = H5Array(path, "x")
>>> a.shape, a[[4, 1]].tolist(), float(a[2, 1]), np.asarray(a).sum()
((6, 2), [[8.0, 9.0], [2.0, 3.0]], 5.0, np.float64(66.0))
>>> tmp.cleanup()
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["H5Array", "BLOCK_BYTES"]

#: Bytes of rows read from the file at a time (a selection's memory is its own size plus one such block).
BLOCK_BYTES = 64 * 2**20


class H5Array:
    """Rows of the dataset ``name`` in the HDF5 file ``path``, read when indexed (never written).

    Parameters
    ----------
    path : str or path-like
        HDF5 file; it is opened read-only on first access and reopened after pickling.
    name : str
        Dataset inside the file; its first axis is the row (galaxy) axis.
    """

    def __init__(self, path: str | os.PathLike, name: str):
        import h5py

        self.path, self.name = os.fspath(path), str(name)
        with h5py.File(self.path, "r") as fh:
            ds = fh[self.name]
            self.shape: tuple[int, ...] = tuple(int(s) for s in ds.shape)
            self.dtype = np.dtype(ds.dtype)
        self._fh: Any = None

    # --- numpy-like attributes -------------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"H5Array({self.path!r}, {self.name!r}, shape={self.shape}, dtype={self.dtype})"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fh": None}

    def close(self) -> None:
        """Close the file handle (it is reopened on the next access)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _ds(self) -> Any:
        import h5py

        if self._fh is None or not self._fh.id.valid:
            self._fh = h5py.File(self.path, "r", rdcc_nbytes=BLOCK_BYTES // 2)
        return self._fh[self.name]

    @property
    def _rows_per_block(self) -> int:
        row = max(1, self.nbytes // max(1, self.shape[0]))
        return max(1, BLOCK_BYTES // row)

    # --- reading ---------------------------------------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        step = self._rows_per_block
        for start in range(0, len(self), step):
            yield from self[start:start + step]

    def __getitem__(self, key: Any) -> np.ndarray:
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) and key else (key, ())
        if first is Ellipsis:
            first, rest = slice(None), (Ellipsis, *rest)
        if isinstance(first, (int, np.integer)):
            i = int(first)
            if not -len(self) <= i < len(self):
                raise IndexError(f"index {i} is out of bounds for axis 0 with size {len(self)}")
            return self._ds()[i % len(self)][rest] if rest else self._ds()[i % len(self)]
        if isinstance(first, slice):
            rows = np.arange(len(self))[first]
            if first.step in (None, 1):
                out = self._read_range(int(rows[0]), int(rows[-1]) + 1) if rows.size else self._empty(0)
                return out[(slice(None), *rest)] if rest else out
        else:
            rows = np.asarray(first)
            if rows.dtype == bool:
                if rows.shape != (len(self),):
                    raise IndexError(f"boolean index of shape {rows.shape} does not match {len(self)} rows")
                rows = np.flatnonzero(rows)
            elif not np.issubdtype(rows.dtype, np.integer):
                raise IndexError(f"H5Array rows must be indexed by int, slice, bool mask or ints; got {rows.dtype}")
            if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
                raise IndexError(f"index out of bounds for axis 0 with size {len(self)}")
        out = self._take(rows.ravel() % max(1, len(self))).reshape(*rows.shape, *self.shape[1:])
        return out[(slice(None),) * rows.ndim + rest] if rest else out

    def _empty(self, n: int) -> np.ndarray:
        return np.empty((n, *self.shape[1:]), dtype=self.dtype)

    def _read_range(self, start: int, stop: int) -> np.ndarray:
        out, ds, step = self._empty(stop - start), self._ds(), self._rows_per_block
        for b0 in range(start, stop, step):
            b1 = min(b0 + step, stop)
            ds.read_direct(out, np.s_[b0:b1], np.s_[b0 - start:b1 - start])
        return out

    def _take(self, rows: np.ndarray) -> np.ndarray:
        """Rows in the given order: read block by block in file order (a sparse block row by row)."""
        uniq, inverse = np.unique(rows, return_inverse=True)
        got, ds, step = self._empty(uniq.size), self._ds(), self._rows_per_block
        for b0 in range(0, len(self), step):
            lo, hi = np.searchsorted(uniq, [b0, b0 + step])
            if hi == lo:
                continue
            want = uniq[lo:hi]
            if 8 * want.size < min(step, len(self) - b0):
                got[lo:hi] = ds[want.tolist()]
            else:
                got[lo:hi] = ds[b0:min(b0 + step, len(self))][want - b0]
        return got[inverse.ravel()]
