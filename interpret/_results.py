"""Base class for result objects: frozen dataclasses that save to and load from one file.

A result file is a zip archive holding ``meta.json`` (class, version, JSON-able fields), ``arrays.npz``
(numpy fields, ``allow_pickle=False``) and one Parquet file per DataFrame/Series field. Nothing is
unpickled on load, so results from collaborators are safe to open.

Subclasses are registered automatically; :func:`load_result` finds the class from the file.

Examples
--------
>>> from dataclasses import dataclass
>>> import numpy as np, tempfile, os
>>> from interpret._results import Result, load_result
>>> @dataclass(frozen=True)
... class Demo(Result):
...     values: np.ndarray
...     label: str = "x"
>>> tmp = tempfile.TemporaryDirectory()
>>> path = os.path.join(tmp.name, "demo.ipres")
>>> Demo(np.arange(3.0)).save(path)
>>> load_result(path).values.tolist()
[0.0, 1.0, 2.0]
>>> tmp.cleanup()
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._version import __version__
from .exceptions import DataFileError

__all__ = ["Result", "load_result", "register_result", "atomic_write_bytes"]

_REGISTRY: dict[str, type] = {}
#: Modules of the package that define result types; a file naming a class of one of them not yet imported gets
#: that module imported (only these, and ``interpret.studies.*``): nothing a file names is imported otherwise.
_RESULT_MODULES = ("interpret.attribution.result", "interpret.attribution.sanity", "interpret.mock.train",
                   "interpret.metrics", "interpret.pid._result", "interpret.pid.neural", "interpret.pid.knn",
                   "interpret.pid.sensitivity", "interpret.causal.graph", "interpret.causal.local",
                   "interpret.ablation._result")
_INFLATION_RATIO = 200       # compression ratio above which a file over 1 GiB unpacked needs max_bytes= to load


def register_result(cls: type) -> type:
    """Register ``cls`` under its qualified name (done automatically for Result subclasses)."""
    _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {"__dict__": [[_jsonable(k), _jsonable(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_jsonable(v) for v in value]}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, float) and not np.isfinite(value):
        return {"__float__": repr(value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def _unjson(value: Any) -> Any:
    if isinstance(value, dict):
        if "__dict__" in value:
            return {_unjson(k): _unjson(v) for k, v in value["__dict__"]}
        if "__tuple__" in value:
            return tuple(_unjson(v) for v in value["__tuple__"])
        if "__array__" in value:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        if "__float__" in value:
            return float(value["__float__"])
        return {k: _unjson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unjson(v) for v in value]
    return value


def _frame_to_parquet(frame: pd.DataFrame) -> tuple[bytes, dict]:
    """Parquet bytes plus the info needed to restore tuple columns, index names and Series-ness."""
    frame = frame.copy()
    tuple_index = frame.index.dtype == object and any(isinstance(v, tuple) for v in frame.index)
    if tuple_index:  # e.g. Shapley subsets indexed by tuples of band names: store the index as a column
        frame = frame.reset_index()
    tuple_cols = [c for c in frame.columns if frame[c].dtype == object and
                  frame[c].map(lambda v: isinstance(v, tuple)).any()]
    for c in tuple_cols:
        frame[c] = frame[c].map(list)
    frame.columns = [str(c) for c in frame.columns]
    buf = io.BytesIO()
    frame.to_parquet(buf)
    info: dict[str, Any] = {"tuple_columns": [str(c) for c in tuple_cols]}
    if tuple_index:
        info["tuple_index"] = str(frame.columns[0])
    return buf.getvalue(), info


def _frame_from_parquet(data: bytes, info: dict) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(data))
    for c in info.get("tuple_columns", []):
        frame[c] = frame[c].map(lambda v: tuple(v.tolist() if hasattr(v, "tolist") else v))
    if "tuple_index" in info:
        name = info["tuple_index"]
        frame.index = pd.Index(list(frame.pop(name)), dtype=object, tupleize_cols=False, name=name)
    return frame


@dataclasses.dataclass(frozen=True)
class Result:
    """Mixin for frozen result dataclasses: ``save(path)`` / ``load_result(path)`` / ``to_frame()``."""

    _format_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_result(cls)

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - overridden by every concrete result
        """Tabular summary of the result."""
        raise NotImplementedError

    # --- serialisation -------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save to ``path`` (a zip archive; extension ``.ipres`` by convention), atomically."""
        meta: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        frames: dict[str, tuple[bytes, dict]] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.dtype != object:
                arrays[f.name] = value
            elif isinstance(value, pd.Series):
                data, info = _frame_to_parquet(value.to_frame(name=str(value.name)))
                frames[f.name] = (data, {**info, "series": True})
            elif isinstance(value, pd.DataFrame):
                frames[f.name] = _frame_to_parquet(value)
            elif isinstance(value, dict) and value and all(
                isinstance(v, np.ndarray) and v.dtype != object for v in value.values()
            ) and all(isinstance(k, str) for k in value):
                for k, v in value.items():
                    arrays[f"{f.name}\x1f{k}"] = v
                meta.setdefault("__array_dicts__", []).append(f.name)
            else:
                meta[f.name] = _jsonable(value)
        header = {"class": f"{type(self).__module__}.{type(self).__qualname__}",
                  "format": self._format_version, "interpret_version": __version__,
                  "fields": meta, "frames": {k: v[1] for k, v in frames.items()}}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(header))
            abuf = io.BytesIO()
            np.savez(abuf, **arrays)
            zf.writestr("arrays.npz", abuf.getvalue())
            for name, (data, _) in frames.items():
                zf.writestr(f"{name}.parquet", data)
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Result:
        """Load a result saved with :meth:`save` (never unpickles)."""
        obj = load_result(path)
        if not isinstance(obj, cls):
            raise DataFileError(f"load(): {path} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj


def _result_class(name: Any, path: Path) -> type:
    """The registered result class ``name`` (importing only the package's own result modules)."""
    if not isinstance(name, str):
        raise DataFileError(f"load_result(): {str(path)!r} names no result class")
    module = name.rsplit(".", 1)[0]
    studies = module.startswith("interpret.studies.") and all(
        p.isidentifier() and not p.startswith("__") for p in module.split("."))
    if name not in _REGISTRY and (module in _RESULT_MODULES or studies):
        import importlib

        try:
            importlib.import_module(module)
        except ImportError:
            pass
    if name not in _REGISTRY:
        raise DataFileError(f"load_result(): {str(path)!r} holds unknown result class {name!r}; only interpret's "
                            "own result types are loaded")
    return _REGISTRY[name]


def _unpacked_bytes(zf: zipfile.ZipFile, nested: bool) -> tuple[int, int]:
    """(unpacked, packed) sizes of the archive; with ``nested``, also the members of the inner ``arrays.npz``
    and the uncompressed Parquet row groups (read only after the outer sizes were checked)."""
    import pyarrow.parquet as pq

    infos = zf.infolist()
    unpacked, packed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    for info in infos if nested else ():
        if info.filename == "arrays.npz" and info.file_size <= 2**31:
            with zipfile.ZipFile(io.BytesIO(zf.read(info))) as inner:
                unpacked += sum(i.file_size for i in inner.infolist())
        elif info.filename.endswith(".parquet") and info.file_size <= 2**31:
            meta = pq.ParquetFile(io.BytesIO(zf.read(info))).metadata
            unpacked += sum(meta.row_group(k).total_byte_size for k in range(meta.num_row_groups))
    return unpacked, packed


def _check_inflation(zf: zipfile.ZipFile, path: Path, max_bytes: int | None) -> None:
    """Refuse a result that would unpack to more memory than allowed, before unpacking it."""
    from ._memory import available_memory

    limit = max_bytes if max_bytes is not None else available_memory() // 2
    for nested in (False, True):
        try:
            unpacked, packed = _unpacked_bytes(zf, nested)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DataFileError(f"load_result(): {str(path)!r} is damaged ({type(exc).__name__}: {exc})") from exc
        _refuse_inflation(path, unpacked, packed, limit, max_bytes is None)


def _refuse_inflation(path: Path, unpacked: int, packed: int, limit: int, check_ratio: bool) -> None:
    bomb = check_ratio and unpacked > 2**30 and unpacked > _INFLATION_RATIO * max(packed, 1)
    if unpacked > limit or bomb:
        why = (f"{unpacked / max(packed, 1):.0f}x its packed size" if bomb and unpacked <= limit
               else f"more than the {limit / 2**20:.0f} MiB allowed")
        raise DataFileError(f"load_result(): {str(path)!r} would unpack to about {unpacked / 2**20:.0f} MiB "
                            f"({why}); if you trust the file and have the memory, pass max_bytes= (bytes) larger "
                            "than that")


def load_result(path: str | os.PathLike, *, max_bytes: int | None = None) -> Result:
    """Load any result object saved with ``Result.save``.

    Only interpret's own result types are created, and nothing is unpickled or imported from what the file
    names. Before unpacking, the unpacked size is estimated from the archive's headers and the file is
    refused when it exceeds ``max_bytes``.

    Parameters
    ----------
    path : str or path-like
        File written by ``.save(path)``.
    max_bytes : int, optional
        Largest unpacked size to accept [bytes]; default half the available memory (and files over 1 GiB
        unpacked that inflate more than 200x are refused as compression bombs unless this is given).

    Returns
    -------
    Result
        An instance of the class that wrote the file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import interpret as ip
    >>> x = np.random.default_rng(0).normal(size=(100, 2))
    >>> r = ip.ablation.band_ablation(lambda a: a.sum(axis=1), x, x.sum(axis=1), bands=["g", "r"],
    ...                               metrics="rmse", progress=False)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r.save(Path(tmp) / "ablation.ipres")
    ...     back = ip.load_result(Path(tmp) / "ablation.ipres")
    >>> type(back).__name__, back.table["label"].tolist(), back.table["rmse"].equals(r.table["rmse"])
    ('AblationResult', ['all', '-g', '-r'], True)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load_result(): no such file {str(path)!r}")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DataFileError(f"load_result(): {str(path)!r} is not a saved result (not a zip archive)") from exc
    with zf:
        _check_inflation(zf, path, max_bytes)
        header = json.loads(zf.read("meta.json"))
        cls = _result_class(header.get("class") if isinstance(header, dict) else None, path)
        with np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        kwargs: dict[str, Any] = {}
        array_dicts = header["fields"].get("__array_dicts__", [])
        for f in dataclasses.fields(cls):
            if f.name in arrays:
                kwargs[f.name] = arrays[f.name]
            elif f.name in header["frames"]:
                info = header["frames"][f.name]
                frame = _frame_from_parquet(zf.read(f"{f.name}.parquet"), info)
                kwargs[f.name] = frame.iloc[:, 0] if info.get("series") else frame
            elif f.name in array_dicts:
                prefix = f"{f.name}\x1f"
                kwargs[f.name] = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            elif f.name in header["fields"]:
                kwargs[f.name] = _unjson(header["fields"][f.name])
    return cls(**kwargs)
