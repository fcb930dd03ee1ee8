"""Content digests for cache keys and job fingerprints (blake2b, hex).

A digest identifies what determines an output: array and table *content*, model *weights*, parameters.
File names never enter a digest; a very large file is identified by its size, modification time and a
digest of evenly spaced sampled blocks instead of its full content.

Examples
--------
>>> import numpy as np, torch
>>> from interpret._digest import digest_array, digest_estimator, digest_json
>>> digest_array(np.arange(3)) == digest_array(np.arange(3))
True
>>> digest_array(np.arange(3)) == digest_array(np.arange(3.0))      # the dtype is part of the content
False
>>> torch.manual_seed(0); a = torch.nn.Linear(2, 1)                 # doctest: +ELLIPSIS
<...>
>>> digest_estimator(a) == digest_estimator(torch.nn.Linear(2, 1))  # other weights
False
>>> digest_json({"b": 1, "a": (1, 2)}) == digest_json({"a": [1, 2], "b": 1})
True
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

__all__ = ["digest_array", "digest_frame", "digest_file", "digest_estimator", "digest_json", "digest_object",
           "DIGEST_SIZE", "SAMPLE_ABOVE"]

#: Bytes of every digest (the hex strings are twice as long).
DIGEST_SIZE = 16
#: Files larger than this [bytes] are digested by size + mtime + sampled blocks, not their full content.
SAMPLE_ABOVE = 1 << 30
_BLOCK = 1 << 16          # sampled block size [bytes]
_N_BLOCKS = 64            # sampled blocks of a large file (plus the first and the last)
_MAX_DEPTH = 12


def _hasher() -> Any:
    return hashlib.blake2b(digest_size=DIGEST_SIZE)


def _feed_array(h: Any, a: np.ndarray) -> None:
    a = np.asarray(a)
    h.update(f"nd{a.shape}{a.dtype.str}".encode())
    if a.dtype.hasobject:
        h.update(json.dumps([repr(v) for v in a.ravel().tolist()]).encode())
    elif a.size:
        c = np.ascontiguousarray(a)
        try:
            h.update(memoryview(c).cast("B"))
        except (TypeError, ValueError):     # structured dtypes: no flat byte view
            h.update(c.tobytes())


def _feed_tensor(h: Any, t: torch.Tensor) -> None:
    t = t.detach().cpu()
    if t.is_sparse:
        t = t.to_dense()
    h.update(f"tensor{tuple(t.shape)}{t.dtype}".encode())
    flat = t.contiguous().reshape(-1)
    h.update(memoryview(flat.view(torch.uint8).numpy()).cast("B"))


def digest_array(a: Any) -> str:
    """Digest of an array's shape, dtype and content (numpy arrays, torch tensors, array-likes)."""
    h = _hasher()
    if isinstance(a, torch.Tensor):
        _feed_tensor(h, a)
    else:
        _feed_array(h, np.asarray(a))
    return h.hexdigest()


def _feed_series(h: Any, s: pd.Series | pd.Index) -> None:
    h.update(f"col{len(s)}{s.dtype}".encode())
    values = s.to_numpy()
    if values.dtype.hasobject or not isinstance(values, np.ndarray):
        h.update(json.dumps([repr(v) for v in np.asarray(values, dtype=object).tolist()]).encode())
    else:
        _feed_array(h, values)


def digest_frame(df: pd.DataFrame | pd.Series) -> str:
    """Digest of a DataFrame's (or Series') column names, dtypes, index and values."""
    h = _hasher()
    if isinstance(df, pd.Series):
        df = df.to_frame(name=repr(df.name))
    h.update(json.dumps([repr(c) for c in df.columns]).encode())
    _feed_series(h, df.index)
    for j in range(df.shape[1]):
        _feed_series(h, df.iloc[:, j])
    return h.hexdigest()


def digest_file(path: str | os.PathLike, *, sample_above: int = SAMPLE_ABOVE) -> str:
    """Digest of a file's content; above ``sample_above`` bytes, of its size, mtime and sampled blocks.

    The path itself does not enter the digest: a copy of a file has the same digest (below the threshold).
    """
    path = Path(path)
    h = _hasher()
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size <= sample_above:
            h.update(b"full")
            for block in iter(functools.partial(fh.read, 1 << 20), b""):
                h.update(block)
            return h.hexdigest()
        h.update(f"sampled{size}:{path.stat().st_mtime_ns}".encode())
        last = max(size - _BLOCK, 0)
        for k in range(_N_BLOCKS + 2):
            fh.seek(last * k // (_N_BLOCKS + 1))
            h.update(fh.read(_BLOCK))
    return h.hexdigest()


def _feed_code(h: Any, code: types.CodeType, depth: int) -> None:
    h.update(f"code{code.co_name}".encode())
    h.update(code.co_code)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _feed_code(h, c, depth + 1)
        else:
            h.update(repr(c).encode())
    h.update(repr(code.co_names).encode())


def _feed_function(h: Any, fn: types.FunctionType, depth: int, seen: set[int]) -> None:
    h.update(f"fn{fn.__module__}.{fn.__qualname__}".encode())
    _feed_code(h, fn.__code__, depth)
    _feed(h, fn.__defaults__, depth + 1, seen)
    _feed(h, fn.__kwdefaults__, depth + 1, seen)
    for cell in fn.__closure__ or ():
        try:
            _feed(h, cell.cell_contents, depth + 1, seen)
        except ValueError:          # an empty cell
            h.update(b"<empty>")


def _feed(h: Any, obj: Any, depth: int, seen: set[int]) -> None:  # noqa: C901 - one dispatch table
    """Feed a structural description of ``obj`` to ``h`` (no pickling, no memory addresses)."""
    if depth > _MAX_DEPTH:
        h.update(f"<deep {type(obj).__qualname__}>".encode())
        return
    if obj is None or isinstance(obj, (bool, int, str, bytes, complex)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
        return
    if isinstance(obj, float):
        h.update(f"float:{obj!r};".encode() if math.isfinite(obj) else f"float:{obj};".encode())
        return
    if isinstance(obj, np.generic):
        h.update(f"{obj.dtype.str}:{obj.item()!r};".encode())
        return
    if isinstance(obj, np.ndarray):
        _feed_array(h, obj)
        return
    if isinstance(obj, torch.Tensor):
        _feed_tensor(h, obj)
        return
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        h.update(digest_frame(obj).encode())
        return
    if isinstance(obj, (Path, torch.device, torch.dtype, np.dtype)):
        h.update(f"{type(obj).__name__}:{obj};".encode())
        return
    if id(obj) in seen:
        h.update(f"<cycle {type(obj).__qualname__}>".encode())
        return
    seen = seen | {id(obj)}
    if isinstance(obj, Mapping):
        items = sorted(((repr(k), v) for k, v in obj.items()), key=lambda kv: kv[0])
        h.update(f"map{len(items)}".encode())
        for k, v in items:
            h.update(k.encode())
            _feed(h, v, depth + 1, seen)
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        seq = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        h.update(f"{type(obj).__name__}{len(seq)}".encode())
        for v in seq:
            _feed(h, v, depth + 1, seen)
        return
    _feed_object(h, obj, depth, seen)


def _feed_object(h: Any, obj: Any, depth: int, seen: set[int]) -> None:
    if isinstance(obj, torch.jit.ScriptModule):
        h.update(b"torchscript")
        try:
            h.update(obj.code.encode())
        except (AttributeError, RuntimeError):
            h.update(repr(obj.graph).encode())
        _feed(h, dict(obj.state_dict()), depth + 1, seen)
        return
    if isinstance(obj, torch.nn.Module):
        h.update(f"module{type(obj).__module__}.{type(obj).__qualname__}".encode())
        _feed(h, dict(obj.state_dict()), depth + 1, seen)
        return
    if isinstance(obj, types.FunctionType):
        _feed_function(h, obj, depth, seen)
        return
    if isinstance(obj, functools.partial):
        h.update(b"partial")
        _feed(h, (obj.func, obj.args, obj.keywords), depth + 1, seen)
        return
    if isinstance(obj, types.MethodType):
        h.update(b"method")
        _feed(h, (obj.__func__, obj.__self__), depth + 1, seen)
        return
    if isinstance(obj, (types.BuiltinFunctionType, types.ModuleType, type)):
        h.update(f"{type(obj).__name__}:{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', obj)}"
                 .encode())
        return
    h.update(f"obj{type(obj).__module__}.{type(obj).__qualname__}".encode())
    state = getattr(obj, "__dict__", None)
    if state is None and hasattr(obj, "__slots__"):
        state = {s: getattr(obj, s) for s in obj.__slots__ if hasattr(obj, s)}
    if state is None:     # extension types (e.g. scikit-learn's Tree) expose their content through __getstate__
        try:
            state = obj.__getstate__()
        except Exception:  # noqa: BLE001 - any failure: fall back to the type name below
            state = None
        if state is not None:
            _feed(h, state, depth + 1, seen)
            return
    if state is not None:
        skip = getattr(type(obj), "_digest_exclude", ())   # provenance (e.g. a training report), not behaviour
        _feed(h, {k: v for k, v in state.items() if k not in skip}, depth + 1, seen)
        return
    text = repr(obj)
    h.update((type(obj).__qualname__ if " at 0x" in text else text).encode())


def _unwrap(est: Any) -> tuple[str, Any]:
    """The model inside an :class:`~interpret.estimators.Estimator` wrapper, and a wrapper description."""
    from ._estimators._wrappers import CallableEstimator, SklearnEstimator, TorchEstimator

    if isinstance(est, TorchEstimator):
        return f"TorchEstimator:{est.output_names}", est.module
    if isinstance(est, SklearnEstimator):
        return f"SklearnEstimator:{est.method}:{est.output_names}", est.model
    if isinstance(est, CallableEstimator):
        return f"CallableEstimator:{est.output_names}", est.fn
    return type(est).__qualname__, est


def digest_estimator(est: Any) -> str:
    """Digest of a model's weights and parameters.

    Torch modules: the class and every ``state_dict`` tensor (names, shapes, dtypes, bytes); TorchScript: the
    compiled code and the state dict; scikit-learn-like models: every attribute (``get_params()`` and the
    fitted ``*_`` arrays), walked structurally, never pickled; plain functions: their bytecode, constants,
    defaults and closure contents (module-level globals a function reads are not digested: pass the model
    itself, or close over it). :class:`~interpret.estimators.Estimator` wrappers are unwrapped.
    """
    h = _hasher()
    label, model = _unwrap(est)
    h.update(label.encode())
    _feed(h, model, 0, set())
    call = getattr(type(model), "__call__", None)  # noqa: B004 - the class's code, not callability
    if isinstance(call, types.FunctionType) and not isinstance(model, torch.nn.Module):
        _feed_function(h, call, 0, set())      # a callable object: its __call__ code as well as its state
    return h.hexdigest()


def digest_object(obj: Any) -> str:
    """Digest of any structure of parameters, arrays, tables, models and functions, walked by content."""
    h = _hasher()
    _feed(h, obj, 0, set())
    return h.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return {"__array_digest__": digest_array(value)}
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return {"__frame_digest__": digest_frame(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, (Path, torch.device, torch.dtype, np.dtype)):
        return str(value)
    if dataclass_fields := getattr(value, "__dataclass_fields__", None):
        return {"__dataclass__": type(value).__qualname__, **{k: getattr(value, k) for k in dataclass_fields}}
    raise TypeError(f"digest_json(): cannot digest a {type(value).__name__}; pass JSON-able parameters")


def digest_json(obj: Any) -> str:
    """Digest of JSON-able parameters (key order does not matter; tuples equal lists; arrays by content)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default, allow_nan=True)
    h = _hasher()
    h.update(blob.encode())
    return h.hexdigest()
