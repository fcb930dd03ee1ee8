"""Band ablation over inputs larger than memory: masked predictions streamed to HDF5, metrics at the end.

:func:`stream_band_ablation` reads the galaxies chunk by chunk (any source :func:`interpret.streaming.open_source`
reads), predicts every band subset of each chunk with the batched masking engine of
:mod:`interpret.ablation.masking`, and writes the predictions to one HDF5 dataset ``prediction`` of shape
``(n, n_subsets)`` (``(n, n_subsets, k)`` for ``k`` outputs), resumably. Metrics such as sigma_NMAD need every
row at once, so the metric table is computed from the stored predictions after the last chunk. The fill
statistics come from a fixed ``reference`` sample (never from a chunk), so the result equals the in-memory
:func:`interpret.ablation.band_ablation` with the same ``reference``.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from interpret.ablation import Fill
>>> from interpret.streaming import stream_band_ablation
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(300, 3)).astype(np.float32)
>>> y = 1 + x[:, 0] + 0.1 * x[:, 1]
>>> tmp = tempfile.TemporaryDirectory()
>>> path = os.path.join(tmp.name, "x.npy"); np.save(path, x)
>>> r = stream_band_ablation(lambda a: 1 + a[:, 0] + 0.1 * a[:, 1], path, y, path + ".h5", bands=["g", "r", "i"],
...                          strategy=Fill("mean", reference=x[:100]), metrics="rmse", chunk_size=64,
...                          progress=False)
>>> r.table["label"].tolist()
['all', '-g', '-r', '-i']
>>> tmp.cleanup()
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ._digest import digest_estimator
from ._stream_io import open_source, stream_map
from .ablation._result import AblationResult
from .ablation.band_layout import ModelInputs
from .ablation.chunked import ChunkedAblation
from .ablation.options import Batching, Fill, legacy_keywords, split_layout
from .ablation.strategies import FillStrategy, Zero, get_strategy
from .exceptions import ValidationError

__all__ = ["stream_band_ablation"]

log = logging.getLogger(__name__)
_FUNC = "stream_band_ablation"


class _ChunkAblation:
    """``func(chunk, start)`` for :func:`stream_map`: masked predictions of one chunk, shape (rows, m, ...)."""

    def __init__(self, job: ChunkedAblation):
        self.job = job

    def __call__(self, chunk: Any, start: int) -> np.ndarray:
        return np.moveaxis(self.job.predict(chunk, start=start), 0, 1)


def _digest(arrays: Sequence[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.view(np.uint8).ravel())
    return h.hexdigest()[:16]


def _first_chunk(source: Any, chunk_size: int, source_kwargs: Mapping[str, Any] | None) -> tuple[Any, int]:
    """The first chunk (for validation and the layout) and the number of rows of ``source``."""
    given = source if isinstance(source, tuple) else (source,)
    srcs = [open_source(s, **(source_kwargs or {})) for s in given]
    try:
        n = len(srcs[0])
        if any(len(s) != n for s in srcs):
            raise ValidationError(f"{_FUNC}(): the sources differ in length: {[len(s) for s in srcs]}; every "
                                  "input must have one row per galaxy")
        head = tuple(s.read(0, min(chunk_size, n)) for s in srcs)
    finally:
        for s, g in zip(srcs, given):
            if s is not g:      # close only what was opened here (stream_map reopens paths)
                s.close()
    return (head if isinstance(source, tuple) else head[0]), n


def _load_y(y: Any, n: int) -> np.ndarray:
    if isinstance(y, (str, os.PathLike)):
        src = open_source(y)
        try:
            y = src.read(0, len(src))
        finally:
            src.close()
    y = np.asarray(y, dtype=float)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if len(y) != n:
        raise ValidationError(f"{_FUNC}(): 'y' has {len(y)} rows but the source has {n}; give one target per "
                              "galaxy, in source order")
    return y


def _scores(out: Path, job: ChunkedAblation, y: np.ndarray) -> np.ndarray:
    """Metric values (m, n_metrics) from the stored predictions, a block of subsets at a time."""
    parts = []
    with h5py.File(out, "r") as fh:
        ds = fh["prediction"]
        for block in job.subset_blocks(len(y)):
            parts.append(job.score(np.moveaxis(ds[:, block], 1, 0), y))
    return np.concatenate(parts, axis=0)


@legacy_keywords
def stream_band_ablation(
    estimator: Any,
    source: Any,
    y: Any,
    out: str | os.PathLike,
    *,
    bands: Any = None,
    strategy: str | FillStrategy | Fill = "mean",
    subsets: str | Sequence[Any] = "leave_one_out",
    metrics: str | Callable[..., float] | Sequence[str | Callable[..., float]] | None = None,
    redshift: bool = False,
    metric_kwargs: Mapping[str, Any] | None = None,
    band_layout: Any = None,
    output: int | str | None = None,
    chunk_size: int = 4096,
    batching: Batching | None = None,
    n_jobs: int | None = None,
    seed: int | np.random.Generator | None = None,
    resume: bool = True,
    progress: bool | None = None,
    source_kwargs: Mapping[str, Any] | None = None,
) -> AblationResult:
    """Masked band ablation (like :func:`interpret.ablation.band_ablation`) over an on-disk catalogue.

    Parameters
    ----------
    estimator : Estimator, torch.nn.Module, fitted scikit-learn model or callable
        The trained model (wrapped with :func:`interpret.load_estimator`).
    source : path, ndarray, ArraySource, or tuple of them
        Model inputs, ``n`` rows: HDF5 / memory-mapped NPY / Parquet / FITS (see
        :func:`interpret.streaming.open_source`); a tuple feeds a multi-input model.
    y : array-like of shape (n,) or (n, k), or a path
        True values in source order (held in memory: ``n`` floats).
    out : path
        HDF5 file receiving the dataset ``prediction``, shape ``(n, n_subsets[, k])``; an interrupted run of
        the same job resumes where it stopped.
    bands, subsets, metrics, redshift, metric_kwargs, band_layout, output, batching
        As in :func:`interpret.ablation.band_ablation` (masked mode only).
    strategy : str, FillStrategy or Fill, default "mean"
        The fill. ``Fill(strategy, reference=x_ref)`` names the galaxies the fill statistics (mean, median,
        noise level, inpainting regressor) are computed from, e.g. the training set or a random sample of the
        catalogue (the same inputs as one source row block). A reference is required unless the strategy is
        ``"zero"``: statistics of a chunk would differ from chunk to chunk.
    chunk_size : int, default 4096
        Galaxies read per chunk; memory is about ``chunk_size`` rows of input times the subsets sharing a
        forward pass (bounded by ``batching.max_bytes``).
    n_jobs : int, optional
        Workers for the subset/row-block loop inside each chunk (via :mod:`interpret.parallel`).
    seed : int, Generator or None
        Seeds the noise fill and inpainting subsamples (use an int so a resumed run matches).
    resume : bool, default True
        Continue an interrupted run; ``False`` starts over.
    progress : bool, optional
        Progress bar over chunks.
    source_kwargs : dict, optional
        Passed to :func:`interpret.streaming.open_source` (``dataset=``, ``columns=``, ``hdu=``).

    Returns
    -------
    AblationResult
        The same table as :func:`interpret.ablation.band_ablation`; ``details["out"]`` is the HDF5 path.

    Notes
    -----
    The keywords ``reference``, ``band_axis``, ``batch_size`` and ``max_bytes`` still work until 0.4, with a
    ``FutureWarning`` naming the option object that replaces them (``Fill``, ``band_layout``, ``Batching``).

    References
    ----------
    Engel et al. (2025), "Mantis Shrimp", arXiv:2501.09112.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from interpret.ablation import Fill
    >>> from interpret.streaming import stream_band_ablation
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3)).astype(np.float32)
    >>> y = x[:, 0] + 0.5 * x[:, 1]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.save(os.path.join(tmp, "x.npy"), x)
    ...     r = stream_band_ablation(lambda a: a[:, 0] + 0.5 * a[:, 1], os.path.join(tmp, "x.npy"), y,
    ...                              os.path.join(tmp, "ablation.h5"), bands=["g", "r", "i"],
    ...                              strategy=Fill("mean", reference=x[:50]), metrics="rmse", chunk_size=64,
    ...                              progress=False)
    >>> r.table[["label", "n_kept"]].values.tolist()
    [['all', 3], ['-g', 2], ['-r', 2], ['-i', 2]]
    >>> float(r.table["rmse"].iloc[0]), bool(r.table["rmse"].iloc[1] > r.table["rmse"].iloc[2] > 0)
    (0.0, True)
    """
    t0 = time.perf_counter()
    chunk_size = int(chunk_size)
    if chunk_size <= 0:
        raise ValidationError(f"{_FUNC}(): 'chunk_size' must be positive; got {chunk_size}")
    fill = Fill.of(strategy)
    strat, reference = get_strategy(fill.strategy, _FUNC), fill.reference
    if reference is None and not isinstance(strat, Zero):
        raise ValidationError(f"{_FUNC}(): strategy {strat.name!r} needs fill statistics from a fixed "
                              "'reference' sample (e.g. the training set, or x[rng.choice(n, 10000)]); "
                              "pass strategy=Fill(strategy, reference=x_ref), or use strategy='zero'")
    head, n = _first_chunk(source, chunk_size, source_kwargs)
    y_arr = _load_y(y, n)
    job = ChunkedAblation(estimator, head, y_arr[:len(ModelInputs.from_x(head, _FUNC).arrays[0])], bands=bands,
                          strategy=Fill(strat, reference), subsets=subsets, metrics=metrics,
                          redshift=redshift, metric_kwargs=metric_kwargs, band_layout=band_layout, output=output,
                          batching=batching, n_jobs=n_jobs, seed=seed, caller=_FUNC)
    ref_digest = "none" if reference is None else _digest(ModelInputs.from_x(reference, _FUNC).arrays)
    params = {"strategy": repr(strat), "masks": job.masks.astype(int).tolist(), "bands": list(job.bands),
              "reference": ref_digest, "seed": seed if isinstance(seed, (int, type(None))) else repr(seed),
              "output": output, "band_axis": split_layout(band_layout)[0], "chunk_size": chunk_size,
              "batch_size": job.batch_size,
              "source_kwargs": {k: repr(v) for k, v in (source_kwargs or {}).items()}}
    identity = {"job": _FUNC, "model": digest_estimator(job.estimator), "params": params}
    path = stream_map(_ChunkAblation(job), source, out, chunk_size=chunk_size, dataset="prediction",
                      resume=resume, tag=_FUNC, progress=progress, source_kwargs=dict(source_kwargs or {}),
                      with_start=True, identity=identity)
    values = _scores(path, job, y_arr)
    details = {"subsets": subsets if isinstance(subsets, str) else "explicit", "batch_size": job.batch_size,
               "chunk_size": chunk_size, "seconds": time.perf_counter() - t0,
               "seed": seed if isinstance(seed, int) else None, "fill": strat.description, "n_galaxies": n,
               "out": str(path), "streamed": True}
    log.info("stream_band_ablation: %d subsets x %d galaxies in %.2f s", len(job.masks), n, details["seconds"])
    return job.result(values, n_samples=n, details=details)
