"""device= routing: models stay where the user put them; device="cuda" runs every model family on the GPU.

The CUDA tests are skipped on machines without a GPU; the CPU tests check the routing rules themselves.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret.ablation import band_ablation, band_shapley
from interpret.attribution import attribute
from interpret.estimators import load_estimator
from interpret.exceptions import ValidationError

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))


@pytest.fixture()
def data():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    return x, x[:, 0] + 0.5 * x[:, 1]


def test_in_memory_module_is_not_moved(data):
    net = _net()
    est = load_estimator(net)
    assert est.device.type == "cpu" and est.module is net
    if not torch.cuda.is_available():
        with pytest.raises(ValidationError, match="CUDA"):
            load_estimator(_net(), device="cuda")
        with pytest.raises(ValidationError, match="cuda"):
            attribute(net, data[0], device="cuda", progress=False)


@cuda
def test_cuda_estimator_ablation_and_shapley_match_cpu(data):
    x, y = data
    gpu = _net().cuda()
    est = load_estimator(gpu)                       # stays on the GPU (no silent move back to the CPU)
    assert est.device.type == "cuda" and next(gpu.parameters()).is_cuda
    cpu = load_estimator(_net())
    np.testing.assert_allclose(est.predict(x, progress=False), cpu.predict(x, progress=False), atol=1e-5)
    kw = dict(bands=["g", "r", "i", "z"], metrics="rmse", progress=False)
    a_gpu, a_cpu = band_ablation(gpu, x, y, **kw), band_ablation(cpu, x, y, **kw)
    np.testing.assert_allclose(a_gpu.table["rmse"], a_cpu.table["rmse"], rtol=1e-4)
    kw.pop("metrics")
    s_gpu = band_shapley(gpu, x, y, metric="rmse", **kw)
    s_cpu = band_shapley(cpu, x, y, metric="rmse", **kw)
    np.testing.assert_allclose(s_gpu.values.to_numpy(), s_cpu.values.to_numpy(), atol=1e-4)


@cuda
def test_cuda_attribution_matches_cpu(data):
    x, _ = data
    net = _net()
    a_cpu = attribute(net, x, n_steps=16, progress=False)
    a_gpu = attribute(net, x, n_steps=16, device="cuda", batch_size="auto", progress=False)
    assert a_gpu.params["device"].startswith("cuda") and not next(net.parameters()).is_cuda
    np.testing.assert_allclose(a_gpu.values, a_cpu.values, atol=1e-5)


@cuda
def test_cuda_training_and_neural_pid():
    from interpret.pid import NeuralTraining, pointwise_decompose

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(size=300)
    r = pointwise_decompose(a + b, {"a": a, "b": b}, n_classes=4, n_folds=2, training=NeuralTraining(epochs=3),
                            seed=0, device="cuda", progress=False)
    assert np.isfinite(r.to_frame().select_dtypes("number").to_numpy()).all()
