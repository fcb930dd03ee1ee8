"""Resource guards and bad inputs named clearly (issue 19): each test is the reproducer from the audit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from interpret.attribution import attribute
from interpret.attribution.fused_ig import MAX_STEPS, _gauss_legendre, path_nodes
from interpret.exceptions import ValidationError

MLP = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
X5 = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)


# --- integrated gradients: no n_steps^2 matrix, a cap on the nodes ------------------------------------------
@pytest.mark.parametrize("n", [101, 257, 1000])
def test_gauss_legendre_without_the_companion_matrix(n):
    x, w = _gauss_legendre(n)
    x0, w0 = np.polynomial.legendre.leggauss(n)
    np.testing.assert_allclose(x, x0, atol=1e-14)
    np.testing.assert_allclose(w, w0, rtol=1e-7, atol=1e-15)     # the tiny edge weights to ~1e-8
    assert abs((w * x ** 20).sum() - 2 / 21) < 1e-14            # exact for polynomials of degree < 2n


def test_many_steps_are_cheap_and_absurd_steps_refused():
    alphas, weights = path_nodes(6000)                 # was a minute (an n^2 eigenproblem)
    assert alphas.shape == (6000,) and abs(weights.sum() - 1) < 1e-12
    with pytest.raises(ValidationError, match=r"n_steps=10000000 .* lower 'n_steps'"):
        attribute(MLP, X5, n_steps=10**7, progress=False)
    with pytest.raises(ValidationError, match="n_steps"):
        attribute(MLP, X5, n_steps=MAX_STEPS + 1, engine="captum", progress=False)


# --- attribute: shape and target errors ------------------------------------------------------------------
@pytest.mark.parametrize("x", [np.zeros((4, 3), np.float32), np.zeros((4, 5, 8, 8), np.float32)],
                         ids=["wrong-feature-count", "images-into-mlp"])
@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "occlusion"])
def test_attribute_wrong_input_shape_names_the_expectation(x, method):
    with pytest.raises(ValidationError, match=r"cannot take input of shape \(n, .*expects \(n, 5\) \[first layer "
                                              r"Linear\(5, 8\)\]"):
        attribute(MLP, x, method=method, progress=False, baselines="zeros")


@pytest.mark.parametrize("target", [5, -3, 1])
def test_attribute_target_out_of_range(target):
    with pytest.raises(ValidationError, match=rf"'target' {target} is out of range: the model has 1 output"):
        attribute(MLP, X5, target=target, progress=False, baselines="zeros")
