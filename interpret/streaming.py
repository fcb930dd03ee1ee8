"""Process inputs larger than memory: read chunks, compute, write results incrementally, resume after interruption.

Sources are read lazily chunk by chunk from HDF5 datasets, memory-mapped ``.npy`` files, Parquet files (row
groups are decoded on demand) or FITS files (memory-mapped image cubes or table columns); a tuple of sources feeds
a multi-input model. Results go to an HDF5 file: each chunk is written at its row offset, flushed, and only then
is the ``rows_done`` counter advanced. A run stopped at any point (Ctrl-C, a killed job) resumes at
``rows_done`` with nothing lost or written twice. A fingerprint of the job -- a digest of the source data
(content; size, mtime and sampled blocks for files over 1 GiB), of the model's weights and of every parameter --
guards against resuming into, or returning, the output of a different job: a mismatch is an error naming what
changed, and ``resume=False`` overwrites.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from interpret.streaming import stream_map
>>> tmp = tempfile.TemporaryDirectory()
>>> np.save(os.path.join(tmp.name, "x.npy"), np.arange(10.0).reshape(5, 2))
>>> out = stream_map(lambda c: c.sum(axis=1), os.path.join(tmp.name, "x.npy"), os.path.join(tmp.name, "y.h5"),
...                  chunk_size=2, progress=False)
>>> import h5py
>>> with h5py.File(out) as f: f["result"][:].tolist()
[1.0, 5.0, 9.0, 13.0, 17.0]
>>> tmp.cleanup()
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ._digest import digest_estimator
from ._stream_ablation import stream_band_ablation
from ._stream_io import ArraySource, _jsonable_param, open_source, read_rows_done, stream_map
from .exceptions import ValidationError

__all__ = ["ArraySource", "open_source", "stream_map", "stream_predict", "stream_attribute", "read_rows_done",
           "stream_band_ablation"]


def stream_predict(estimator: Any, source: Any, out: str | os.PathLike, *, chunk_size: int = 4096,
                   batch_size: int = 1024, progress: bool | None = None, **kwargs: Any) -> Path:
    """Predictions of ``estimator`` over ``source``, chunk by chunk, into ``out`` (dataset ``prediction``).

    ``kwargs`` go to :func:`stream_map` (``resume``, ``source_kwargs``, ``tag``). The job is identified by the
    source content, the model's weights and every parameter: an existing ``out`` of another job is refused
    (naming what changed) unless ``resume=False``.

    Examples
    --------
    >>> import os, tempfile, h5py, numpy as np
    >>> from interpret.streaming import stream_predict
    >>> x = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.save(os.path.join(tmp, "x.npy"), x)
    ...     out = stream_predict(lambda a: a.sum(axis=1), os.path.join(tmp, "x.npy"), os.path.join(tmp, "p.h5"),
    ...                          chunk_size=16, progress=False)
    ...     with h5py.File(out) as fh:
    ...         print(fh["prediction"].shape, bool(np.allclose(fh["prediction"][:], x.sum(axis=1))))
    (50,) True
    """
    from .estimators import load_estimator

    est = load_estimator(estimator)
    tag = f"predict:{type(est).__name__}:{kwargs.pop('tag', '')}"
    params = {"chunk_size": chunk_size, "batch_size": batch_size, "source_kwargs": kwargs.get("source_kwargs")}
    identity = {"job": "stream_predict", "model": digest_estimator(est), "params": _jsonable_param(params)}
    return stream_map(lambda c: est.predict(c, batch_size=batch_size, progress=False), source, out,
                      chunk_size=chunk_size, dataset="prediction", tag=tag, progress=progress,
                      identity=identity, **kwargs)


def stream_attribute(estimator: Any, source: Any, out: str | os.PathLike, *, method: str = "integrated_gradients",
                     chunk_size: int = 1024, progress: bool | None = None, resume: bool = True,
                     source_kwargs: dict[str, Any] | None = None, **attribute_kwargs: Any) -> Path:
    """Attributions over ``source`` chunk by chunk into ``out`` (dataset ``attribution``).

    ``attribute_kwargs`` go to :func:`interpret.attribution.attribute`; baselines must not depend on the
    whole data set (use ``"zeros"``, ``"blurred"`` or an explicit array rather than ``"mean"``).

    Examples
    --------
    >>> import os, tempfile, h5py, numpy as np, torch
    >>> from interpret.streaming import stream_attribute
    >>> model = torch.nn.Linear(3, 1)
    >>> x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = stream_attribute(model, x, os.path.join(tmp, "a.h5"), chunk_size=8, baselines="zeros",
    ...                            progress=False)
    ...     with h5py.File(out) as fh:
    ...         print(fh["attribution"].shape)
    (20, 3)
    """
    from .attribution import attribute
    from .estimators import load_estimator

    if isinstance(attribute_kwargs.get("baselines"), str) and attribute_kwargs["baselines"] == "mean":
        raise ValidationError("stream_attribute(): baselines='mean' would differ from chunk to chunk; pass the "
                              "data-set mean as an array instead")
    est = load_estimator(estimator)
    params = {"method": method, "chunk_size": chunk_size, "source_kwargs": source_kwargs, **attribute_kwargs}
    identity = {"job": "stream_attribute", "model": digest_estimator(est),
                "params": {k: _jsonable_param(v) for k, v in params.items()}}

    def run(chunk: Any) -> np.ndarray:
        res = attribute(est, chunk, method=method, progress=False, **attribute_kwargs)
        return res.values

    return stream_map(run, source, out, chunk_size=chunk_size, dataset="attribution", tag="attribute",
                      progress=progress, resume=resume, source_kwargs=source_kwargs, identity=identity)
