"""Integrated Gradients: fused engine vs captum 0.9 vs the n_steps x (forward+backward) limit.

Two models: a small galaxy CNN (5 bands, 32x32) and a spectrum MLP (3000 pixels -> 4 WISE-like outputs).
For each, the benchmark times

* ``limit``  = n_steps x one forward + input-gradient backward of the same model on the same galaxies, with
  the weights frozen (``requires_grad=False``: the fastest forward+backward; trainable weights make it ~1.4x
  slower for the CNN on CPU),
* ``captum`` = ``captum.attr.IntegratedGradients`` with its defaults (Gauss-Legendre, one expanded pass),
* ``fused``  = ``interpret.attribution.attribute(..., method="integrated_gradients")``,

checks that fused and captum attributions agree, and records ``limit / fused`` (fraction of the limit
reached) and ``captum / fused`` (speed-up, at 50 nodes each and at equal accuracy: the fewest fused
Gauss-Legendre nodes whose mean completeness error is no worse than captum's default) in
``benchmarks/RESULTS.md``. It also reports the completeness
error of Gauss-Legendre at 16 nodes vs the trapezoid rule at 64. Runs on CUDA when available.

Usage: ``python -m benchmarks.bench_attribution``
"""
from __future__ import annotations

import logging

import numpy as np
import torch
from captum.attr import IntegratedGradients

from benchmarks._common import best_time, record
from interpret.attribution import attribute
from interpret.attribution._model import frozen_weights

__all__ = ["main", "galaxy_cnn", "spectrum_mlp"]

log = logging.getLogger(__name__)


def galaxy_cnn(width: int = 16) -> torch.nn.Module:
    """A small galaxy-image CNN: 5 bands, 32x32 pixels -> 1 output."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(5, width, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(width, width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(width, 2 * width, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(2 * width * 64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))


def spectrum_mlp(n_wave: int = 3000) -> torch.nn.Module:
    """A spectrum MLP: n_wave pixels -> 256 -> 256 -> 4 outputs."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(n_wave, 256), torch.nn.GELU(), torch.nn.Linear(256, 256),
                               torch.nn.GELU(), torch.nn.Linear(256, 4))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _case(name: str, model: torch.nn.Module, x: np.ndarray, device: torch.device, n_steps: int,
          batch_size: int, repeat: int) -> dict:
    model = model.to(device).eval()
    fwd = lambda t: model(t)[:, 0]  # noqa: E731
    xt = torch.tensor(x, device=device)

    def fb():   # the limit: forward + input-gradient backward with the weights frozen (the fastest form)
        inp = xt.clone().requires_grad_(True)
        with frozen_weights(model):
            torch.autograd.grad(fwd(inp).sum(), inp)
        _sync(device)

    def captum():
        IntegratedGradients(fwd).attribute(xt, baselines=torch.zeros_like(xt), n_steps=n_steps)
        _sync(device)

    def fused():
        attribute(model, x, target=0, n_steps=n_steps, batch_size=batch_size, device=device, progress=False)
        _sync(device)

    fb()
    fused()
    # interleave the three timings round by round so a load change on a shared machine hits all of them
    t_fb, t_captum, t_fused = (min(ts) for ts in zip(*[
        (best_time(fb, repeat=3), best_time(captum, 1), best_time(fused, 1)) for _ in range(repeat)]))
    t_limit = n_steps * t_fb
    a = attribute(model, x, target=0, n_steps=n_steps, batch_size=batch_size, device=device, progress=False)
    ref = IntegratedGradients(fwd).attribute(xt, baselines=torch.zeros_like(xt), n_steps=n_steps)
    err = float(np.abs(a.values - ref.detach().cpu().numpy()).max() / (np.abs(a.values).max() or 1.0))
    gl16 = attribute(model, x, target=0, n_steps=16, device=device, progress=False)
    tr64 = attribute(model, x, target=0, n_steps=64, rule="trapezoid", device=device, progress=False)
    scale = np.abs(gl16.output - gl16.baseline_output).mean()
    # equal accuracy: the fewest Gauss-Legendre nodes whose mean completeness error is no worse than captum's
    # default (50 nodes), timed against captum's default
    _, d_captum = IntegratedGradients(fwd).attribute(xt, baselines=torch.zeros_like(xt), n_steps=n_steps,
                                                     return_convergence_delta=True)
    e_captum = float(d_captum.abs().mean().item() / scale)
    n_eq = next((k for k in (4, 6, 8, 12, 16, 24, 32) if float(np.abs(attribute(
        model, x, target=0, n_steps=k, batch_size=batch_size, device=device, progress=False).delta).mean()
        / scale) <= e_captum), n_steps)

    def fused_eq():
        attribute(model, x, target=0, n_steps=n_eq, batch_size=batch_size, device=device, progress=False)
        _sync(device)

    t_eq = min(best_time(fused_eq, 1) for _ in range(repeat))
    return {"name": name, "n": len(x), "t_limit": t_limit, "t_captum": t_captum, "t_fused": t_fused,
            "rel_err": err, "gl16": float(np.abs(gl16.delta).mean() / scale),
            "tr64": float(np.abs(tr64.delta).mean() / scale), "e_captum": e_captum, "n_eq": n_eq, "t_eq": t_eq}


def _sampled_case(name: str, model: torch.nn.Module, x: np.ndarray, device: torch.device, batch_size: int,
                  repeat: int) -> list[str]:
    """SmoothGrad and GradientShap (16 samples): fused engine vs captum's NoiseTunnel vs 16 x fwd+bwd."""
    model = model.to(device).eval()
    xt = torch.tensor(x, device=device)

    def fb():
        inp = xt.clone().requires_grad_(True)
        with frozen_weights(model):
            torch.autograd.grad(model(inp)[:, 0].sum(), inp)
        _sync(device)

    rows = []
    for method, opts in (("smoothgrad", {"nt_samples": 16}), ("gradient_shap", {"n_samples": 16})):
        def run(engine, method=method, opts=opts):
            attribute(model, x, method=method, target=0, batch_size=batch_size, device=device, seed=0,
                      engine=engine, progress=False, **opts)
            _sync(device)

        fb()
        run("fused")
        t_fb, t_fused, t_captum = (min(ts) for ts in zip(*[
            (best_time(fb, 3), best_time(lambda: run("fused"), 1), best_time(lambda: run("captum"), 1))
            for _ in range(repeat)]))
        t_limit = 16 * t_fb
        n = len(x)
        record("attribution_fused_sampled",
               f"{method} {name}, 16 samples, N={n}: fused {n / t_fused:.0f} gal/s, captum NoiseTunnel "
               f"{n / t_captum:.0f} gal/s, limit {n / t_limit:.0f} gal/s",
               f"{t_limit / t_fused:.2f} of fwd+bwd limit (captum {t_limit / t_captum:.2f}); "
               f"{t_captum / t_fused:.1f}x captum ({device.type})", packages=("torch", "captum"))
        rows.append(method)
    return rows


def main() -> list[dict]:
    """Run both cases and record them; returns the measurements."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gpu = device.type == "cuda"
    rng = np.random.default_rng(0)
    n_img, n_spec = (256, 256) if gpu else (64, 256)
    cases = [
        ("galaxy CNN 5x32x32", galaxy_cnn(32 if gpu else 16),
         np.abs(rng.normal(size=(n_img, 5, 32, 32))).astype(np.float32), 256 if gpu else 64),
        ("galaxy CNN 5x32x32 width 32", galaxy_cnn(32),
         np.abs(rng.normal(size=(n_img, 5, 32, 32))).astype(np.float32), 256 if gpu else 64),
        ("spectrum MLP 3000->4", spectrum_mlp(), rng.normal(size=(n_spec, 3000)).astype(np.float32), 256),
    ]
    out = []
    for name, model, x, bs in cases:
        r = _case(name, model, x, device, 50, bs, repeat=3 if gpu else 4)
        out.append(r)
        result = (f"IG {name}, n_steps=50, N={r['n']}: fused {r['n'] / r['t_fused']:.0f} gal/s, captum "
                  f"{r['n'] / r['t_captum']:.0f} gal/s, limit {r['n'] / r['t_limit']:.0f} gal/s; max rel diff vs "
                  f"captum {r['rel_err']:.1e}; completeness err GL16 {r['gl16']:.1e} vs trapezoid64 {r['tr64']:.1e}")
        result += (f"; equal accuracy (mean completeness err <= captum default's {r['e_captum']:.1e}): "
                   f"{r['n_eq']} GL nodes, {r['n'] / r['t_eq']:.0f} gal/s")
        ratio = (f"{r['t_limit'] / r['t_fused']:.2f} of fwd+bwd limit; {r['t_captum'] / r['t_fused']:.1f}x "
                 f"captum at 50 steps, {r['t_captum'] / r['t_eq']:.1f}x at equal accuracy ({device.type})")
        record("attribution_fused_ig", result, ratio, packages=("torch", "captum"))
    for name, model, x, bs in (cases[0], cases[2]):
        _sampled_case(name, model, x, device, bs, repeat=3 if gpu else 2)
    return out


if __name__ == "__main__":
    main()
