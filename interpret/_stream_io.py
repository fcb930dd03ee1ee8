"""The engine of :mod:`interpret.streaming`: chunked readers and the resumable, fingerprinted HDF5 writer.

:class:`ArraySource` / :func:`open_source` read rows lazily from HDF5, memory-mapped ``.npy``, Parquet or FITS;
:func:`stream_map` applies a function chunk by chunk and writes its output incrementally. The public names are
re-exported by :mod:`interpret.streaming` (import them from there); this module imports nothing from the
streamed analyses built on it (:mod:`interpret._stream_ablation`), so the import graph has no cycle.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ._digest import _json_default, digest_array, digest_estimator, digest_file, digest_json
from ._progress import progress_bar
from .exceptions import DataFileError, ValidationError

__all__ = ["ArraySource", "open_source", "stream_map", "read_rows_done"]

log = logging.getLogger("interpret.streaming")


class ArraySource:
    """Lazy row access to an on-disk (or in-memory) array: ``len(src)``, ``src.shape``, ``src.read(a, b)``."""

    def __init__(self, reader: Callable[[int, int], np.ndarray], shape: tuple[int, ...], name: str,
                 closer: Callable[[], None] | None = None, identity: Callable[[], str] | None = None):
        self._reader, self.shape, self.name, self._closer = reader, tuple(shape), name, closer
        self._identity = identity

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a writable numpy array (float32 for floating data)."""
        arr = np.asarray(self._reader(start, stop))
        arr = arr.astype(np.float32, copy=False) if arr.dtype.kind == "f" else arr
        return arr if arr.flags.writeable else arr.copy()    # memory-mapped files give read-only views

    def close(self) -> None:
        if self._closer is not None:
            self._closer()

    def fingerprint(self) -> str:
        """Digest of the content (the file's bytes, the array's values) plus the selection and shape.

        A source built without an ``identity`` is identified by its shape and a digest of sampled rows.
        """
        if self._identity is not None:
            return digest_json([self._identity(), list(self.shape)])
        n = len(self)
        rows = sorted({int(i) for i in np.linspace(0, n - 1, min(n, 17))}) if n else []
        return digest_json(["sampled", list(self.shape), [digest_array(self.read(i, i + 1)) for i in rows]])


def _file_identity(path: Path, *selection: Any) -> Callable[[], str]:
    return lambda: digest_json([digest_file(path), [repr(s) for s in selection]])


def _hdf5_source(path: Path, dataset: str | None) -> ArraySource:
    fh = h5py.File(path, "r")
    names: list[str] = []
    fh.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
    if dataset is None:
        if len(names) != 1:
            fh.close()
            raise DataFileError(f"open_source(): {path} holds datasets {names}; pass dataset= to choose one")
        dataset = names[0]
    if dataset not in fh:
        fh.close()
        raise DataFileError(f"open_source(): {path} has no dataset {dataset!r}; available: {', '.join(names)}")
    ds = fh[dataset]
    return ArraySource(lambda a, b: ds[a:b], ds.shape, f"{path}::{dataset}", fh.close,
                       _file_identity(path, dataset))


def _parquet_source(path: Path, columns: Sequence[str] | None) -> ArraySource:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    cols = list(columns) if columns else [f.name for f in pf.schema_arrow]
    missing = sorted(set(cols) - set(pf.schema_arrow.names))
    if missing:
        raise DataFileError(f"open_source(): {path} lacks column(s) {missing}; available: {pf.schema_arrow.names}")
    sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
    starts = np.concatenate([[0], np.cumsum(sizes)])

    def read(a: int, b: int) -> np.ndarray:
        first = int(np.searchsorted(starts, a, side="right") - 1)
        last = int(np.searchsorted(starts, b, side="left"))
        table = pf.read_row_groups(list(range(first, last)), columns=cols)
        block = np.column_stack([table.column(c).to_numpy(zero_copy_only=False) for c in cols])
        return block[a - starts[first]: b - starts[first]]

    return ArraySource(read, (int(starts[-1]), len(cols)), f"{path}::{','.join(cols)}",
                       identity=_file_identity(path, cols))


def _fits_source(path: Path, hdu: int | str | None, columns: Sequence[str] | None) -> ArraySource:
    from astropy.io import fits

    hdul = fits.open(path, memmap=True)
    if hdu is None:
        hdu = next((i for i, h in enumerate(hdul) if h.data is not None), None)
        if hdu is None:
            hdul.close()
            raise DataFileError(f"open_source(): {path} has no HDU with data")
    data = hdul[hdu].data
    if columns:
        missing = sorted(set(columns) - set(data.columns.names))
        if missing:
            hdul.close()
            raise DataFileError(f"open_source(): {path}[{hdu}] lacks column(s) {missing}")
        return ArraySource(lambda a, b: np.column_stack([data[c][a:b] for c in columns]),
                           (len(data), len(columns)), f"{path}[{hdu}]::{','.join(columns)}", hdul.close,
                           _file_identity(path, hdu, list(columns)))
    return ArraySource(lambda a, b: data[a:b], data.shape, f"{path}[{hdu}]", hdul.close, _file_identity(path, hdu))


def open_source(source: Any, *, dataset: str | None = None, columns: Sequence[str] | None = None,
                hdu: int | str | None = None) -> ArraySource:
    """Open ``source`` for chunked reading.

    Parameters
    ----------
    source : path or ndarray or ArraySource
        ``.h5``/``.hdf5`` (choose the dataset with ``dataset``), ``.npy`` (memory-mapped), ``.parquet``
        (``columns`` select and order the columns), ``.fits``/``.fit``/``.fits.gz`` (image HDU, or ``columns`` of
        a table HDU), or an in-memory array.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from interpret.streaming import open_source
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.save(os.path.join(tmp, "x.npy"), np.arange(12.0).reshape(6, 2))
    ...     src = open_source(os.path.join(tmp, "x.npy"))           # memory-mapped: nothing read yet
    ...     print(len(src), src.read(2, 4).tolist())
    ...     src.close()
    6 [[4.0, 5.0], [6.0, 7.0]]
    """
    if isinstance(source, ArraySource):
        return source
    if isinstance(source, np.ndarray):
        return ArraySource(lambda a, b: source[a:b], source.shape, f"array{source.shape}",
                           identity=lambda: digest_array(source))
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"open_source(): no such file {str(path)!r}")
    name = path.name.lower()
    if name.endswith((".h5", ".hdf5", ".hdf")):
        return _hdf5_source(path, dataset)
    if name.endswith(".npy"):
        arr = np.load(path, mmap_mode="r")
        return ArraySource(lambda a, b: arr[a:b], arr.shape, str(path), identity=_file_identity(path))
    if name.endswith(".parquet"):
        return _parquet_source(path, columns)
    if name.endswith((".fits", ".fit", ".fits.gz", ".fit.gz")):
        return _fits_source(path, hdu, columns)
    raise DataFileError(f"open_source(): cannot read {str(path)!r}; supported: .h5/.hdf5, .npy, .parquet, .fits")


_PART_LABELS = {"source": "the source data", "n_rows": "the number of rows", "model": "the model weights",
                "params": "the parameters", "tag": "the job tag", "job": "the job"}


def _jsonable_param(value: Any) -> Any:
    """A JSON-able identity of one parameter (arrays and objects by a content digest)."""
    try:
        return json.loads(json.dumps(value, sort_keys=True, default=_json_default))
    except (TypeError, ValueError):
        return {"object": type(value).__qualname__, "digest": digest_estimator(value)}


def _describe_change(key: str, old: Any, new: Any, names: list[str]) -> str:
    label = _PART_LABELS.get(key, key)
    if key == "source":
        return f"{label} ({', '.join(names)}) changed"
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        what = "; ".join(f"{k}: {old.get(k, '<unset>')!r} -> {new.get(k, '<unset>')!r}" for k in keys[:6])
        return f"{label} changed ({what})"
    if isinstance(old, str) and isinstance(new, str) and len(old) == len(new) == 32:
        return f"{label} changed (digest {old[:10]}... -> {new[:10]}...)"
    return f"{label} changed ({old!r} -> {new!r})"


def _check_job(fh: h5py.File, out: Path, parts: dict[str, Any], names: list[str], func: str) -> None:
    """Refuse to resume (or return) an output written by a different job, naming what changed."""
    stored = fh.attrs.get("fingerprint")
    if stored is None or stored == digest_json(parts):
        return
    try:
        old = json.loads(fh.attrs.get("fingerprint_parts", ""))
    except (TypeError, ValueError):
        old = None
    if isinstance(old, dict):
        changes = [_describe_change(k, old.get(k), parts.get(k), names)
                   for k in [*parts, *(k for k in old if k not in parts)] if old.get(k) != parts.get(k)]
    else:
        changes = ["it was written by an older version of interpret or by another job"]
    raise DataFileError(f"{func}(): {out} holds the output of a different job: {'; '.join(changes) or 'unknown'}; "
                        "pass resume=False to overwrite it, or choose another path")


def read_rows_done(out: str | os.PathLike) -> int:
    """How many rows a (possibly interrupted) streamed run has completed.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from interpret.streaming import read_rows_done, stream_map
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = os.path.join(tmp, "y.h5")
    ...     before = read_rows_done(out)                          # no file yet
    ...     _ = stream_map(np.sqrt, np.arange(5.0), out, chunk_size=2, progress=False)
    ...     print(before, read_rows_done(out))
    0 5
    """
    if not Path(out).exists():
        return 0
    with h5py.File(out, "r") as fh:
        return int(fh.attrs.get("rows_done", 0))


def stream_map(func: Callable[[Any], Any], source: Any, out: str | os.PathLike, *, chunk_size: int = 4096,
               dataset: str = "result", resume: bool = True, tag: str = "", progress: bool | None = None,
               source_kwargs: dict[str, Any] | None = None, with_start: bool = False,
               identity: dict[str, Any] | None = None) -> Path:
    """Apply ``func`` chunk by chunk and write its output incrementally to an HDF5 file.

    Parameters
    ----------
    func : callable
        ``func(chunk) -> array`` whose first axis has the chunk's length; for a tuple of sources it receives a
        tuple of chunks. It may also return a dict of arrays (written as one dataset each).
    source : path, ndarray, ArraySource, or tuple of them
        Rows to process (tuples must agree in length).
    out : path
        HDF5 file for the results (created; or resumed when it holds a run of the same job).
    chunk_size : int, default 4096
        Rows per chunk; memory use is about ``chunk_size`` rows of input plus output.
    dataset : str, default "result"
        Dataset name when ``func`` returns an array.
    resume : bool, default True
        Continue an interrupted run of the same job; ``False`` starts over.
    tag : str
        Extra identity of the job (method, parameters) included in the fingerprint.
    with_start : bool, default False
        Call ``func(chunk, start)`` with the chunk's first global row index (for per-row randomness or
        bookkeeping that must not depend on the chunking).
    identity : dict, optional
        Named parts of the job's identity beyond the source content, e.g. ``{"model": digest, "params": {...}}``
        (JSON-able; arrays enter by digest). A stored output whose parts differ is refused, naming them.

    Returns
    -------
    pathlib.Path
        ``out``; its attribute ``rows_done`` equals the number of input rows when complete.

    Examples
    --------
    >>> import os, tempfile, h5py, numpy as np
    >>> from interpret.streaming import stream_map
    >>> x = np.arange(10.0).reshape(5, 2)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = stream_map(lambda c: {"sum": c.sum(axis=1), "max": c.max(axis=1)}, x,
    ...                      os.path.join(tmp, "y.h5"), chunk_size=2, progress=False)
    ...     with h5py.File(out) as fh:
    ...         print(fh["sum"][:].tolist(), int(fh.attrs["rows_done"]))
    [1.0, 5.0, 9.0, 13.0, 17.0] 5

    Running it again on the same ``out`` resumes (here: finds nothing left to do); a different job on the same
    file is refused unless ``resume=False``.
    """
    if chunk_size <= 0:
        raise ValidationError(f"stream_map(): 'chunk_size' must be positive; got {chunk_size}")
    multi = isinstance(source, tuple)
    srcs = [open_source(s, **(source_kwargs or {})) for s in (source if multi else (source,))]
    n = len(srcs[0])
    if any(len(s) != n for s in srcs):
        raise ValidationError(f"stream_map(): sources differ in length: {[len(s) for s in srcs]}")
    func_name = str((identity or {}).get("job", "stream_map"))
    parts = _jsonable_param({"source": [s.fingerprint() for s in srcs], "n_rows": n, "tag": tag,
                             **(identity or {})})
    fp = digest_json(parts)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    mode = "a" if resume and out.exists() else "w"
    try:
        with h5py.File(out, mode) as fh:
            if mode == "a":
                _check_job(fh, out, parts, [sr.name for sr in srcs], func_name)
            fh.attrs["fingerprint"], fh.attrs["n_rows"] = fp, n
            fh.attrs["fingerprint_parts"] = json.dumps(parts, sort_keys=True)
            start = int(fh.attrs.get("rows_done", 0))
            if start:
                log.info("resuming %s at row %d of %d", out, start, n)
            bounds = [(a, min(a + chunk_size, n)) for a in range(start, n, chunk_size)]
            for a, b in progress_bar(bounds, progress=progress, desc="chunks"):
                chunk = tuple(s.read(a, b) for s in srcs) if multi else srcs[0].read(a, b)
                res = func(chunk, a) if with_start else func(chunk)
                res = res if isinstance(res, dict) else {dataset: res}
                for key, value in res.items():
                    value = np.asarray(value)
                    if value.shape[0] != b - a:
                        raise ValidationError(f"stream_map(): func returned {value.shape[0]} rows for a chunk of "
                                              f"{b - a}; it must return one row per input row")
                    if key not in fh:
                        fh.create_dataset(key, shape=(n, *value.shape[1:]), dtype=value.dtype,
                                          chunks=(min(chunk_size, n), *value.shape[1:]))
                    fh[key][a:b] = value
                fh.flush()
                fh.attrs["rows_done"] = b
                fh.flush()
    finally:
        for s in srcs:
            s.close()
    return out
