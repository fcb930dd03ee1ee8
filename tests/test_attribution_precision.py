"""Mixed-precision Integrated Gradients: bfloat16 autocast keeps completeness within a stated tolerance."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret.attribution import attribute
from interpret.exceptions import ValidationError

# Stated tolerances for bfloat16 autocast (8 mantissa bits, ~3 significant digits): the completeness error
# max|sum(attr) - (f(x) - f(b))| / max|f(x) - f(b)| stays below 1e-2, and attributions agree with float32
# to 2 % of the largest attribution (correlation > 0.999).
BF16_COMPLETENESS = 1e-2
BF16_ATTR = 2e-2


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                              torch.nn.Linear(6 * 12 * 12, 1))
    x = np.random.default_rng(0).normal(size=(12, 3, 12, 12)).astype(np.float32)
    ref = attribute(net, x, n_steps=24, progress=False)
    return net, x, ref


def test_full_precision_completeness_is_reported(setup):
    _, _, ref = setup
    assert ref.params["completeness_max_rel_error"] < 1e-5
    assert np.isclose(ref.params["completeness_max_rel_error"],
                      np.abs(ref.delta).max() / np.abs(ref.output - ref.baseline_output).max())


def test_bfloat16_on_cpu_holds_completeness_and_matches_fp32(setup):
    net, x, ref = setup
    a = attribute(net, x, n_steps=24, precision="bfloat16", progress=False)
    assert a.values.dtype == np.float32 and a.params["precision"] == "bfloat16"
    assert 0 < a.params["completeness_max_rel_error"] < BF16_COMPLETENESS
    assert np.abs(a.values - ref.values).max() < BF16_ATTR * np.abs(ref.values).max()
    assert np.corrcoef(a.values.ravel(), ref.values.ravel())[0, 1] > 0.999
    np.testing.assert_allclose(a.output, ref.output, rtol=1e-6)   # f(x) is evaluated at full precision


def test_amp_flag_means_bfloat16_and_float32_is_the_default(setup):
    net, x, ref = setup
    with pytest.warns(FutureWarning, match="'amp' is deprecated.*precision='bfloat16'"):
        amp = attribute(net, x[:4], n_steps=8, amp=True, progress=False)
    bf = attribute(net, x[:4], n_steps=8, precision="bfloat16", progress=False)
    np.testing.assert_array_equal(amp.values, bf.values)
    full = attribute(net, x[:4], n_steps=24, precision="float32", progress=False)
    np.testing.assert_array_equal(full.values, ref.values[:4])


def test_precision_guards(setup):
    net, x, _ = setup
    with pytest.raises(ValidationError, match="precision"):
        attribute(net, x[:2], n_steps=4, precision="int8", progress=False)
    with pytest.raises(ValidationError, match="engine='fused'"):
        attribute(net, x[:2], n_steps=4, precision="bfloat16", engine="captum", progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_float16_on_cuda(setup):
    net, x, ref = setup
    a = attribute(net, x, n_steps=24, precision="float16", device="cuda", progress=False)
    assert a.params["device"].startswith("cuda")
    assert a.params["completeness_max_rel_error"] < BF16_COMPLETENESS
    assert np.abs(a.values - ref.values).max() < BF16_ATTR * np.abs(ref.values).max()
