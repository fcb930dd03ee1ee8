"""Predictions of a trained estimator with band subsets masked, several subsets per forward pass.

For ``m`` subsets and ``n`` galaxies the work is cut into items (a group of subsets x a block of rows);
each item stacks the masked copies of its rows for every subset of its group into one input and makes a
single ``predict`` call, so Python overhead is paid per item, not per subset. Items go through
:func:`interpret.parallel.map_into` (so a Dask backend works unchanged). Fills are deterministic
once the strategy is fitted, so results do not depend on ``batch_size``, ``max_bytes`` or ``n_jobs``.

:func:`masked_predictions_loop` is the naive one-subset-at-a-time reference (tests and benchmarks).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..parallel import map_into
from .band_layout import BandLayout, ModelInputs
from .strategies import Filler

__all__ = ["masked_predictions", "masked_predictions_loop", "plan_items", "DEFAULT_MAX_BYTES"]

DEFAULT_MAX_BYTES = 256 * 2**20   # memory for one stacked input (all inputs together)


def plan_items(n_rows: int, n_subsets: int, bytes_per_row: int, batch_size: int,
               max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[int, int]:
    """Rows per block and subsets per group so that one stacked input stays under ``max_bytes``.

    Returns
    -------
    (rows_per_block, subsets_per_group) : tuple of int
    """
    budget_rows = max(1, max_bytes // max(bytes_per_row, 1))
    rows = min(n_rows, max(batch_size, budget_rows // max(n_subsets, 1)))
    group = max(1, min(n_subsets, budget_rows // max(rows, 1)))
    return rows, group


class _Item:
    """Picklable worker: masked predictions for one (subset group, row block)."""

    def __init__(self, estimator: Any, inputs: ModelInputs, filler: Filler, masks: np.ndarray,
                 batch_size: int):
        self.estimator, self.inputs, self.filler = estimator, inputs, filler
        self.masks, self.batch_size = masks, batch_size

    def __call__(self, item: tuple[int, int, int, int]) -> np.ndarray:
        j0, j1, r0, r1 = item
        rows = np.arange(r0, r1)
        nc, gm = r1 - r0, j1 - j0
        stacked = [np.concatenate([a[r0:r1]] * gm, axis=0) for a in self.inputs.arrays]
        for k, j in enumerate(range(j0, j1)):
            views = [s[k * nc:(k + 1) * nc] for s in stacked]
            self.filler.fill(views, rows, self.masks[j])
        out = np.asarray(self.estimator.predict(self.inputs.rebuild(stacked), batch_size=self.batch_size,
                                                progress=False))
        return out.reshape(gm, nc, *out.shape[1:])


def masked_predictions(estimator: Any, inputs: ModelInputs, layout: BandLayout, filler: Filler,
                       masks: np.ndarray, *, batch_size: int = 1024, max_bytes: int = DEFAULT_MAX_BYTES,
                       n_jobs: int | None = None, progress: bool | None = None) -> np.ndarray:
    """Predictions for every keep-mask, batched across subsets.

    Parameters
    ----------
    estimator : Estimator
        Anything with ``predict(x, batch_size=, progress=)`` taking ``inputs.rebuild(...)`` containers.
    inputs : ModelInputs
        The galaxies to predict, shape ``(n, ...)`` per input.
    layout : BandLayout
        Where the bands are.
    filler : Filler
        A fitted fill strategy.
    masks : numpy.ndarray of bool, shape (m, B)
        Keep-masks (True = band kept).
    batch_size : int, default 1024
        Rows per forward pass of the model.
    max_bytes : int, default 256 MiB
        Upper bound on the memory of one stacked input.
    n_jobs, progress
        Passed to :func:`interpret.parallel.map_into`.

    Returns
    -------
    numpy.ndarray
        Shape ``(m, n)`` (or ``(m, n, k)`` for ``k`` outputs).
    """
    n, m = inputs.n, len(masks)
    bytes_per_row = sum(a[:1].nbytes for a in inputs.arrays)
    rows, group = plan_items(n, m, bytes_per_row, batch_size, max_bytes)
    items = [(j0, min(j0 + group, m), r0, min(r0 + rows, n))
             for j0 in range(0, m, group) for r0 in range(0, n, rows)]
    worker = _Item(estimator, inputs, filler, masks, batch_size)
    out: list[np.ndarray] = []

    def write(item: tuple[int, int, int, int], part: np.ndarray) -> None:   # each piece copied in as it arrives
        if not out:
            out.append(np.empty((m, n, *part.shape[2:]), dtype=part.dtype))
        j0, j1, r0, r1 = item
        out[0][j0:j1, r0:r1] = part

    map_into(worker, items, write, n_jobs=n_jobs, progress=progress, desc="masked subsets")
    return out[0]


def masked_predictions_loop(estimator: Any, inputs: ModelInputs, layout: BandLayout, filler: Filler,
                            masks: np.ndarray, *, batch_size: int = 1024) -> np.ndarray:
    """Reference implementation: one masked copy of all rows and one ``predict`` call per subset."""
    rows = np.arange(inputs.n)
    out = []
    for keep in masks:
        arrays = [a.copy() for a in inputs.arrays]
        filler.fill(arrays, rows, keep)
        out.append(np.asarray(estimator.predict(inputs.rebuild(arrays), batch_size=batch_size, progress=False)))
    return np.stack(out)
