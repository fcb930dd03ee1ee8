"""The :class:`Estimator` base: input normalisation, batching, output conversion and validation.

Subclasses implement only ``_predict_batch(inputs) -> array-like`` (one batch, a list of per-input arrays
in ``input_names`` order); everything a user can get wrong is checked here, once.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._progress import progress_bar
from .._validation import _rows, check_int, check_same_length
from ..exceptions import ValidationError

__all__ = ["Estimator", "resolve_device"]

logger = logging.getLogger(__name__)

Shape = tuple[int | None, ...]


def resolve_device(device: str | torch.device | None, func: str = "load_estimator") -> torch.device:
    """Turn ``device`` ("cpu", "cuda", "cuda:1", "mps", "auto", torch.device or None) into a torch.device.

    ``"auto"`` picks CUDA when available, else CPU; None means CPU. Asking for CUDA on a machine without
    it raises :class:`~interpret.exceptions.ValidationError`.
    """
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValidationError(f"{func}(): 'device' {device!r} is not a torch device; use 'cpu', 'cuda' "
                              f"or 'auto'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValidationError(f"{func}(): 'device' is {device!r} but CUDA is not available here; "
                              f"use device='cpu' or device='auto'")
    return dev


def _fmt_shape(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join("n" if i == 0 else ("*" if s is None else str(s)) for i, s in enumerate(shape)) + ")"


class Estimator:
    """A trained estimator with one calling convention: numpy in, numpy out, batched, no gradients.

    Build one with :func:`interpret.estimators.load_estimator`; subclasses wrap torch modules
    (:class:`TorchEstimator`), fitted scikit-learn-like models (:class:`SklearnEstimator`) and plain
    callables (:class:`CallableEstimator`).

    Attributes
    ----------
    module : torch.nn.Module or None
        The differentiable module, in eval mode (None for scikit-learn models and callables).
    device : torch.device
        Where batches are evaluated (always CPU for non-torch estimators).
    input_names : tuple of str or None
        Names of the inputs in ``forward()`` order for multi-input models (keys of a dict input).
    output_names : tuple of str or None
        Names of the output columns, e.g. ``("W1", "W2", "W3", "W4")``.
    n_inputs : int or None
        Number of inputs ``predict`` expects (None: any number, for variadic callables).
    input_shapes : tuple of tuple or None
        Per-sample shape of each input (``None`` entries match any size) checked before evaluation.
    """

    module: torch.nn.Module | None = None
    #: Attributes that record where the estimator came from, not what it computes: a content digest
    #: (interpret._digest, the studies' cache keys) leaves them out, so a model trained now and the same
    #: weights loaded from a cache have one digest.
    _digest_exclude: tuple[str, ...] = ("training",)

    def __init__(self, *, device: torch.device | str | None = "cpu", input_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None, n_inputs: int | None = 1,
                 input_shapes: Sequence[Shape | None] | None = None) -> None:
        self.device = resolve_device(device, type(self).__name__)
        self.input_names = tuple(input_names) if input_names is not None else None
        self.output_names = tuple(output_names) if output_names is not None else None
        if self.input_names is not None:
            n_inputs = len(self.input_names)
        self.n_inputs = n_inputs
        if input_shapes is not None:
            input_shapes = tuple(None if s is None else tuple(s) for s in input_shapes)
            if n_inputs is not None and len(input_shapes) != n_inputs:
                raise ValidationError(f"{type(self).__name__}(): 'input_shapes' has {len(input_shapes)} "
                                      f"entries for {n_inputs} inputs; give one per-sample shape per input")
        self.input_shapes = input_shapes

    # --- to implement ---------------------------------------------------------------------------------
    def _predict_batch(self, inputs: list[Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _convert_input(self, value: Any) -> Any:
        """Convert one input to the container the backend accepts (numpy here; sklearn keeps frames)."""
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
        return np.asarray(value)

    def _expected_description(self, index: int) -> str | None:
        """Human-readable expected shape of input ``index`` for error messages (None if unknown)."""
        if self.input_shapes is not None and self.input_shapes[index] is not None:
            return _fmt_shape((None, *self.input_shapes[index]))
        return None

    # --- public API -----------------------------------------------------------------------------------
    def predict(self, x: Any, batch_size: int | str = 1024, progress: bool | None = None, *,
                check_finite: bool = True) -> np.ndarray:
        """Evaluate the estimator on ``x`` in batches, without gradients.

        Parameters
        ----------
        x : array-like, or tuple / list / dict of array-likes
            One input, shape ``(n, ...)``; or, for multi-input models, one array per input in
            ``input_names`` order (tuple/list) or keyed by input name (dict). All inputs share ``n``.
            Pandas frames and torch tensors are accepted.
        batch_size : int or "auto", default 1024
            Rows evaluated per call of the underlying model; ``"auto"`` picks the largest batch whose forward
            pass fits in memory (free GPU memory on CUDA; see :func:`interpret._memory.auto_batch_size`).
        progress : bool or None, default None
            Show a progress bar over batches (None: on in a terminal, off under CI).
        check_finite : bool, default True
            Raise :class:`~interpret.exceptions.ValidationError` naming the count and rows of NaN/inf
            outputs.

        Returns
        -------
        numpy.ndarray
            Shape ``(n,)`` for a single output, ``(n, k)`` for ``k`` outputs (higher-rank outputs are
            returned as produced). The dtype is the model's (float32 for most torch models).

        Examples
        --------
        >>> import numpy as np
        >>> from interpret.estimators import load_estimator
        >>> est = load_estimator(lambda x: x.sum(axis=1))
        >>> est.predict(np.ones((3, 2)), progress=False).tolist()
        [2.0, 2.0, 2.0]
        """
        func = f"{type(self).__name__}.predict"
        auto = isinstance(batch_size, str) and batch_size == "auto"
        batch_size = 1 if auto else check_int(batch_size, "batch_size", func, minimum=1)
        inputs = self._normalise_inputs(x, func)
        n = check_same_length(func, **{self._input_label(i): a for i, a in enumerate(inputs)})
        self._check_shapes(inputs, func)
        if auto:
            batch_size = self._auto_batch_size(inputs) if n else 1
        starts = range(0, n, batch_size)
        out = None   # each batch is copied into one array as it comes: a list of small per-batch arrays pinned
        # the heap between the passes' freed activations (1.3 GB of peak memory for a 30 MB output; issue 21)
        for start in progress_bar(starts, progress=progress, desc="predict", total=len(starts)):
            batch = [_take_rows(a, start, start + batch_size) for a in inputs]
            part = self._to_numpy(self._call_backend(batch, func), len(batch[0]), func)
            if out is None:
                out = np.empty((n, *part.shape[1:]), dtype=part.dtype)
            elif part.shape[1:] != out.shape[1:]:
                raise ValidationError(f"{func}(): the model returned shape {part.shape[1:]} per row for rows "
                                      f"{start}+ but {out.shape[1:]} before; it must return one shape")
            elif np.result_type(out.dtype, part.dtype) != out.dtype:
                out = out.astype(np.result_type(out.dtype, part.dtype))
            out[start:start + len(part)] = part
        out = self._finish_output(np.empty((0,)) if out is None else out, func)
        if check_finite and out.dtype.kind in "fc":
            bad = ~np.isfinite(out)
            if bad.any():
                rows = bad.reshape(bad.shape[0], -1).any(axis=1)
                raise ValidationError(
                    f"{func}(): the estimator returned {int(bad.sum())} non-finite outputs in {int(rows.sum())} "
                    f"rows (rows {_rows(rows)}); check those inputs for NaN/inf or out-of-range values")
        return out

    def __call__(self, x: Any, batch_size: int = 1024, progress: bool | None = None) -> np.ndarray:
        """Same as :meth:`predict`."""
        return self.predict(x, batch_size=batch_size, progress=progress)

    def __repr__(self) -> str:
        parts = [f"device={self.device}"]
        if self.input_names:
            parts.append(f"input_names={self.input_names}")
        if self.output_names:
            parts.append(f"output_names={self.output_names}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # --- helpers --------------------------------------------------------------------------------------
    def _auto_batch_size(self, inputs: list[Any]) -> int:
        """Rows per forward pass that fit in memory (probing ``module`` when there is one)."""
        from .._memory import auto_batch_size

        sample = tuple(np.asarray(_take_rows(a, 0, 8)) for a in inputs)
        if self.module is not None:
            return auto_batch_size(self.module, sample, self.device, backward=False)
        return auto_batch_size(lambda *t: t[0], sample, "cpu", backward=False)

    def _input_label(self, i: int) -> str:
        if self.input_names is not None and i < len(self.input_names):
            return f"x[{self.input_names[i]!r}]"
        return "x" if self.n_inputs == 1 else f"x[{i}]"

    def _normalise_inputs(self, x: Any, func: str) -> list[Any]:
        if isinstance(x, Mapping):
            if self.input_names is None:
                raise ValidationError(f"{func}(): 'x' is a dict but this estimator has no input_names; pass a "
                                      f"tuple in forward() order or give input_names= to load_estimator")
            missing = [k for k in self.input_names if k not in x]
            extra = [k for k in x if k not in self.input_names]
            if missing or extra:
                raise ValidationError(f"{func}(): 'x' keys must be {list(self.input_names)}; missing "
                                      f"{missing}, unexpected {extra}")
            items = [x[k] for k in self.input_names]
        elif isinstance(x, tuple) or (isinstance(x, list) and (self.n_inputs or 1) > 1):
            items = list(x)
        else:
            items = [x]
        if self.n_inputs is not None and len(items) != self.n_inputs:
            names = f" ({', '.join(self.input_names)})" if self.input_names else ""
            raise ValidationError(f"{func}(): the estimator expects {self.n_inputs} input(s){names}; got "
                                  f"{len(items)}; pass one array per input as a tuple or dict")
        out = []
        for i, item in enumerate(items):
            arr = self._convert_input(item)
            if np.ndim(arr) < 1 or (isinstance(arr, np.ndarray) and arr.dtype == object):
                raise ValidationError(f"{func}(): '{self._input_label(i)}' must be a numeric array with one row "
                                      f"per sample; got {type(item).__name__} of shape {np.shape(arr)}")
            out.append(arr)
        return out

    def _check_shapes(self, inputs: list[Any], func: str) -> None:
        if self.input_shapes is None:
            return
        for i, (arr, expected) in enumerate(zip(inputs, self.input_shapes)):
            if expected is None:
                continue
            given = tuple(np.shape(arr)[1:])
            ok = len(given) == len(expected) and all(e is None or e == g for e, g in zip(expected, given))
            if not ok:
                raise ValidationError(f"{func}(): '{self._input_label(i)}' has shape {np.shape(arr)}; expected "
                                      f"{_fmt_shape((None, *expected))}; reshape or select the right columns")

    def _call_backend(self, batch: list[Any], func: str) -> Any:
        try:
            return self._predict_batch(batch)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            if isinstance(exc, ValidationError):
                raise
            given = ", ".join(f"{self._input_label(i)} {tuple(np.shape(a))}" for i, a in enumerate(batch))
            expected = [self._expected_description(i) for i in range(len(batch))]
            exp = "; ".join(f"{self._input_label(i)} {e}" for i, e in enumerate(expected) if e)
            hint = f"expected {exp}" if exp else "check the input shapes and dtypes"
            raise ValidationError(f"{func}(): the model failed on inputs of shape {given}; {hint}. "
                                  f"Model error: {exc}") from exc

    def _to_numpy(self, out: Any, n: int, func: str) -> np.ndarray:
        if isinstance(out, Mapping):
            keys = list(out)
            if self.output_names is None:
                self.output_names = tuple(str(k) for k in keys)
            out = [out[k] for k in keys]
        if isinstance(out, (tuple, list)):
            cols = [self._to_numpy(o, n, func) for o in out]
            return np.concatenate([c.reshape(n, -1) for c in cols], axis=1)
        if isinstance(out, torch.Tensor):
            out = out.detach().cpu().numpy()
        elif isinstance(out, (pd.DataFrame, pd.Series)):
            if isinstance(out, pd.DataFrame) and self.output_names is None:
                self.output_names = tuple(str(c) for c in out.columns)
            out = out.to_numpy()
        out = np.asarray(out)
        if out.ndim == 0 or out.shape[0] != n:
            raise ValidationError(f"{func}(): the model returned shape {out.shape} for a batch of {n} rows; it "
                                  f"must return one row per input row")
        return out

    def _finish_output(self, out: np.ndarray, func: str) -> np.ndarray:
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        k = 1 if out.ndim == 1 else out.shape[1]
        if self.output_names is not None and out.ndim <= 2 and len(self.output_names) != k:
            raise ValidationError(f"{func}(): the model returned {k} output column(s) but output_names has "
                                  f"{len(self.output_names)} ({list(self.output_names)}); fix output_names")
        return out


def _take_rows(a: Any, start: int, stop: int) -> Any:
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return a.iloc[start:stop]
    return a[start:stop]
