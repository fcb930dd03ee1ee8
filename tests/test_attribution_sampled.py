"""Fused SmoothGrad and GradientShap engines: known answers, agreement with captum, reproducibility."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret.attribution import attribute
from interpret.attribution.fused_sampled import fused_gradient_shap, fused_smoothgrad


def _square(t: torch.Tensor) -> torch.Tensor:
    return (t**2).sum(dim=1)


def test_smoothgrad_variants_of_a_quadratic_have_closed_forms():
    """f = sum x^2: grad = 2 (x + eps), so smoothgrad -> 2x, smoothgrad_sq -> 4 (x^2 + s^2), vargrad -> 4 s^2."""
    x = np.array([[0.5, -1.0, 2.0]], dtype=np.float64)
    s, n = 0.3, 20000
    mean = fused_smoothgrad(_square, (x,), stdevs=(s,), n_samples=n, seed=0)[0]
    sq = fused_smoothgrad(_square, (x,), stdevs=(s,), n_samples=n, nt_type="smoothgrad_sq", seed=0)[0]
    var = fused_smoothgrad(_square, (x,), stdevs=(s,), n_samples=n, nt_type="vargrad", seed=0)[0]
    tol = 4 * 2 * s / np.sqrt(n)                     # 4 standard errors of the mean gradient
    np.testing.assert_allclose(mean, 2 * x, atol=tol)
    np.testing.assert_allclose(sq, 4 * (x**2 + s**2), atol=4 * tol * np.abs(2 * x).max() + 0.01)
    np.testing.assert_allclose(var, 4 * s**2, rtol=0.05)


def test_gradient_shap_of_a_linear_model_with_one_baseline_is_exact():
    w = np.array([1.5, -2.0, 0.5])
    lin = lambda t: t @ torch.as_tensor(w, dtype=t.dtype)  # noqa: E731
    x = np.random.default_rng(0).normal(size=(7, 3))
    b = np.full((1, 3), 0.25)
    out = fused_gradient_shap(lin, (x,), (b,), n_samples=5, seed=1)[0]
    np.testing.assert_allclose(out, w * (x - b), rtol=1e-12)


def test_gradient_shap_is_complete_in_expectation():
    """E[sum of attributions] = f(x) - E_b[f(b)] for expected gradients (Erion et al. 2021)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    fwd = lambda t: net(t)[:, 0]  # noqa: E731
    rng = np.random.default_rng(2)
    x, dist = rng.normal(size=(3, 4)), rng.normal(size=(20, 4))
    with torch.no_grad():
        target = fwd(torch.as_tensor(x)).numpy() - fwd(torch.as_tensor(dist)).numpy().mean()
    out = fused_gradient_shap(fwd, (x,), (dist,), n_samples=20000, seed=3)[0]
    np.testing.assert_allclose(out.sum(axis=1), target, atol=0.03)


@pytest.mark.parametrize("method, opts", [("smoothgrad", {"nt_samples": 4000, "stdevs": 0.2}),
                                          ("smoothgrad", {"nt_samples": 4000, "stdevs": 0.2,
                                                          "nt_type": "vargrad"}),
                                          ("gradient_shap", {"n_samples": 4000, "n_baselines": 4})])
def test_fused_agrees_with_captum_in_expectation(method, opts):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
    kw = {"method": method, "seed": 0, "progress": False, **opts}
    fused = attribute(net, x, **kw).values
    ref = attribute(net, x, engine="captum", **kw).values
    scale = np.abs(ref).max()
    assert np.abs(fused - ref).max() < 0.1 * scale


@pytest.mark.parametrize("method", ["smoothgrad", "gradient_shap"])
def test_fused_sampled_methods_are_reproducible_by_seed(method):
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    x = np.random.default_rng(0).normal(size=(10, 5)).astype(np.float32)
    a = attribute(net, x, method=method, seed=4, batch_size=4, progress=False).values
    b = attribute(net, x, method=method, seed=4, batch_size=4, progress=False).values
    c = attribute(net, x, method=method, seed=5, batch_size=4, progress=False).values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # one sample per pass (the CPU layout) draws its noise in another order: another sample, same estimate
    big = {"n_samples": 3000} if method == "gradient_shap" else {"nt_samples": 3000}
    d = attribute(net, x, method=method, seed=4, batch_size=4, rows_per_pass=4, progress=False, **big).values
    e = attribute(net, x, method=method, seed=4, batch_size=4, progress=False, **big).values
    assert np.abs(d - e).max() < 0.1 * np.abs(e).max()
