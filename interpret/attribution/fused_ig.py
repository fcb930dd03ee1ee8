"""Fused Integrated-Gradients engine: every (step, galaxy) pair in a few large chunked passes.

Integrated Gradients (Sundararajan, Taly & Yan 2017, arXiv:1703.01365) attributes
``(x - b) * integral_0^1 grad f(b + alpha (x - b)) d alpha``. captum evaluates the integral by building the
full expanded batch and several intermediate copies; this engine builds each pass's interpolated inputs
directly on the device (one fused ``addcmul``), takes one ``autograd.grad`` with respect to the inputs only,
with the quadrature weights passed as the output gradient (so the backward returns ``w_k * grad`` and the
node sum is a plain add), so its cost is that of ``n_steps`` forward+backward passes.
:func:`~interpret.attribution.attribute` also freezes the model's weights for the call (autograd then skips
the weight side of every layer's backward) and sizes the passes for the device: on a GPU a pass holds
``batch_size * n_steps`` rows, on the CPU about :data:`interpret._memory.CPU_PASS_BYTES` of activations
(:func:`interpret._memory.cpu_pass_rows`), because passes that spill out of the caches run slower per row.
On a 2-core EPYC this reached 0.88-1.00 of the ``n_steps`` x forward+backward limit (weights frozen in the
limit too) over three runs and 1.7-3.3x captum's throughput (``benchmarks/RESULTS.md``).

Quadrature rules: ``"gauss_legendre"`` (default; with 16 nodes it reaches the completeness error of the
trapezoid rule at 64), ``"trapezoid"``, ``"riemann_left"``, ``"riemann_right"``, ``"riemann_middle"`` -- the
same nodes and weights as captum's ``gausslegendre`` / ``riemann_*`` methods, except that our trapezoid rule
has the textbook weights ``1/(n-1)`` (halved at the ends, summing to 1) whereas captum's
``riemann_trapezoid`` uses ``1/n`` (summing to ``(n-1)/n``, a systematic completeness error of ~1/n).

Mixed precision (``precision="bfloat16"`` or ``"float16"``): the forward and backward passes over the
interpolated inputs run under :func:`torch.autocast` on the device (CPU autocast supports bfloat16; CUDA both),
while inputs, gradients and the quadrature sum stay in float32 and ``f(x)``, ``f(b)`` are evaluated at full
precision, so the reported completeness delta measures the error of the reduced-precision attributions against
the full-precision model. bfloat16 keeps ~3 significant digits: expect relative completeness errors of order
1e-3 to 1e-2 (check ``delta``), and use it where throughput matters more than the last digits.

``n_steps="auto"`` starts at 16 nodes and doubles the nodes of every galaxy whose completeness error
``|sum(attr) - (f(x) - f(b))|`` exceeds ``atol + rtol * |f(x) - f(b)|``, up to ``max_steps``.

Examples
--------
>>> import numpy as np, torch
>>> from interpret.attribution.fused_ig import fused_integrated_gradients
>>> lin = torch.nn.Linear(3, 1, bias=False)
>>> x = np.ones((2, 3), dtype=np.float32)
>>> res = fused_integrated_gradients(lambda t: lin(t)[:, 0], (x,), (np.zeros_like(x),), n_steps=8, progress=False)
>>> bool(np.allclose(res.values[0][0], lin.weight.detach().numpy()[0], atol=1e-6))
True
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .._progress import progress_bar
from .._validation import check_choice, check_int
from ..exceptions import ValidationError
from ..parallel import parallel_map
from ._batching import slices, to_tensor

__all__ = ["RULES", "PRECISIONS", "path_nodes", "fused_integrated_gradients", "FusedResult", "captum_method_name"]

PRECISIONS = ("float32", "bfloat16", "float16")
_GROUP = 8            # chunks per parallel_map call (results copied out after each group)
RULES = ("gauss_legendre", "trapezoid", "riemann_left", "riemann_right", "riemann_middle")
_CAPTUM_NAMES = {"gauss_legendre": "gausslegendre", "trapezoid": "riemann_trapezoid",
                 "riemann_left": "riemann_left", "riemann_right": "riemann_right",
                 "riemann_middle": "riemann_middle"}


#: Most path nodes accepted: Gauss-Legendre IG converges by a few hundred; each node is a forward+backward pass.
MAX_STEPS = 100_000


def check_steps(n: int) -> int:
    """Refuse more than :data:`MAX_STEPS` path nodes, naming the cost and the knob."""
    if n > MAX_STEPS:
        raise ValidationError(f"attribute(): n_steps={n} path nodes mean {n} forward+backward passes per galaxy "
                              f"(at most {MAX_STEPS} are accepted); lower 'n_steps' (Gauss-Legendre converges by "
                              "50-300 nodes) or use n_steps='auto'")
    return n


def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] in O(n) memory (no n x n companion matrix).

    Up to 100 nodes: numpy's ``leggauss``. Above: Newton's method on the three-term recurrence of
    ``P_n`` from Tricomi's asymptotic initial guesses (Numerical Recipes' ``gauleg``), vectorised over the
    positive roots; O(n^2) operations, 6000 nodes in well under a second.
    """
    if n <= 100:
        return np.polynomial.legendre.leggauss(n)
    m = (n + 1) // 2
    k = np.arange(1, m + 1)
    x = (1 - 1 / (8 * n ** 2) + 1 / (8 * n ** 3)) * np.cos(np.pi * (4 * k - 1) / (4 * n + 2))
    for _ in range(100):
        p0, p1 = np.ones_like(x), x.copy()
        for j in range(2, n + 1):
            p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
        dp = n * (x * p1 - p0) / (x * x - 1)
        dx = p1 / dp
        x = x - dx
        if np.max(np.abs(dx)) < 1e-15:
            break
    w = 2 / ((1 - x * x) * dp * dp)
    if n % 2:            # the middle root is exactly 0
        x[-1] = 0.0
    nodes = np.concatenate([-x, x[::-1][n % 2:]])
    weights = np.concatenate([w, w[::-1][n % 2:]])
    return nodes, weights


def path_nodes(n_steps: int, rule: str = "gauss_legendre") -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``alpha`` in [0, 1] and weights (summing to 1) of a quadrature rule.

    Parameters
    ----------
    n_steps : int
        Number of nodes (>= 1; >= 2 for the trapezoid rule).
    rule : str, default "gauss_legendre"
        One of :data:`RULES`.

    Returns
    -------
    alphas, weights : ndarray of shape (n_steps,)
    """
    check_choice(rule, "rule", "path_nodes", RULES)
    n = check_int(n_steps, "n_steps", "path_nodes", minimum=2 if rule == "trapezoid" else 1)
    check_steps(n)
    if rule == "gauss_legendre":
        x, w = _gauss_legendre(n)
        return 0.5 * (x + 1.0), 0.5 * w
    if rule == "trapezoid":
        w = np.full(n, 1.0 / (n - 1))
        w[[0, -1]] *= 0.5
        return np.linspace(0.0, 1.0, n), w
    w = np.full(n, 1.0 / n)
    if rule == "riemann_left":
        return np.linspace(0.0, 1.0 - 1.0 / n, n), w
    if rule == "riemann_right":
        return np.linspace(1.0 / n, 1.0, n), w
    return np.linspace(0.5 / n, 1.0 - 0.5 / n, n), w


@dataclass
class FusedResult:
    """Attributions (one array per input), completeness delta, f(x), f(baseline), nodes used per galaxy."""

    values: tuple[np.ndarray, ...]
    delta: np.ndarray
    output: np.ndarray
    baseline_output: np.ndarray
    n_steps: np.ndarray


class _ChunkIG:
    """IG for one chunk of galaxies (a slice), called by parallel_map."""

    def __init__(self, forward: Callable, inputs, baselines, alphas, weights, rows: int, device, dtype,
                 amp_dtype: torch.dtype | None = None):
        self.forward, self.inputs, self.baselines = forward, inputs, baselines
        self.amp_dtype = amp_dtype
        self.alphas = torch.as_tensor(alphas, dtype=dtype, device=device)
        self.weights = torch.as_tensor(weights, dtype=dtype, device=device)
        self.rows, self.device, self.dtype = rows, device, dtype

    def _autocast(self):
        """Reduced-precision forward/backward on the device, or a no-op at full precision."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _to(self, arrays, sl):
        return [to_tensor(a[sl], self.device, self.dtype) for a in arrays]

    def __call__(self, sl: slice):
        xs, bs = self._to(self.inputs, sl), self._to(self.baselines, sl)
        diffs = [x - b for x, b in zip(xs, bs)]
        g = xs[0].shape[0]
        grad_sum = [torch.zeros_like(d) for d in diffs]
        k_per = max(1, self.rows // g)
        for k0 in range(0, len(self.alphas), k_per):
            a, w = self.alphas[k0:k0 + k_per], self.weights[k0:k0 + k_per]
            k = a.shape[0]
            scaled = []
            for b, d in zip(bs, diffs):
                shape = (k,) + (1,) * d.ndim
                # b + alpha d in one fused kernel, written straight into the (k * g, ...) pass
                s = torch.addcmul(b.unsqueeze(0), a.view(shape), d.unsqueeze(0)).reshape((k * g,) + d.shape[1:])
                scaled.append(s.requires_grad_(True))
            with torch.enable_grad(), self._autocast():
                out = self.forward(*scaled).float()
                # the node weights enter as the output gradient, so the backward returns w_k * grad directly
                grads = torch.autograd.grad(out, scaled, grad_outputs=w.to(out.dtype).repeat_interleave(g))
            for acc, gr in zip(grad_sum, grads):
                gr = gr.to(acc.dtype)
                acc += gr if k == 1 else gr.reshape((k, g) + gr.shape[1:]).sum(0)
        with torch.no_grad():
            fx = self.forward(*xs).detach()
            fb = self.forward(*bs).detach()
        attrs = [(d * gs).detach() for d, gs in zip(diffs, grad_sum)]
        total = sum(at.reshape(g, -1).sum(1) for at in attrs)
        delta = total - (fx - fb)
        return ([at.cpu().numpy() for at in attrs], delta.cpu().numpy(), fx.cpu().numpy(), fb.cpu().numpy())


def _run(forward, inputs, baselines, n_steps, rule, batch_size, rows, device, dtype, progress, amp_dtype=None):
    alphas, weights = path_nodes(n_steps, rule)
    n = inputs[0].shape[0]
    rows = rows or batch_size * n_steps
    # a chunk holds up to batch_size galaxies; each pass covers rows // gal of its nodes (at least one), so a
    # pass never exceeds max(rows, batch_size) rows and the accumulators stay at batch_size inputs
    gal = max(1, min(batch_size, rows))
    chunks = slices(n, gal)
    worker = _ChunkIG(forward, inputs, baselines, alphas, weights, rows, device, dtype, amp_dtype)
    # stream: each chunk's results are written into arrays allocated once (outputs held once, no list of
    # per-chunk parts to concatenate, no small results pinning freed pass buffers)
    out_dtype = np.float64 if dtype == torch.float64 else np.float32
    values = tuple(np.empty(a.shape, dtype=out_dtype) for a in inputs)
    per_galaxy: list[np.ndarray] = []
    bar = progress_bar(range(len(chunks)), progress=progress, desc=f"IG ({n_steps} steps)", total=len(chunks))
    it = iter(bar)
    for g0 in range(0, len(chunks), _GROUP):
        group = chunks[g0:g0 + _GROUP]
        for sl, part in zip(group, parallel_map(worker, group, n_jobs=1, progress=False)):
            for full, chunk in zip(values, part[0]):
                full[sl] = chunk
            if not per_galaxy:
                per_galaxy = [np.empty(n, dtype=part[j].dtype) for j in (1, 2, 3)]
            for full, chunk in zip(per_galaxy, part[1:]):
                full[sl] = chunk
            next(it, None)
    if hasattr(bar, "close"):
        bar.close()
    return FusedResult(values, *per_galaxy, np.full(n, n_steps))


def fused_integrated_gradients(
    forward: Callable[..., torch.Tensor],
    inputs: tuple[np.ndarray, ...],
    baselines: tuple[np.ndarray, ...],
    *,
    n_steps: int | str = 50,
    rule: str = "gauss_legendre",
    batch_size: int = 64,
    rows_per_pass: int | None = None,
    device: torch.device | str = "cpu",
    rtol: float = 1e-3,
    atol: float = 1e-6,
    max_steps: int = 256,
    progress: bool | None = None,
    precision: str | None = None,
    dtype: torch.dtype | None = None,
) -> FusedResult:
    """Integrated Gradients of a scalar-per-galaxy ``forward`` over all galaxies, fused into large passes.

    Parameters
    ----------
    forward : callable
        ``forward(*tensors) -> (N,)`` tensor, differentiable.
    inputs, baselines : tuple of ndarray
        One (N, ...) array per model input, and matching baselines.
    n_steps : int or "auto", default 50
        Quadrature nodes, or ``"auto"`` (per galaxy, see module docstring).
    rule : str, default "gauss_legendre"
        Quadrature rule, one of :data:`RULES`.
    batch_size : int, default 64
        Galaxies per chunk; a pass holds ``batch_size * n_steps`` interpolated inputs unless
        ``rows_per_pass`` caps it (memory is bounded by ``max(rows_per_pass, batch_size)`` rows).
    rows_per_pass : int, optional
        (step, galaxy) rows per forward/backward pass: a pass covers ``rows_per_pass // batch_size`` nodes of
        a chunk (at least one). Large passes suit GPUs; on the CPU, passes whose activations stay in the
        caches run faster (:func:`interpret.attribution.attribute` picks
        :func:`interpret._memory.cpu_pass_rows` there).
    device : torch.device or str, default "cpu"
    rtol, atol : float
        Completeness tolerance for ``n_steps="auto"`` (relative to ``|f(x) - f(b)|``, absolute).
    max_steps : int, default 256
        Upper bound on nodes for ``n_steps="auto"``.
    progress : bool, optional
        Progress bar (None: on unless CI is set).
    precision : {"float32", "bfloat16", "float16"} or None, default None
        Autocast dtype of the interpolated forward/backward passes (None or "float32": full precision of the
        inputs). See the module docstring for what the completeness delta then reports.
    dtype : torch.dtype, optional
        Floating dtype of the passes: the model's parameter dtype (a float32 network given float64 inputs, or
        a float64 one given float32 inputs, would fail in its first layer). None: the inputs' own
        (float64 stays float64, everything else float32).

    Returns
    -------
    FusedResult
    """
    device = torch.device(device)
    dtype = dtype or (torch.float64 if inputs[0].dtype == np.float64 else torch.float32)
    args = (batch_size, rows_per_pass, device, dtype, progress, autocast_dtype(precision))
    if n_steps != "auto":
        return _run(forward, inputs, baselines, check_int(n_steps, "n_steps", "attribute", minimum=1), rule, *args)
    if rule == "riemann_left" or rule == "riemann_right":
        raise ValidationError("attribute(): n_steps='auto' needs a symmetric rule; use rule='gauss_legendre'")
    steps = 16
    res = _run(forward, inputs, baselines, steps, rule, *args)
    while True:
        bad = np.abs(res.delta) > atol + rtol * np.abs(res.output - res.baseline_output)
        if not bad.any() or steps >= max_steps:
            return res
        steps = min(2 * steps, max_steps)
        idx = np.flatnonzero(bad)
        sub = _run(forward, tuple(x[idx] for x in inputs), tuple(b[idx] for b in baselines), steps, rule, *args)
        for full, part in zip(res.values, sub.values):
            full[idx] = part
        res.delta[idx], res.n_steps[idx] = sub.delta, steps
        res.output[idx], res.baseline_output[idx] = sub.output, sub.baseline_output


def autocast_dtype(precision: str | None) -> torch.dtype | None:
    """The torch dtype of a reduced ``precision`` name, None for full precision."""
    if precision is None:
        return None
    check_choice(precision, "precision", "attribute", PRECISIONS)
    return None if precision == "float32" else getattr(torch, precision)


def captum_method_name(rule: str) -> str:
    """captum's name for a quadrature rule."""
    return _CAPTUM_NAMES[rule]

