"""Fused engines for the sampled gradient methods: SmoothGrad (noise tunnel) and GradientShap.

Both average input gradients over random points per galaxy: SmoothGrad (Smilkov et al. 2017,
arXiv:1706.03825) at ``x + eps`` with ``eps ~ N(0, sigma^2)``; GradientShap (expected gradients, Lundberg &
Lee 2017, arXiv:1705.07874; Erion et al. 2021, arXiv:1906.10670) at ``b + alpha (x~ - b)`` with a baseline ``b``
drawn from a distribution, ``alpha ~ U(0, 1)`` and ``x~ = x + eps``, weighted by ``x~ - b``. captum runs them
through ``NoiseTunnel``, which expands every batch ``n_samples`` times and keeps several copies; here each pass
builds its points directly on the device, takes one ``autograd.grad`` with respect to the inputs and adds the
result into running sums, with the same cache-sized passes as the fused IG engine
(:mod:`interpret.attribution.fused_ig`). Noise comes from a ``torch.Generator`` seeded per chunk, so a seed
fixes the result for a given ``batch_size``.

Examples
--------
>>> import numpy as np, torch
>>> from interpret.attribution.fused_sampled import fused_smoothgrad
>>> lin = torch.nn.Linear(3, 1, bias=False)
>>> x = np.ones((2, 3), dtype=np.float32)
>>> out = fused_smoothgrad(lambda t: lin(t)[:, 0], (x,), stdevs=(0.5,), n_samples=8, seed=0)
>>> bool(np.allclose(out[0], lin.weight.detach().numpy(), atol=1e-6))      # a linear model: exactly w
True
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..parallel import seeded_map
from ._batching import slices, to_tensor

__all__ = ["fused_smoothgrad", "fused_gradient_shap", "NT_TYPES"]

NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


def _grads(forward: Callable, points: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    points = [p.requires_grad_(True) for p in points]
    with torch.enable_grad():
        out = forward(*points).float()
        return torch.autograd.grad(out.sum(), points)


def _generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(int(rng.integers(0, 2**62)))
    return gen


class _SmoothChunk:
    def __init__(self, forward, inputs, stdevs, n_samples, nt_type, times_input, rows, device, dtype):
        self.forward, self.inputs, self.stdevs = forward, inputs, stdevs
        self.n, self.nt_type, self.times_input = n_samples, nt_type, times_input
        self.rows, self.device, self.dtype = rows, device, dtype

    def __call__(self, sl: slice, rng: np.random.Generator) -> list[np.ndarray]:
        gen = _generator(rng, self.device)
        xs = [to_tensor(a[sl], self.device, self.dtype) for a in self.inputs]
        g = xs[0].shape[0]
        s1 = [torch.zeros_like(x) for x in xs]
        s2 = [torch.zeros_like(x) for x in xs]
        k_per = max(1, self.rows // g)
        for k0 in range(0, self.n, k_per):
            k = min(k_per, self.n - k0)
            points = []
            for x, sd in zip(xs, self.stdevs):
                rep = x.unsqueeze(0).expand((k,) + x.shape)
                noise = torch.randn(rep.shape, generator=gen, device=self.device, dtype=self.dtype)
                points.append((rep + sd * noise).reshape((k * g,) + x.shape[1:]))
            grads = _grads(self.forward, points)
            for i, (gr, p) in enumerate(zip(grads, points)):
                a = gr.to(self.dtype) * p.detach() if self.times_input else gr.to(self.dtype)
                a = a.reshape((k, g) + a.shape[1:])
                s1[i] += a.sum(0)
                if self.nt_type != "smoothgrad":   # only the square-based variants need the second moment
                    s2[i] += (a * a).sum(0)
        out = []
        for m1, m2 in zip(s1, s2):
            mean, sq = m1 / self.n, m2 / self.n
            val = mean if self.nt_type == "smoothgrad" else sq if self.nt_type == "smoothgrad_sq" else sq - mean**2
            out.append(val.detach().cpu().numpy())
        return out


def fused_smoothgrad(forward: Callable[..., torch.Tensor], inputs: tuple[np.ndarray, ...], *,
                     stdevs: tuple[float, ...], n_samples: int = 16, nt_type: str = "smoothgrad",
                     times_input: bool = False, batch_size: int = 64, rows_per_pass: int | None = None,
                     device: torch.device | str = "cpu", seed: int | np.random.Generator | None = None,
                     progress: bool | None = None, dtype: torch.dtype | None = None) -> tuple[np.ndarray, ...]:
    """SmoothGrad of a scalar-per-galaxy ``forward``: mean (or mean square, or variance) of noisy gradients.

    Parameters
    ----------
    forward : callable
        ``forward(*tensors) -> (N,)`` tensor, differentiable.
    inputs : tuple of ndarray
        One (N, ...) array per model input.
    stdevs : tuple of float
        Noise sigma per input.
    n_samples : int, default 16
        Noisy copies per galaxy.
    nt_type : {"smoothgrad", "smoothgrad_sq", "vargrad"}, default "smoothgrad"
        Mean, mean square or variance of the per-sample attributions (captum's definitions).
    times_input : bool, default False
        Multiply each gradient by its noisy input (SmoothGrad around Input x Gradient).
    batch_size : int, default 64
        Galaxies per chunk.
    rows_per_pass : int, optional
        Rows per forward/backward pass (default ``batch_size * n_samples``).
    device : torch.device or str, default "cpu"
    seed : int or Generator, optional
        Noise seed (chunk ``i`` draws from the ``i``-th child seed).
    progress : bool, optional
        Progress bar over chunks.
    dtype : torch.dtype, optional
        Floating dtype of the passes: the model's parameter dtype. None: the inputs' own (float64 stays
        float64, everything else float32).

    Returns
    -------
    tuple of ndarray
        One attribution array per input.
    """
    device = torch.device(device)
    dtype = dtype or (torch.float64 if inputs[0].dtype == np.float64 else torch.float32)
    rows = rows_per_pass or batch_size * n_samples
    worker = _SmoothChunk(forward, inputs, stdevs, n_samples, nt_type, times_input, rows, device, dtype)
    parts = seeded_map(worker, slices(len(inputs[0]), batch_size), seed=seed, n_jobs=1, progress=progress, desc="smoothgrad")
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(inputs)))


class _ShapChunk:
    def __init__(self, forward, inputs, dist, stdevs, n_samples, rows, device, dtype):
        self.forward, self.inputs, self.stdevs = forward, inputs, stdevs
        self.dist = [to_tensor(d, device, dtype) for d in dist]
        self.n, self.rows, self.device, self.dtype = n_samples, rows, device, dtype

    def __call__(self, sl: slice, rng: np.random.Generator) -> list[np.ndarray]:
        gen = _generator(rng, self.device)
        xs = [to_tensor(a[sl], self.device, self.dtype) for a in self.inputs]
        g = xs[0].shape[0]
        acc = [torch.zeros_like(x) for x in xs]
        k_per = max(1, self.rows // g)
        n_dist = self.dist[0].shape[0]
        for k0 in range(0, self.n, k_per):
            k = min(k_per, self.n - k0)
            idx = torch.randint(0, n_dist, (k * g,), generator=gen, device=self.device)
            alpha = torch.rand(k * g, generator=gen, device=self.device, dtype=self.dtype)
            points, spans = [], []
            for x, d, sd in zip(xs, self.dist, self.stdevs):
                rep = x.unsqueeze(0).expand((k,) + x.shape).reshape((k * g,) + x.shape[1:])
                if sd:
                    rep = rep + sd * torch.randn(rep.shape, generator=gen, device=self.device, dtype=self.dtype)
                b = d[idx]
                span = rep - b
                shape = (k * g,) + (1,) * (x.ndim - 1)
                points.append(torch.addcmul(b, alpha.view(shape), span))
                spans.append(span)
            grads = _grads(self.forward, points)
            for i, (gr, span) in enumerate(zip(grads, spans)):
                acc[i] += (gr.to(self.dtype) * span).reshape((k, g) + span.shape[1:]).sum(0)
        return [(a / self.n).detach().cpu().numpy() for a in acc]


def fused_gradient_shap(forward: Callable[..., torch.Tensor], inputs: tuple[np.ndarray, ...],
                        distribution: tuple[np.ndarray, ...], *, n_samples: int = 16,
                        stdevs: tuple[float, ...] | None = None, batch_size: int = 64,
                        rows_per_pass: int | None = None, device: torch.device | str = "cpu",
                        seed: int | np.random.Generator | None = None,
                        progress: bool | None = None, dtype: torch.dtype | None = None) -> tuple[np.ndarray, ...]:
    """GradientShap (expected gradients) of a scalar-per-galaxy ``forward``.

    Each of ``n_samples`` draws per galaxy picks a baseline ``b`` from ``distribution``, ``alpha ~ U(0, 1)``
    and input noise, and contributes ``grad f(b + alpha (x~ - b)) * (x~ - b)``; the attribution is the mean.
    Its expectation satisfies completeness against the mean baseline output.

    Parameters
    ----------
    forward : callable
        ``forward(*tensors) -> (N,)`` tensor, differentiable.
    inputs : tuple of ndarray
        One (N, ...) array per model input.
    distribution : tuple of ndarray
        Baselines, one (K, ...) array per input.
    n_samples : int, default 16
    stdevs : tuple of float, optional
        Input-noise sigma per input (default 0).
    batch_size, rows_per_pass, device, seed, progress, dtype
        As :func:`fused_smoothgrad`.

    Returns
    -------
    tuple of ndarray
    """
    device = torch.device(device)
    dtype = dtype or (torch.float64 if inputs[0].dtype == np.float64 else torch.float32)
    stdevs = tuple(stdevs) if stdevs is not None else (0.0,) * len(inputs)
    rows = rows_per_pass or batch_size * n_samples
    worker = _ShapChunk(forward, inputs, distribution, stdevs, n_samples, rows, device, dtype)
    parts = seeded_map(worker, slices(len(inputs[0]), batch_size), seed=seed, n_jobs=1, progress=progress,
                       desc="gradient_shap")
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(inputs)))
