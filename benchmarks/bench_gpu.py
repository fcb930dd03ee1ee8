"""GPU throughput: Integrated Gradients (fp32 and bfloat16 autocast) and exact band Shapley on CUDA.

* IG on a galaxy CNN (5 bands, 32x32): galaxies/s with ``batch_size="auto"``, as a fraction of the limit
  ``n_steps x (forward + input-gradient backward)`` of the same model on the same galaxies; the bfloat16 run
  also reports its completeness error.
* Band Shapley: all 2^5 subsets of the 5 bands (mean fill) over N galaxies; time, and the ratio to the limit
  ``2^5 x one predict pass`` (how close the batched masking engine gets to pure model time).

Without CUDA it prints ``skipped: no CUDA`` and records nothing.

Usage: ``python -m benchmarks.bench_gpu``
"""
from __future__ import annotations

import logging
import time

import numpy as np
import torch

from benchmarks._common import best_time, record
from benchmarks.bench_attribution import galaxy_cnn

__all__ = ["main", "measure"]

log = logging.getLogger(__name__)
BANDS = ("u", "g", "r", "i", "z")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _ig(model: torch.nn.Module, x: np.ndarray, device: torch.device, n_steps: int) -> dict:
    from interpret.attribution import attribute

    xt = torch.as_tensor(x, device=device)

    def fb():      # one forward + input-gradient backward over all galaxies, in the batches IG uses
        for a in range(0, len(xt), 256):
            inp = xt[a:a + 256].clone().requires_grad_(True)
            torch.autograd.grad(model(inp)[:, 0].sum(), inp)
        _sync(device)

    def run(**kw):
        res = attribute(model, x, n_steps=n_steps, batch_size="auto", device=device, progress=False, **kw)
        _sync(device)
        return res

    fb()
    run()
    t_limit = n_steps * best_time(fb, repeat=3)
    t_fp32 = best_time(run, repeat=2)
    t0 = time.perf_counter()
    bf16 = run(precision="bfloat16")
    t_bf16 = time.perf_counter() - t0
    return {"t_ig_limit": t_limit, "t_fp32": t_fp32, "t_bf16": t_bf16,
            "bf16_err": bf16.params["completeness_max_rel_error"], "batch": bf16.params["batch_size"]}


def _shapley(model: torch.nn.Module, x: np.ndarray, device: torch.device) -> dict:
    from interpret.ablation import Batching, band_shapley
    from interpret.estimators import load_estimator

    est = load_estimator(model, device=device)
    y = est.predict(x, batch_size=1024, progress=False) + 0.05
    predict = lambda: est.predict(x, batch_size=1024, progress=False)  # noqa: E731
    predict()
    t_pred = best_time(predict, repeat=3)
    t0 = time.perf_counter()
    band_shapley(est, x, y, bands=list(BANDS), metric="rmse", batching=Batching(batch_size=1024), progress=False)
    t_shap = time.perf_counter() - t0
    return {"t_shap": t_shap, "t_shap_limit": 2 ** len(BANDS) * t_pred}


def measure(device: str | torch.device, n_ig: int = 2048, n_shap: int = 8192, n_steps: int = 50,
            width: int = 32) -> dict:
    """The IG and Shapley measurements on ``device`` (CPU works too, for a smoke test)."""
    device = torch.device(device)
    rng = np.random.default_rng(0)
    model = galaxy_cnn(width).to(device).eval()
    x_ig = np.abs(rng.normal(size=(n_ig, len(BANDS), 32, 32))).astype(np.float32)
    x_sh = np.abs(rng.normal(size=(n_shap, len(BANDS), 32, 32))).astype(np.float32)
    return {"n_ig": n_ig, "n_shap": n_shap, "n_steps": n_steps, **_ig(model, x_ig, device, n_steps),
            **_shapley(model, x_sh, device)}


def main() -> dict | None:
    """Measure on CUDA and record two rows; print a skip line without CUDA."""
    if not torch.cuda.is_available():
        print("bench_gpu: skipped: no CUDA")
        return None
    r = measure("cuda")
    n = r["n_ig"]
    record("gpu: IG galaxy CNN 5x32x32, n_steps=50, batch_size='auto'",
           f"fp32 {n / r['t_fp32']:.0f} gal/s (batch {r['batch']}); bf16 autocast {n / r['t_bf16']:.0f} gal/s, "
           f"completeness max rel err {r['bf16_err']:.1e}; limit {n / r['t_ig_limit']:.0f} gal/s",
           f"{r['t_ig_limit'] / r['t_fp32']:.2f} of fwd+bwd limit (fp32); bf16/fp32 speed {r['t_fp32'] / r['t_bf16']:.2f}x",
           packages=("torch",))
    record(f"gpu: exact band Shapley, 2^5 subsets, CNN 5x32x32, N={r['n_shap']}",
           f"{r['t_shap']:.2f} s ({2 ** len(BANDS) * r['n_shap'] / r['t_shap']:.0f} masked galaxies/s)",
           f"{r['t_shap_limit'] / r['t_shap']:.2f} of the 32 x predict limit", packages=("torch",))
    return r


if __name__ == "__main__":
    main()
