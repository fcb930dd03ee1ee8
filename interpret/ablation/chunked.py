"""Masked band ablation in pieces, for galaxies that arrive chunk by chunk.

:func:`interpret.ablation.band_ablation` holds every galaxy in memory. A catalogue read from disk a chunk at a
time (:func:`interpret.streaming.stream_band_ablation`) needs the same computation cut into three steps, which
:class:`ChunkedAblation` provides:

1. set up once, from a first chunk (it fixes the band layout, the model's output and the subsets) and a fixed
   ``reference`` sample (it fixes the fill statistics, so that every chunk is filled alike);
2. :meth:`ChunkedAblation.predict` - masked predictions of every subset for one chunk, the chunk's rows
   addressed by their global index so that per-row random fills do not depend on the chunking;
3. :meth:`ChunkedAblation.score` - metrics of stored predictions against the targets, passed in, for a block
   of subsets at a time (:meth:`ChunkedAblation.subset_blocks` sizes the blocks to a fixed memory budget);
   :meth:`ChunkedAblation.result` turns the metric values into the usual :class:`AblationResult`.

Metrics such as sigma_NMAD need every galaxy at once, hence the split between predicting (per chunk of
galaxies) and scoring (per block of subsets, over all galaxies).

Examples
--------
>>> import numpy as np
>>> from interpret.ablation import Fill
>>> from interpret.ablation.chunked import ChunkedAblation
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(60, 3))
>>> y = x[:, 0] + 0.1 * x[:, 1]
>>> job = ChunkedAblation(lambda a: a[:, 0] + 0.1 * a[:, 1], x[:20], y[:20], bands=["g", "r", "i"],
...                       strategy=Fill("mean", reference=x[:20]), metrics="rmse")
>>> preds = np.concatenate([job.predict(x[a:a + 20], start=a) for a in (0, 20, 40)], axis=1)
>>> preds.shape                       # (subsets, galaxies)
(4, 60)
>>> values = np.concatenate([job.score(preds[s], y) for s in job.subset_blocks(len(y))])
>>> job.result(values, n_samples=len(y)).table["label"].tolist()
['all', '-g', '-r', '-i']
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ._engine import _PRED_BUDGET, prepare
from ._result import AblationResult
from .ablate import _table
from .band_layout import ModelInputs
from .masking import masked_predictions
from .options import Batching, Fill, engine_kwargs
from .strategies import Filler, FillStrategy
from .subsets import resolve_subsets

__all__ = ["ChunkedAblation"]


class _ShiftedFiller(Filler):
    """A fitted filler addressed with global row indices (chunk start + local row)."""

    def __init__(self, filler: Filler, start: int):
        super().__init__(filler.layout)
        self.filler, self.start = filler, start

    def fill(self, arrays: list[np.ndarray], rows: np.ndarray, keep: np.ndarray) -> None:
        self.filler.fill(arrays, np.asarray(rows) + self.start, keep)


class ChunkedAblation:
    """Masked band ablation set up once, then run on chunks of galaxies and scored at the end.

    Parameters
    ----------
    estimator : Estimator, torch.nn.Module, fitted scikit-learn model or callable
        The trained model (wrapped with :func:`interpret.load_estimator`).
    sample : array-like or tuple of arrays
        A first chunk of model inputs: it fixes the band layout and is checked against ``y_sample``.
    y_sample : array-like of shape (len(sample),) or (len(sample), k)
        True values of ``sample`` (validation only: :meth:`score` takes the targets it scores against).
    bands, subsets, metrics, redshift, metric_kwargs, band_layout, output, batching, n_jobs
        As in :func:`interpret.ablation.band_ablation` (masked mode).
    strategy : str, FillStrategy or Fill, default "mean"
        The fill; ``Fill(strategy, reference=x_train)`` names the galaxies the fill statistics are computed
        from (default: ``sample``). Give a fixed sample such as the training set: statistics of a chunk would
        differ from chunk to chunk.
    seed : int, Generator or None
        Seeds the noise fill and inpainting subsamples.
    caller : str, default "ChunkedAblation"
        Name used in error messages (the public function that builds the job).
    """

    def __init__(self, estimator: Any, sample: Any, y_sample: Any, *, bands: Any = None,
                 strategy: str | FillStrategy | Fill = "mean", subsets: str | Sequence[Any] = "leave_one_out",
                 metrics: str | Callable[..., float] | Sequence[str | Callable[..., float]] | None = None,
                 redshift: bool = False, metric_kwargs: Mapping[str, Any] | None = None, band_layout: Any = None,
                 output: int | str | None = None, batching: Batching | None = None, n_jobs: int | None = None,
                 seed: int | np.random.Generator | None = None, caller: str = "ChunkedAblation"):
        kw = engine_kwargs(strategy, None, band_layout, batching, caller)
        if kw["reference"] is None:
            kw["reference"] = sample
        self._probe = prepare(caller, estimator, sample, y_sample, bands=bands, metrics=metrics,
                              metric_kwargs=metric_kwargs, output=output, n_jobs=n_jobs, progress=False,
                              seed=seed, redshift=redshift, **kw)
        self.caller = caller
        self.masks: np.ndarray = resolve_subsets(subsets, self.bands, func=caller)
        """Keep-masks, shape ``(n_subsets, n_bands)``; row 0 keeps every band."""

    @property
    def batch_size(self) -> int:
        """Galaxies per forward pass (``batching.batch_size``)."""
        return self._probe.batch_size

    @property
    def bands(self) -> tuple[str, ...]:
        """Band names, in layout order."""
        return self._probe.layout.bands

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric names, in the column order of :meth:`score`."""
        return tuple(self._probe.scorers)

    @property
    def estimator(self) -> Any:
        """The wrapped estimator."""
        return self._probe.estimator

    @property
    def strategy(self) -> FillStrategy:
        """The fill strategy (fitted on ``reference``)."""
        return self._probe.strategy

    def predict(self, chunk: Any, *, start: int = 0) -> np.ndarray:
        """Masked predictions of every subset for one chunk, shape ``(n_subsets, rows)`` (``(..., k)``).

        ``start`` is the global index of the chunk's first row: per-row fills (noise) depend on it, never on
        where the chunk boundaries fall.
        """
        p = self._probe
        inputs = ModelInputs.from_x(chunk, self.caller)
        return masked_predictions(p.estimator, inputs, p.layout, _ShiftedFiller(p.filler, int(start)), self.masks,
                                  batch_size=p.batch_size, max_bytes=p.max_bytes, n_jobs=p.n_jobs, progress=False)

    def subset_blocks(self, n_rows: int) -> Iterator[slice]:
        """Slices of subsets whose predictions over ``n_rows`` galaxies fit the in-memory budget (2**25 values)."""
        step = max(1, _PRED_BUDGET // max(int(n_rows), 1))
        for j in range(0, len(self.masks), step):
            yield slice(j, min(j + step, len(self.masks)))

    def score(self, predictions: np.ndarray, y: Any) -> np.ndarray:
        """Metric values, shape ``(len(predictions), n_metrics)``, of predictions ``(m, n[, k])`` against ``y``."""
        y = np.asarray(y, dtype=float)
        return self._probe._reduce(np.asarray(predictions), y)

    def result(self, values: np.ndarray, *, n_samples: int, details: Mapping[str, Any] | None = None
               ) -> AblationResult:
        """The :class:`AblationResult` of metric ``values`` (one row per subset of :attr:`masks`)."""
        table = _table(self.masks, self.bands, list(self.metrics), np.asarray(values, dtype=float))
        return AblationResult(table=table, bands=self.bands, metrics=self.metrics, mode="mask",
                              strategy=self.strategy.name, n_samples=int(n_samples), details=dict(details or {}))
