"""Masked predictions with a linear first layer computed once per band and galaxy ("first-layer shortcut").

When a torch model's first operation on one of its inputs is an ``nn.Linear`` or ``nn.ConvNd`` (``groups=1``)
applied to that input tensor itself, and the fill does not depend on the kept bands (``zero``, ``mean``,
``median``, ``noise``), the first layer's output for a kept subset ``S`` is

    L(x_S) = L(x_fill) + sum_{b in S} W P_b (x - x_fill)

(``P_b`` keeps the slots of band ``b``; ``W`` is the layer without its bias). Each band's contribution is
computed once per galaxy from the band's slice of the weights, so the ``m`` subsets only sum ``B`` stored
tensors (one ``(m, B) x (B, F)`` product) and run the rest of the network: no masked copy of the input is
built and the first layer's ``B``-channel convolution is not repeated ``m`` times.

The layer is found by tracing one forward pass (the first Linear/Conv module called on the input tensor,
called once). Before use the shortcut is checked against the plain masked computation on a few galaxies and
subsets; a mismatch (e.g. the model also reads the input elsewhere) falls back to the plain path, with a log
line. Values agree with the plain path to float32 summation order (about 1e-7 relative).
``Batching(first_layer=False)`` turns it off; ``True`` makes it required (an error when it does not apply).
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import threading
from typing import Any

import numpy as np
import torch

from ..exceptions import ValidationError
from ..parallel import map_into
from .band_layout import BandLayout, ModelInputs
from .strategies import Filler, StaticFiller

__all__ = ["FirstLayerPlan", "plan_first_layer", "first_layer_predictions"]

logger = logging.getLogger(__name__)

_LAYERS = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
_CHECK_ROWS = 8
_BLOCK_BYTES = 8 * 2**20   # stored first-layer contributions of one row block (cache-sized)
_CHECK_TOL = 1e-4          # relative to the output scale: float32 summation order differs, nothing else


class _Injected(torch.nn.Module):
    """Stands in for the first layer in the copy of the model: returns the precomputed output (per thread)."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def set(self, value: torch.Tensor) -> None:
        self._local.value = value

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self._local.value

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_local", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()


@dataclasses.dataclass
class FirstLayerPlan:
    """Where the shortcut applies: the input, its first layer, the band slots on it, the rest of the model."""

    name: str                       # the layer's name in the module, e.g. "conv.0"
    input: int                      # index of the input in ModelInputs
    order: list[int]                # ModelInputs indices in forward() order
    layer: torch.nn.Module
    rest: torch.nn.Module           # a copy of the model (sharing parameters) with the layer injected
    injected: _Injected
    bands: np.ndarray               # indices (in layout order) of the bands with slots on this input
    positions: list[list[int]]      # per such band, its positions on axis 1 of the input
    dtype: torch.dtype
    device: torch.device


def _forward_order(est: Any, inputs: ModelInputs) -> list[int] | None:
    if inputs.kind != "dict":
        return list(range(len(inputs.arrays)))
    names = getattr(est, "input_names", None)
    if not names or set(names) != set(inputs.keys):
        return None
    return [inputs.keys.index(k) for k in names]


def _trace(module: torch.nn.Module, tensors: list[torch.Tensor]) -> dict[int, tuple[str, torch.nn.Module]]:
    """Per forward-order input position: the first Linear/Conv layer called on that very tensor, if called once."""
    calls: list[tuple[str, Any]] = []
    counts: dict[str, int] = {}
    hooks = []
    for name, sub in module.named_modules():
        if isinstance(sub, _LAYERS) and getattr(sub, "groups", 1) == 1:
            def pre(mod: Any, args: Any, name: str = name) -> None:
                counts[name] = counts.get(name, 0) + 1
                calls.append((name, args[0] if args else None))
            hooks.append(sub.register_forward_pre_hook(pre))
    try:
        with torch.no_grad():
            module(*tensors)
    finally:
        for h in hooks:
            h.remove()
    found: dict[int, tuple[str, torch.nn.Module]] = {}
    for name, arg in calls:
        for pos, t in enumerate(tensors):
            if arg is t and pos not in found and counts[name] == 1:
                found[pos] = (name, module.get_submodule(name))
    return found


def _band_positions(layout: BandLayout, i: int, ndim: int, layer: torch.nn.Module):
    """(band indices, positions on axis 1) of the bands on input ``i``; None if the slots do not fit the layer."""
    bands, positions, used = [], [], set()
    for k, band in enumerate(layout.bands):
        pos = [s.position for s in layout.slots[band] if s.input == i]
        if not pos:
            continue
        if any(s.axis != 1 for s in layout.slots[band] if s.input == i) or used & set(pos):
            return None                  # not on the feature/channel axis, or a slot shared by two bands
        used |= set(pos)
        bands.append(k)
        positions.append(sorted(pos))
    if not bands or (isinstance(layer, torch.nn.Linear) and ndim != 2):
        return None
    return np.asarray(bands), positions


def _make_plan(est: Any, inputs: ModelInputs, layout: BandLayout, filler: Filler) -> FirstLayerPlan | None:
    module = getattr(est, "module", None)
    order = _forward_order(est, inputs)
    if (not isinstance(filler, StaticFiller) or module is None or order is None
            or isinstance(module, torch.jit.ScriptModule)):
        return None
    sample = [np.ascontiguousarray(inputs.arrays[j][:2]) for j in order]
    tensors = [est._to_tensor(a) for a in sample]
    found = _trace(module, tensors)
    best = None
    for pos, (name, layer) in found.items():
        i = order[pos]
        bp = _band_positions(layout, i, inputs.arrays[i].ndim, layer)
        size = inputs.arrays[i][:1].size
        if bp is not None and (best is None or size > best[0]):
            best = (size, i, name, layer, bp)
    if best is None:
        return None
    _, i, name, layer, (bands, positions) = best
    memo = {id(t): t for t in (*module.parameters(), *module.buffers())}
    rest = copy.deepcopy(module, memo)
    injected = _Injected()
    parent, _, leaf = name.rpartition(".")
    setattr(rest.get_submodule(parent) if parent else rest, leaf, injected)
    return FirstLayerPlan(name=name, input=i, order=order, layer=layer, rest=rest.eval(), injected=injected,
                          bands=bands, positions=positions, dtype=tensors[0].dtype if tensors else torch.float32,
                          device=est.device)


def plan_first_layer(est: Any, inputs: ModelInputs, layout: BandLayout, filler: Filler, *,
                     required: bool = False, func: str = "band_ablation") -> FirstLayerPlan | None:
    """The shortcut plan, checked against the plain path on a few galaxies; None where it does not apply.

    Parameters
    ----------
    est : Estimator
        A loaded estimator; the shortcut needs an eager ``torch.nn.Module`` (``est.module``).
    inputs, layout, filler
        As in :func:`interpret.ablation.masked_predictions`.
    required : bool, default False
        Raise :class:`~interpret.exceptions.ValidationError` instead of returning None.
    """
    from .masking import masked_predictions
    from .subsets import all_masks

    why = "no eager torch module whose first Linear/Conv layer reads a band input, or a fill that " \
          "depends on the kept bands (inpaint)"
    try:
        plan = _make_plan(est, inputs, layout, filler)
    except (RuntimeError, ValueError, TypeError, AttributeError, copy.Error) as exc:   # tracing or copying failed
        plan, why = None, f"the model could not be traced or copied ({type(exc).__name__}: {exc})"
    if plan is not None:
        small = inputs.take(slice(0, min(inputs.n, _CHECK_ROWS)))
        n_b = len(layout.bands)
        masks = all_masks(n_b) if n_b <= 3 else np.stack(
            [np.ones(n_b, bool), np.zeros(n_b, bool), *(np.random.default_rng(0).random((4, n_b)) < 0.5)])
        plain = masked_predictions(est, small, layout, filler, masks, progress=False)
        try:
            fast = first_layer_predictions(plan, est, small, layout, filler, masks, progress=False)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:     # e.g. the layer's output reshaped
            fast = np.full((0,), np.nan)
            logger.info("%s(): first-layer shortcut failed its check (%s: %s)", func, type(exc).__name__, exc)
        scale = max(float(np.max(np.abs(plain))), 1e-30)
        if fast.shape == plain.shape and float(np.max(np.abs(fast - plain))) <= _CHECK_TOL * scale:
            logger.info("%s(): first-layer shortcut on layer %r of input %d", func, plan.name, plan.input)
            return plan
        why = f"the shortcut through layer {plan.name!r} differs from the plain computation (the model " \
              f"reads that input elsewhere too)"
    if required:
        raise ValidationError(f"{func}(): Batching(first_layer=True) but the shortcut does not apply: {why}; "
                              f"use first_layer=None (automatic) or False")
    logger.info("%s(): no first-layer shortcut: %s", func, why)
    return None


def _restricted(filler: StaticFiller, inputs: set[int]) -> StaticFiller:
    """The same fill on the slots of ``inputs`` only."""
    layout = filler.layout
    slots = {b: tuple(s for s in layout.slots[b] if s.input in inputs) for b in layout.bands}
    return StaticFiller(dataclasses.replace(layout, slots=slots), filler.values)


class _Block:
    """Picklable worker: predictions of every subset for one block of rows."""

    def __init__(self, plan: FirstLayerPlan, est: Any, inputs: ModelInputs, filler: StaticFiller,
                 masks: np.ndarray, batch_size: int):
        self.plan, self.est, self.inputs, self.masks, self.batch_size = plan, est, inputs, masks, batch_size
        others = set(range(len(inputs.arrays))) - {plan.input}
        self.fill_own, self.fill_others = _restricted(filler, {plan.input}), _restricted(filler, others)

    def _contributions(self, r0: int, r1: int) -> torch.Tensor:
        """``L(x_fill)`` then every band's ``W P_b (x - x_fill)``: shape (1 + B, rows, *F)."""
        p = self.plan
        x = self.inputs.arrays[p.input][r0:r1]
        arrays: list[Any] = [None] * len(self.inputs.arrays)
        arrays[p.input] = x.copy()
        self.fill_own.fill(arrays, np.arange(r0, r1), np.zeros(len(self.masks[0]), dtype=bool))
        xf = torch.as_tensor(np.ascontiguousarray(arrays[p.input])).to(dtype=p.dtype, device=p.device)
        diff = torch.as_tensor(np.ascontiguousarray(x)).to(dtype=p.dtype, device=p.device) - xf
        w = p.layer.weight
        with torch.no_grad():
            parts = [torch.nn.functional.linear(diff[:, pos], w[:, pos])
                     if isinstance(p.layer, torch.nn.Linear) else p.layer._conv_forward(diff[:, pos], w[:, pos], None)
                     for pos in p.positions]
            return torch.stack([p.layer(xf), *parts])

    def __call__(self, item: tuple[int, int]) -> np.ndarray:
        r0, r1 = item
        contrib = self._contributions(r0, r1)
        nr, m = r1 - r0, len(self.masks)
        rows_per, group = (self.batch_size, 1) if nr >= self.batch_size else (nr, max(1, self.batch_size // nr))
        weights = np.concatenate([np.ones((m, 1)), self.masks[:, self.plan.bands]], axis=1)     # 1: L(x_fill)
        weights = torch.as_tensor(weights, dtype=self.plan.dtype, device=self.plan.device)
        out = None
        for j0 in range(0, m, group):
            j1 = min(j0 + group, m)
            for s0 in range(0, nr, rows_per):
                s1 = min(s0 + rows_per, nr)
                z = torch.tensordot(weights[j0:j1], contrib[:, s0:s1], dims=1)        # (g, rows, *F)
                part = self._forward(z, self.masks[j0:j1], r0 + s0, r0 + s1)
                if out is None:
                    out = np.empty((m, nr, *part.shape[2:]), dtype=part.dtype)
                out[j0:j1, s0:s1] = part
        return out

    def _forward(self, z: torch.Tensor, masks: np.ndarray, r0: int, r1: int) -> np.ndarray:
        """The rest of the network on first-layer outputs ``z`` (g, nc, *F); other inputs masked as usual."""
        p, g, nc = self.plan, len(masks), r1 - r0
        rows = np.arange(r0, r1)
        stacked = [None if j == p.input else np.concatenate([a[r0:r1]] * g, axis=0)
                   for j, a in enumerate(self.inputs.arrays)]
        for k in range(g):
            self.fill_others.fill([None if s is None else s[k * nc:(k + 1) * nc] for s in stacked], rows, masks[k])
        shape = self.inputs.arrays[p.input].shape[1:]
        holder = torch.zeros((), dtype=p.dtype, device=p.device).expand(g * nc, *shape)   # never read
        tensors = [holder if j == p.input else self.est._to_tensor(stacked[j]) for j in p.order]
        func = "band_ablation (first-layer shortcut)"
        with torch.no_grad():
            p.injected.set(z.reshape(g * nc, *z.shape[2:]))
            try:
                raw = p.rest(*tensors)
            finally:
                p.injected.set(None)
        out = self.est._finish_output(self.est._to_numpy(raw, g * nc, func), func)
        if out.dtype.kind in "fc" and not np.isfinite(out).all():
            raise ValidationError(f"{func}: the estimator returned non-finite outputs; check the inputs for "
                                  f"NaN/inf or out-of-range values")
        return out.reshape(g, nc, *out.shape[1:])


def first_layer_predictions(plan: FirstLayerPlan, est: Any, inputs: ModelInputs, layout: BandLayout,
                            filler: Filler, masks: np.ndarray, *, batch_size: int = 1024,
                            max_bytes: int = 256 * 2**20, n_jobs: int | None = None,
                            progress: bool | None = None) -> np.ndarray:
    """Predictions for every keep-mask ``(m, B)`` with the shortcut; same result as ``masked_predictions``.

    Rows are cut into blocks whose stored contributions (``(B + 1) x rows x F`` floats) stay cache-sized (8 MiB,
    and within ``max_bytes``); every subset is summed from them, ``batch_size // rows`` subsets per forward
    pass. The blocks go through :func:`interpret.parallel.map_into`: each block's predictions are copied into
    one output array allocated once as they arrive, so the per-block arrays never all exist at once (held until
    the end, they fragmented the heap: +2.5 GB at 10^5 galaxies).

    Returns
    -------
    numpy.ndarray
        Shape ``(m, n)`` (or ``(m, n, k)`` for ``k`` outputs).
    """
    n = inputs.n
    with torch.no_grad():
        f_size = int(np.prod(plan.layer(torch.as_tensor(np.ascontiguousarray(
            inputs.arrays[plan.input][:1])).to(plan.dtype)).shape[1:]))
    per_row = (len(plan.bands) + 1) * f_size * torch.finfo(plan.dtype).bits // 8
    # blocks small enough that the stored contributions stay in the caches while every subset sums them
    rows = max(1, min(n, batch_size, min(max_bytes, _BLOCK_BYTES) // max(per_row, 1)))
    items = [(r0, min(r0 + rows, n)) for r0 in range(0, n, rows)]
    worker = _Block(plan, est, inputs, filler, masks, batch_size)
    out: list[np.ndarray] = []

    def write(item: tuple[int, int], part: np.ndarray) -> None:
        if not out:
            out.append(np.empty((part.shape[0], n, *part.shape[2:]), dtype=part.dtype))
        out[0][:, item[0]:item[1]] = part

    map_into(worker, items, write, n_jobs=n_jobs, progress=progress, desc="masked subsets")
    if not out:
        raise ValidationError("first_layer_predictions(): no galaxies to predict (the inputs have 0 rows)")
    return out[0]
