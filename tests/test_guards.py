"""Resource guards and bad inputs named clearly (issue 19): each test is the reproducer from the audit."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import interpret as ip
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


# --- resamples: memory estimated before allocating ------------------------------------------------------------
@pytest.fixture()
def small_memory(monkeypatch):
    import interpret._memory as memory

    monkeypatch.setattr(memory, "available_memory", lambda device="cpu": 8 * 2**30)


def _pid_data(n=200):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=n), rng.normal(size=n)
    return a + b, {"a": a, "b": b}


def test_decompose_n_boot_refused_with_estimate(small_memory):
    t, s = _pid_data()
    with pytest.raises(ValidationError, match=r"decompose\(\): n_boot=10000000 resamples need about \d+(\.\d+)? GiB, "
                                              r"more than 50% of the 8 GiB .*lower 'n_boot'"):
        ip.pid.decompose(t, s, resampling=ip.pid.Resampling(n_boot=10**7))
    with pytest.raises(ValidationError, match="lower 'n_boot'"):
        ip.pid.decompose(t, s, resampling=ip.pid.Resampling(n_boot=10**7), method="knn")


def test_mutual_information_n_boot_refused(small_memory):
    t, s = _pid_data()
    with pytest.raises(ValidationError, match=r"mutual_information\(\): n_boot=100000000 .*lower 'n_boot'"):
        ip.pid.mutual_information(t, s["a"], n_boot=10**8)


def test_edge_stability_n_boot_refused(small_memory):
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)), columns=list("abc"))
    with pytest.raises(ValidationError, match=r"edge_stability\(\): n_boot=1000000000 .*lower 'n_boot'"):
        ip.causal.edge_stability(df, n_boot=10**9)


def test_line_importance_n_boot_refused(small_memory):
    wl = np.linspace(3800, 9200, 400)
    with pytest.raises(ValidationError, match=r"n_boot=10000000 resamples of 500 galaxies .*lower 'n_boot'"):
        ip.attribution.line_importance(np.zeros((500, 400)), wl, n_boot=10**7)


def test_shapley_n_permutations_refused(small_memory):
    from interpret.ablation.shapley import sample_shapley

    with pytest.raises(ValidationError, match=r"n_permutations=1000000000 permutations .*lower 'n_permutations'"):
        sample_shapley(lambda bits: bits.astype(float), 9, 10**9, np.random.default_rng(0))


# --- bad inputs named -------------------------------------------------------------------------------------
def test_decompose_empty_and_string_inputs():
    with pytest.raises(ValidationError, match=r"decompose\(\): 'target' is empty \(shape \(0,\)\)"):
        ip.pid.decompose(np.array([]), {"a": np.array([]), "b": np.array([])})
    t, s = _pid_data(50)
    with pytest.raises(ValidationError, match=r"sources\['a'\] is not numeric \(dtype <U1, e.g. 'x'\).*factorize"):
        ip.pid.decompose(t, {"a": np.array(["x", "y"] * 25), "b": s["b"]})


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_read_catalog_string_flux_names_the_column(tmp_path, suffix):
    from interpret.data.io import read_catalog
    from interpret.exceptions import DataFileError

    df = pd.DataFrame({"g_flux": ["a", "b", "c"], "r_flux": [1.0, 2.0, 3.0]})
    path = tmp_path / f"cat.{suffix}"
    df.to_csv(path, index=False) if suffix == "csv" else df.to_parquet(path)
    with pytest.raises(DataFileError, match=r"flux column 'g_flux' of .* is not numeric \(dtype object, e.g. 'a'\)"):
        read_catalog(path, fluxes=["g_flux", "r_flux"])


def test_empty_pt_is_reported_as_empty(tmp_path):
    from interpret.exceptions import EstimatorLoadError

    (tmp_path / "model.pt").write_bytes(b"")
    with pytest.raises(EstimatorLoadError, match=r"is empty \(0 bytes\)"):
        ip.load_estimator(tmp_path / "model.pt")


def test_discover_duplicate_columns_and_nan_column():
    rng = np.random.default_rng(0)
    with pytest.raises(ValidationError, match=r"duplicate variable names \['a'\]"):
        ip.causal.discover(pd.DataFrame(rng.normal(size=(100, 3)), columns=["a", "b", "a"]))
    df = pd.DataFrame(rng.normal(size=(100, 3)), columns=["a", "b", "c"])
    df.iloc[[5, 9], 1] = np.nan
    with pytest.raises(ValidationError, match=r"2 NaN values \(rows 5, 9\) in column 'b'"):
        ip.causal.discover(df)
