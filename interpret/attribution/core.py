"""``attribute()``: the one entry point to every attribution method."""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch

from .._validation import check_array, check_choice, check_int, check_same_length
from ..exceptions import ValidationError
from . import _batching as B
from ._model import frozen_weights, resolve_model
from .baselines import check_baseline_output, default_baselines
from .methods import METHODS, MethodOutput
from .result import Attribution

__all__ = ["attribute", "as_inputs"]

log = logging.getLogger(__name__)
_SINGLE_REFERENCE = ("integrated_gradients", "deeplift", "occlusion", "feature_ablation")  # one baseline each


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


_ROWS_PER_GALAXY = {"smoothgrad": ("nt_samples", 16), "gradient_shap": ("n_samples", 16),
                    "deeplift_shap": ("n_baselines", 16)}


def _auto_batch(method: str, model: Any, inputs: tuple[np.ndarray, ...], options: dict, budget: Any
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


def _auto_module_batch(method: str, model: Any, sample: tuple, options: dict, budget: Any) -> tuple[int, dict]:
    from .._memory import auto_batch_size, cpu_pass_rows

    if method == "integrated_gradients":
        rows = auto_batch_size(model.module, sample, model.device, budget)
        if model.device.type == "cpu":   # within the memory budget, cache-sized passes are the fastest
            rows = min(rows, cpu_pass_rows(model.module, sample))
        steps = options.get("n_steps", 50)
        per = steps if isinstance(steps, int) else 16
        options = {"rows_per_pass": rows, **options}
        return max(1, rows // per), options
    name, default = _ROWS_PER_GALAXY.get(method, (None, 1))
    per = int(options.get(name, default)) if name else (2 if method == "deeplift" else 1)
    return auto_batch_size(model.module, sample, model.device, budget, rows_per_item=per), options


def _completeness(delta: np.ndarray, output: np.ndarray, baseline_output: np.ndarray) -> float:
    """max |delta| / max |f(x) - f(b)| over galaxies (0 when every output equals its baseline's)."""
    scale = float(np.max(np.abs(np.asarray(output, float) - np.asarray(baseline_output, float)), initial=0.0))
    err = float(np.max(np.abs(np.asarray(delta, float)), initial=0.0))
    return err / scale if scale > 0 else err


def _probe(model: Any, inputs: tuple[np.ndarray, ...], dtype: torch.dtype) -> None:
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


def attribute(
    estimator: Any,
    x: Any,
    method: str = "integrated_gradients",
    *,
    baselines: Any = None,
    target: int | str | None = None,
    n_steps: int | str = 50,
    batch_size: int | str = 64,
    device: str | torch.device | None = None,
    progress: bool | None = None,
    seed: int | np.random.Generator | None = None,
    **options: Any,
) -> Attribution:
    """Attribute one output of an estimator to its inputs, galaxy by galaxy.

    Parameters
    ----------
    estimator : torch.nn.Module or Estimator
        A torch module, or an estimator from :func:`interpret.load_estimator`. Gradient methods need a
        differentiable module (``estimator.module``); for sklearn models or callables (``module is None``)
        only the perturbation methods ``occlusion`` and ``feature_ablation`` work.
    x : ndarray or tuple of ndarray
        Inputs (N, ...): images (N, C, H, W), spectra (N, L), catalogue features (N, F), or a tuple of these
        for multi-input models (e.g. ``(images, catalogue)``).
    method : str, default "integrated_gradients"
        A key of :data:`METHODS`: integrated_gradients, saliency, input_x_gradient, deeplift,
        deeplift_shap, gradient_shap, smoothgrad, occlusion, feature_ablation.
    baselines : str, float, ndarray or tuple, optional
        Reference input: ``"zeros"``, ``"mean"``, ``"blurred"``, a scalar or an array (per galaxy or shared;
        e.g. the training mean ``x_train.mean(axis=0)``); one per input as a tuple. Default (None): the
        sample mean for tabular inputs (2-D, at most 64 columns) and zeros for images and spectra
        (:func:`interpret.attribution.baselines.default_baselines`). A
        :class:`~interpret.exceptions.BaselineWarning` says when f(baseline) is far outside the predictions'
        range. For deeplift_shap / gradient_shap: a distribution of reference inputs (default:
        ``n_baselines`` galaxies drawn from ``x``).
    target : int, str or None
        Output to explain, by index or output name; required for multi-output models.
    n_steps : int or "auto", default 50
        Integration nodes for integrated_gradients (ignored by other methods); ``"auto"`` raises the nodes
        per galaxy until the completeness error is below ``rtol``.
    batch_size : int or "auto", default 64
        Galaxies per chunk: memory is bounded by one chunk (times ``n_steps`` rows for IG, capped by
        ``rows_per_pass``). ``"auto"`` sizes the chunk (and IG's ``rows_per_pass``) to fit memory from a
        probe pass (:func:`interpret._memory.auto_batch_size`; budget option ``memory_budget`` in bytes).
    device : str or torch.device, optional
        "cpu" or "cuda" (inputs and a copy of the model are moved there); default: the estimator's device.
    progress : bool, optional
        Progress bar over chunks (None: on unless CI is set; False: silent).
    seed : int or Generator, optional
        Randomness of deeplift_shap, gradient_shap and smoothgrad (same seed, same result).
    **options
        Method options, e.g. ``rule="trapezoid"``, ``engine="captum"``, ``nt_samples=32``, ``window=(1,4,4)``;
        for integrated_gradients ``precision="bfloat16"`` (or ``amp=True``) runs the path passes under
        autocast mixed precision; ``params["completeness_max_rel_error"]`` then reports how well
        completeness still holds.

    Returns
    -------
    Attribution
        ``values`` shaped like ``x`` (a tuple for multi-input), the explained outputs, and for path methods
        the baseline outputs and completeness deltas.

    References
    ----------
    Sundararajan, Taly & Yan 2017, arXiv:1703.01365; Kokhlikyan et al. 2020 (captum), arXiv:2009.07896.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from interpret.attribution import attribute
    >>> model = torch.nn.Linear(4, 1)
    >>> a = attribute(model, np.ones((5, 4), np.float32), n_steps=16, progress=False)
    >>> a.values.shape, bool(np.abs(a.delta).max() < 1e-5)
    ((5, 4), True)
    """
    check_choice(method, "method", "attribute", sorted(METHODS))
    budget = options.pop("memory_budget", None)
    auto = isinstance(batch_size, str) and batch_size == "auto"
    batch_size = 64 if auto else check_int(batch_size, "batch_size", "attribute", minimum=1)
    inputs, multi = as_inputs(x)
    if method == "integrated_gradients":
        options = {"n_steps": n_steps, **options}
    model = resolve_model(estimator, target=target, device=device, batch_size=batch_size)
    if auto:
        batch_size, options = _auto_batch(method, model, inputs, options, budget)
        if model.module is None:   # PredictForward carries the batch size
            model = resolve_model(estimator, target=target, device=device, batch_size=batch_size)
    algo = METHODS[method](**options)
    if algo.needs_module and model.module is None:
        raise ValidationError(f"attribute(): method {method!r} needs a differentiable torch module but the "
                              "estimator has none (sklearn or callable); use method='occlusion' or "
                              "'feature_ablation'")
    described = baselines if isinstance(baselines, (str, type(None))) else "array"
    if baselines is None and method in _SINGLE_REFERENCE:
        baselines = default_baselines(inputs)
        described = "auto: " + ", ".join(baselines)
    dtype = _module_dtype(model.module)
    chunks = B.Chunks(inputs, batch_size, model.device, dtype)
    t0 = time.perf_counter()
    was_training = model.module.training if model.module is not None else False
    try:   # evaluate in eval mode (dropout off, BatchNorm running stats), then restore the caller's mode
        if model.module is not None:
            model.module.eval()
        with frozen_weights(model.module):   # input gradients only: autograd skips the weights' work
            _probe(model, inputs, dtype)
            out: MethodOutput = algo.compute(model, chunks, baselines, progress=progress, seed=seed)
            output = out.output if out.output is not None else B.forward_outputs(model.forward, chunks)
    finally:
        if model.module is not None:
            model.module.train(was_training)
    log.info("attribute(%s): %d galaxies in %.2f s on %s", method, len(output), time.perf_counter() - t0,
             model.device)
    values = tuple(v.astype(inputs[i].dtype, copy=False) for i, v in enumerate(out.values))
    if out.baseline_output is not None:
        check_baseline_output(output, out.baseline_output)
    params = {**algo.params(), "baselines": described,
              "batch_size": batch_size, "device": str(model.device)}
    if out.delta is not None and out.baseline_output is not None:
        params["completeness_max_rel_error"] = _completeness(out.delta, output, out.baseline_output)
    return Attribution(
        values=values if multi else values[0], method=method, output=np.asarray(output, dtype=float),
        target=model.target, target_name=model.target_name, input_names=model.input_names,
        baseline_output=None if out.baseline_output is None else np.asarray(out.baseline_output, dtype=float),
        delta=None if out.delta is None else np.asarray(out.delta, dtype=float),
        n_steps=out.n_steps, params=params)
