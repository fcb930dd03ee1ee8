"""The run shared by every attribution method: validate inputs, size chunks, evaluate, wrap the result.

:class:`~interpret.attribution.methods.AttributionMethod` binds the model; :func:`run` does one call of its
``attribute()``: it turns ``x`` into arrays, picks the output (``target``), sizes the chunks
(``batch_size="auto"``), fills the default baselines, runs the method in eval mode with the weights frozen,
and wraps what it returns into an :class:`~interpret.attribution.Attribution`.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .._validation import check_array, check_same_length
from ..exceptions import ValidationError
from . import _batching as B
from ._model import ResolvedModel, frozen_weights
from .baselines import check_baseline_output, default_baselines
from .result import Attribution

if TYPE_CHECKING:
    from .methods import AttributionMethod, MethodOutput

__all__ = ["as_inputs", "run"]

log = logging.getLogger(__name__)


def as_inputs(x: Any, func: str = "attribute") -> tuple[tuple[np.ndarray, ...], bool]:
    """Validate ``x`` (array, tensor or tuple of them) into a tuple of arrays; also return 'was a tuple'."""
    multi = isinstance(x, (tuple, list))
    items = list(x) if multi else [x]
    if not items:
        raise ValidationError(f"{func}(): 'x' is an empty tuple; pass an array (N, ...) or a tuple of arrays")
    arrays = []
    for i, item in enumerate(items):
        if isinstance(item, torch.Tensor):
            item = item.detach().cpu().numpy()
        name = f"x[{i}]" if multi else "x"
        arr = check_array(item, name, func, ndim=(2, 3, 4, 5))
        if arr.dtype.kind not in "fiu":
            raise ValidationError(f"{func}(): '{name}' must be numeric; got dtype {arr.dtype}")
        arrays.append(np.ascontiguousarray(arr, dtype=np.float64 if arr.dtype == np.float64 else np.float32))
    check_same_length(func, **{f"x[{i}]": a for i, a in enumerate(arrays)})
    return tuple(arrays), multi


_ROWS_PER_GALAXY = {"smoothgrad": "nt_samples", "gradient_shap": "n_samples", "deeplift_shap": "n_baselines"}


def auto_batch(method: str, model: ResolvedModel, inputs: tuple[np.ndarray, ...], options: dict, budget: Any
               ) -> tuple[int, dict]:
    """Galaxies per chunk (and IG rows per pass) that fit the memory budget, from a probe pass."""
    from .._memory import auto_batch_size

    sample = tuple(a[:8] for a in inputs)
    if model.module is None:   # perturbation methods through predict(): no gradients, estimate from inputs
        return auto_batch_size(lambda *t: t[0], sample, "cpu", budget, backward=False), options
    was_training = model.module.training
    model.module.eval()    # the probe must not update BatchNorm statistics of the caller's model
    try:
        return _auto_module_batch(method, model, sample, options, budget)
    finally:
        model.module.train(was_training)


def _auto_module_batch(method: str, model: ResolvedModel, sample: tuple, options: dict, budget: Any
                       ) -> tuple[int, dict]:
    from .._memory import auto_batch_size, cpu_pass_rows

    if method == "integrated_gradients":
        rows = auto_batch_size(model.module, sample, model.device, budget)
        if model.device.type == "cpu":   # within the memory budget, cache-sized passes are the fastest
            rows = min(rows, cpu_pass_rows(model.module, sample))
        steps = options.get("n_steps", 50)
        per = steps if isinstance(steps, int) else 16
        if options.get("rows_per_pass") is None:
            options = {**options, "rows_per_pass": rows}
        return max(1, rows // per), options
    name = _ROWS_PER_GALAXY.get(method)
    per = int(options[name]) if name in options else (2 if method == "deeplift" else 1)
    return auto_batch_size(model.module, sample, model.device, budget, rows_per_item=per), options


def _completeness(delta: np.ndarray, output: np.ndarray, baseline_output: np.ndarray) -> float:
    """max |delta| / max |f(x) - f(b)| over galaxies (0 when every output equals its baseline's)."""
    scale = float(np.max(np.abs(np.asarray(output, float) - np.asarray(baseline_output, float)), initial=0.0))
    err = float(np.max(np.abs(np.asarray(delta, float)), initial=0.0))
    return err / scale if scale > 0 else err


def _probe(model: ResolvedModel, inputs: tuple[np.ndarray, ...], dtype: torch.dtype) -> None:
    """One forward pass on the first two galaxies: a shape mismatch (wrong feature count, images into an
    MLP) or a bad ``target`` becomes a ValidationError naming the input's shape and what the model expects."""
    tensors = tuple(torch.as_tensor(np.array(a[:2]), dtype=dtype, device=model.device) for a in inputs)  # copy:
    # inputs may be read-only (memory maps, pandas columns)
    try:
        with torch.no_grad():
            model.forward(*tensors)
    except ValidationError:
        raise
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        from .._estimators._wrappers import _first_layer_expectation

        module = getattr(model.module, "module", None)
        expects = _first_layer_expectation(module) if isinstance(module, torch.nn.Module) else None
        shapes = ", ".join(f"({', '.join(['n', *map(str, a.shape[1:])])})" for a in inputs)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"attribute(): the model cannot take input of shape {shapes}"
                              + (f"; it expects {expects}" if expects else "")
                              + f" ({type(exc).__name__}: {first}); pass inputs laid out as the model was "
                              "trained") from exc


def _module_dtype(module: torch.nn.Module | None) -> torch.dtype:
    p = next(iter(module.parameters()), None) if module is not None else None
    return p.dtype if p is not None and p.is_floating_point() else torch.float32


def _evaluate(method: AttributionMethod, model: ResolvedModel, chunks: B.Chunks, baselines: Any, options: dict,
              seed: Any) -> tuple[MethodOutput, np.ndarray]:
    """The method's output and f(x), in eval mode with frozen weights; the caller's mode is restored."""
    was_training = model.module.training if model.module is not None else False
    try:   # evaluate in eval mode (dropout off, BatchNorm running stats), then restore the caller's mode
        if model.module is not None:
            model.module.eval()
        with frozen_weights(model.module):   # input gradients only: autograd skips the weights' work
            _probe(model, chunks.inputs, chunks.dtype)
            out = method._compute(model, chunks, baselines, options, progress=method.progress, seed=seed)
            output = out.output if out.output is not None else B.forward_outputs(model.forward, chunks)
    finally:
        if model.module is not None:
            model.module.train(was_training)
    return out, output


def run(method: AttributionMethod, x: Any, *, target: int | str | None, baselines: Any, options: dict,
        seed: Any) -> Attribution:
    """One ``attribute()`` call of a bound method with validated ``options`` (explicit defaults filled in)."""
    inputs, multi = as_inputs(x)
    model = method.bound.select(target)
    batch_size = method.batch_size
    if method.auto_batch:
        batch_size, options = auto_batch(method.name, model, inputs, options, method.memory_budget)
        if model.module is None:   # PredictForward carries the batch size
            model = dataclasses.replace(method.bound, batch_size=batch_size).select(target)
    described = baselines if isinstance(baselines, (str, type(None))) else "array"
    if baselines is None and method.single_reference:
        baselines = default_baselines(inputs)
        described = "auto: " + ", ".join(baselines)
    chunks = B.Chunks(inputs, batch_size, model.device, _module_dtype(model.module))
    t0 = time.perf_counter()
    out, output = _evaluate(method, model, chunks, baselines, options, seed)
    log.info("attribute(%s): %d galaxies in %.2f s on %s", method.name, len(output), time.perf_counter() - t0,
             model.device)
    values = tuple(v.astype(inputs[i].dtype, copy=False) for i, v in enumerate(out.values))
    if out.baseline_output is not None:
        check_baseline_output(output, out.baseline_output)
    params = {**method.params(options), "baselines": described, "batch_size": batch_size,
              "device": str(model.device)}
    if out.delta is not None and out.baseline_output is not None:
        params["completeness_max_rel_error"] = _completeness(out.delta, output, out.baseline_output)
    return Attribution(
        values=values if multi else values[0], method=method.name, output=np.asarray(output, dtype=float),
        target=model.target, target_name=model.target_name, input_names=model.input_names,
        baseline_output=None if out.baseline_output is None else np.asarray(out.baseline_output, dtype=float),
        delta=None if out.delta is None else np.asarray(out.delta, dtype=float),
        n_steps=out.n_steps, params=params)
