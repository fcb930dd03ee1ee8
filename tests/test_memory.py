"""Batch sizes chosen to fit memory: the CPU estimate, attribute(batch_size="auto"), predict(batch_size="auto")."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

from interpret._memory import activation_bytes_per_row, auto_batch_size
from interpret.attribution import attribute
from interpret.estimators import load_estimator
from interpret.exceptions import ValidationError


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(20, 100), torch.nn.Tanh(), torch.nn.Linear(100, 1))


def test_cpu_estimate_known_answer():
    net = _mlp()
    xs = (torch.zeros(8, 20),)
    # float32 activations per row: 100 (Linear) + 100 (Tanh) + 1 (Linear) = 804 B; input 80 B
    assert activation_bytes_per_row(net, xs, backward=True) == pytest.approx(2 * (804 + 80))
    assert activation_bytes_per_row(net, xs, backward=False) == pytest.approx(80 + 2 * 400)
    assert auto_batch_size(net, np.zeros((3, 20), np.float32), budget_bytes=1768 * 50) == 50
    assert auto_batch_size(net, np.zeros((3, 20), np.float32), budget_bytes=1768 * 50, rows_per_item=10) == 5


def test_budget_monotone_and_bounded():
    net = _mlp()
    sample = np.zeros((2, 20), np.float32)
    sizes = [auto_batch_size(net, sample, budget_bytes=b) for b in (10, 10**5, 10**6, 10**7)]
    assert sizes[0] == 1 and sizes == sorted(sizes) and sizes[-1] > sizes[1]
    assert auto_batch_size(net, sample, budget_bytes=10**12, max_rows=1000) == 1000
    assert auto_batch_size(net, sample) >= 1            # default budget: a share of the available RAM
    assert auto_batch_size(lambda t: t.sum(1), sample, budget_bytes=16 * 80 * 7) == 7   # plain callable
    with pytest.raises(ValidationError, match="budget_bytes"):
        auto_batch_size(net, sample, budget_bytes=0)


def test_probe_leaves_model_state_alone():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(20, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 1)).train()
    before = net[1].running_mean.clone()
    x = np.random.default_rng(0).normal(size=(30, 20)).astype(np.float32)
    attribute(net, x, n_steps=8, batch_size="auto", progress=False)
    assert net.training and torch.equal(net[1].running_mean, before)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "smoothgrad"])
def test_attribute_auto_batch_matches_fixed(method):
    net = _mlp()
    x = np.random.default_rng(1).normal(size=(40, 20)).astype(np.float32)
    kw = dict(method=method, progress=False, seed=0, **({"n_steps": 16} if method == "integrated_gradients" else {}))
    fixed = attribute(net, x, batch_size=40, **kw)
    small = attribute(net, x, batch_size="auto", memory_budget=1768 * 16 * 3, **kw)
    big = attribute(net, x, batch_size="auto", **kw)
    assert isinstance(small.params["batch_size"], int) and small.params["batch_size"] < big.params["batch_size"]
    if method == "integrated_gradients":
        assert small.params["batch_size"] == 3 and small.params["rows_per_pass"] == 48
    if method != "smoothgrad":   # smoothgrad's noise draws depend on the chunking
        np.testing.assert_allclose(small.values, fixed.values, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(big.values, fixed.values, rtol=1e-5, atol=1e-7)


def test_predict_auto_batch():
    net = _mlp()
    x = np.random.default_rng(2).normal(size=(50, 20)).astype(np.float32)
    est = load_estimator(net)
    np.testing.assert_allclose(est.predict(x, batch_size="auto", progress=False),
                               est.predict(x, batch_size=7, progress=False), atol=1e-6)
    sk = load_estimator(LinearRegression().fit(x, x[:, 0]))
    np.testing.assert_allclose(sk.predict(x, batch_size="auto", progress=False), x[:, 0], atol=1e-5)
    with pytest.raises(ValidationError, match="batch_size"):
        est.predict(x, batch_size="big", progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_probe_measures_memory():
    net = _mlp().cuda()
    sample = np.zeros((4, 20), np.float32)
    small = auto_batch_size(net, sample, "cuda", budget_bytes=2**20)
    large = auto_batch_size(net, sample, "cuda", budget_bytes=2**28)
    assert 1 <= small < large
    est = load_estimator(_mlp(), device="cuda")
    assert est.predict(np.zeros((10, 20), np.float32), batch_size="auto", progress=False).shape == (10,)
