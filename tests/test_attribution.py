"""interpret.attribution: known-answer tests, captum agreement, then contracts over every method."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG

from interpret.attribution import (
    METHODS,
    RULES,
    Attribution,
    attribute,
    make_baselines,
    path_nodes,
)
from interpret.exceptions import ValidationError

torch.set_num_threads(1)


def _linear(n_in: int, seed: int = 0) -> torch.nn.Linear:
    torch.manual_seed(seed)
    return torch.nn.Linear(n_in, 1)


class OneBand(torch.nn.Module):
    """Reads only band 2 of a (N, 4, 8, 8) image."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.act = torch.nn.Tanh()
        self.head = torch.nn.Linear(4 * 64, 1)

    def forward(self, x):
        return self.head(self.act(self.conv(x[:, 2:3])).flatten(1))


class SmallCNN(torch.nn.Module):
    def __init__(self, n_out: int = 1):
        super().__init__()
        torch.manual_seed(2)
        self.conv1 = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.act1 = torch.nn.Softplus()
        self.conv2 = torch.nn.Conv2d(6, 6, 3, padding=1)
        self.act2 = torch.nn.Tanh()
        self.fc = torch.nn.Linear(6 * 64, n_out)

    def forward(self, x):
        return self.fc(self.act2(self.conv2(self.act1(self.conv1(x)))).flatten(1))


class TwoInput(torch.nn.Module):
    """Image (N, 3, 8, 8) + catalogue (N, 5) -> 2 outputs."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.img = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 8), torch.nn.Tanh())
        self.cat = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh())
        self.out = torch.nn.Linear(16, 2)

    def forward(self, image, catalog):
        return self.out(torch.cat([self.img(image), self.cat(catalog)], dim=1))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).normal(size=(12, 3, 8, 8)).astype(np.float32)


# ----------------------------------------------------------------------------- known answers
@pytest.mark.parametrize("rule", RULES)
def test_linear_ig_is_weight_times_difference(rule):
    model = _linear(6)
    x = np.random.default_rng(1).normal(size=(9, 6)).astype(np.float32)
    base = np.random.default_rng(2).normal(size=(9, 6)).astype(np.float32)
    a = attribute(model, x, baselines=base, n_steps=7, rule=rule, progress=False)
    w = model.weight.detach().numpy()[0]
    np.testing.assert_allclose(a.values, w * (x - base), atol=1e-6)
    np.testing.assert_allclose(a.delta, 0.0, atol=1e-5)


def test_model_reading_one_band_gives_zero_elsewhere():
    x = np.random.default_rng(3).normal(size=(5, 4, 8, 8)).astype(np.float32)
    for method in ("integrated_gradients", "saliency", "occlusion", "feature_ablation", "deeplift"):
        a = attribute(OneBand(), x, method=method, progress=False)
        frame = a.per_band(["u", "g", "r", "i"])
        other = frame.loc[["u", "g", "i"], "absolute"].max()
        assert other <= 1e-5 * frame.loc["r", "absolute"], method   # exactly 0 up to float32 round-off
        assert frame.loc["r", "abs_fraction"] == pytest.approx(1.0), method


def test_path_nodes_integrate_polynomials():
    a, w = path_nodes(8, "gauss_legendre")
    assert w.sum() == pytest.approx(1.0)
    assert (w * a**15).sum() == pytest.approx(1 / 16, rel=1e-12)   # exact to degree 2n-1
    a, w = path_nodes(5, "trapezoid")
    assert a[0] == 0.0 and a[-1] == 1.0 and w.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("rule", ["gauss_legendre", "trapezoid", "riemann_right", "riemann_middle"])
def test_fused_matches_captum(images, rule):
    model = SmallCNN()
    base = make_baselines((images,), "blurred")[0]
    a = attribute(model, images, baselines=base, n_steps=20, rule=rule, batch_size=5, progress=False)
    ref = CaptumIG(lambda t: model(t)[:, 0]).attribute(
        torch.tensor(images), baselines=torch.tensor(base), n_steps=20,
        method={"gauss_legendre": "gausslegendre", "trapezoid": "riemann_trapezoid"}.get(rule, rule))
    scale = (20 - 1) / 20 if rule == "trapezoid" else 1.0   # captum's trapezoid weights sum to (n-1)/n
    np.testing.assert_allclose(a.values * scale, ref.numpy(), atol=1e-5)
    if rule == "trapezoid":
        return
    b = attribute(model, images, baselines=base, n_steps=20, rule=rule, engine="captum", progress=False)
    np.testing.assert_allclose(a.values, b.values, atol=1e-5)
    np.testing.assert_allclose(a.delta, b.delta, atol=1e-5)


def test_rows_per_pass_splits_steps_without_changing_result(images):
    model = SmallCNN()
    a = attribute(model, images, n_steps=16, progress=False)
    b = attribute(model, images, n_steps=16, rows_per_pass=5, batch_size=3, progress=False)
    np.testing.assert_allclose(a.values, b.values, atol=1e-6)


def test_gauss_legendre_beats_trapezoid(images):
    model = SmallCNN()
    gl = attribute(model, images, n_steps=16, progress=False)
    tr = attribute(model, images, n_steps=16, rule="trapezoid", progress=False)
    assert np.abs(gl.delta).mean() < np.abs(tr.delta).mean()


def test_auto_steps_reaches_completeness_target(images):
    model = SmallCNN()
    x = images * 4.0   # strongly non-linear path
    a = attribute(model, x, n_steps="auto", rtol=1e-5, atol=1e-7, progress=False)
    expected = np.abs(a.output - a.baseline_output)
    assert np.all((np.abs(a.delta) <= 1e-7 + 1e-5 * expected) | (a.n_steps == 256))
    assert a.n_steps.min() >= 16


# ----------------------------------------------------------------------------- multi-output / multi-input
def test_target_by_name_and_index_agree():
    from interpret.estimators import load_estimator

    est = load_estimator(SmallCNN(n_out=2), output_names=("log_mstar", "redshift"))
    x = np.random.default_rng(4).normal(size=(4, 3, 8, 8)).astype(np.float32)
    a = attribute(est, x, target="redshift", n_steps=8, progress=False)
    b = attribute(est.module, x, target=1, n_steps=8, progress=False)
    np.testing.assert_allclose(a.values, b.values)
    assert a.target == 1 and a.target_name == "redshift"
    with pytest.raises(ValidationError, match="pass 'target'"):
        attribute(est, x, progress=False)
    with pytest.raises(ValidationError, match="unknown target"):
        attribute(est, x, target="sfr", progress=False)


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "deeplift", "gradient_shap",
                                    "feature_ablation"])
def test_multi_input(method):
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(6, 3, 8, 8)).astype(np.float32), rng.normal(size=(6, 5)).astype(np.float32))
    a = attribute(TwoInput(), x, method=method, target=0, progress=False, seed=0)
    assert isinstance(a.values, tuple) and [v.shape for v in a.values] == [x[0].shape, x[1].shape]
    if a.delta is not None:
        assert np.abs(a.delta).max() < 1e-3


def test_sklearn_estimator_perturbation_only():
    from sklearn.linear_model import LinearRegression

    from interpret.estimators import load_estimator

    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 4))
    w = np.array([1.0, -2.0, 0.0, 0.5])
    est = load_estimator(LinearRegression().fit(x, x @ w))
    a = attribute(est, x[:5], method="feature_ablation", baselines="zeros", progress=False)
    np.testing.assert_allclose(a.values, w * x[:5], atol=1e-4)   # baseline zeros: w * (x - 0)
    a = attribute(est, x[:5], method="feature_ablation", progress=False)   # tabular default: the sample mean
    np.testing.assert_allclose(a.values, w * (x[:5] - x[:5].mean(axis=0)), atol=1e-4)
    assert a.params["baselines"] == "auto: mean"
    with pytest.raises(ValidationError, match="differentiable"):
        attribute(est, x[:5], method="saliency", progress=False)


# ----------------------------------------------------------------------------- contracts over every method
@pytest.mark.parametrize("method", sorted(METHODS))
def test_contract_every_method(method, images):
    model = SmallCNN()
    x = images[:6]
    before = x.copy()
    opts = {"n_steps": 8} if method == "integrated_gradients" else {}
    a = attribute(model, x, method=method, batch_size=4, seed=1, progress=False, **opts)
    assert isinstance(a, Attribution) and a.method == method
    assert a.values.shape == x.shape and a.values.dtype == np.float32 and np.isfinite(a.values).all()
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(a.output, model(torch.tensor(x))[:, 0].detach().numpy(), rtol=1e-5, atol=1e-6)
    stochastic = METHODS[method].stochastic   # noise is drawn per chunk: same seed + same chunking
    b = attribute(model, x, method=method, batch_size=4 if stochastic else 3, seed=1, progress=False, **opts)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-5, atol=1e-6)
    if stochastic and method != "deeplift_shap":   # 6 galaxies < 16 baselines: all used
        c = attribute(model, x, method=method, batch_size=4, seed=2, progress=False, **opts)
        assert not np.allclose(a.values, c.values)
    frame = a.to_frame()
    assert len(frame) == 6 and {"output", "attribution_sum"} <= set(frame.columns)


def test_eval_mode_used_and_caller_mode_restored(images):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(192, 1)).train()
    a = attribute(model, images, method="saliency", progress=False)
    b = attribute(model, images, method="saliency", progress=False)
    np.testing.assert_array_equal(a.values, b.values)   # dropout off during attribution
    assert model.training


@pytest.mark.parametrize("baselines", ["zeros", "mean", "blurred", 0.5])
def test_baselines(baselines, images):
    a = attribute(SmallCNN(), images, baselines=baselines, n_steps=24, progress=False)
    np.testing.assert_allclose(a.total(), a.output - a.baseline_output, atol=2e-3)
    if baselines == "blurred":
        b = make_baselines((images,), "blurred")[0]
        assert b.std(axis=(2, 3)).mean() < 0.5 * images.std(axis=(2, 3)).mean()   # structure removed
        flat = np.full((2, 3, 8, 8), 2.5, np.float32)
        np.testing.assert_allclose(make_baselines((flat,), "blurred")[0], flat, rtol=1e-6)   # flux kept


def test_save_load_roundtrip(tmp_path, images):
    from interpret import load_result

    a = attribute(SmallCNN(), images, n_steps=8, progress=False)
    a.save(tmp_path / "a.ipres")
    b = load_result(tmp_path / "a.ipres")
    np.testing.assert_array_equal(a.values, b.values)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_aggregations(images):
    a = attribute(SmallCNN(), images, n_steps=8, progress=False)
    pb = a.per_band(["g", "r", "i"])
    assert pb["abs_fraction"].sum() == pytest.approx(1.0)
    prof = a.radial_profile(["g", "r", "i"], n_bins=4)
    assert list(prof.columns[:4]) == ["r_lo", "r_hi", "r_mid", "n_pixels"] and len(prof) == 4
    assert prof["cumulative_fraction"].is_monotonic_increasing
    assert a.mean_map().shape == (3, 8, 8)
    spec = attribute(_linear(30), np.ones((4, 30), np.float32), n_steps=4, progress=False)
    pw = spec.per_wavelength(np.linspace(4000, 7000, 30))
    assert pw.shape == (30, 4)


def test_radial_profile_core_vs_outskirts():
    v = np.zeros((3, 1, 16, 16))
    v[:, :, 6:10, 6:10] = 1.0           # all attribution in the core
    from interpret.attribution import radial_profile

    prof = radial_profile(v, ["r"], n_bins=4)
    assert prof["r"].iloc[0] > 0 and prof["r"].iloc[-1] == 0


def test_validation_messages(images):
    with pytest.raises(ValidationError, match="unknown method"):
        attribute(SmallCNN(), images, method="lime")
    with pytest.raises(ValidationError, match="unknown option.*nt_samples.*accepts abs"):
        attribute(SmallCNN(), images, method="saliency", nt_samples=3)
    with pytest.raises(ValidationError, match="unknown option.*n_steps"):
        attribute(SmallCNN(), images, method="saliency", n_steps=8)
    with pytest.raises(ValidationError, match="NaN"):
        bad = images.copy()
        bad[2, 0, 0, 0] = np.nan
        attribute(SmallCNN(), bad)
    with pytest.raises(ValidationError, match="baselines"):
        attribute(SmallCNN(), images, baselines=np.zeros((2, 2)))
    with pytest.raises(ValidationError, match="band"):
        attribute(SmallCNN(), images, n_steps=4, progress=False).per_band(["g", "r"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(images):
    model = SmallCNN()
    a = attribute(model, images, n_steps=16, device="cpu", progress=False)
    b = attribute(SmallCNN(), images, n_steps=16, device="cuda", progress=False)
    np.testing.assert_allclose(a.values, b.values, atol=1e-4)


def test_attribute_restores_each_weights_requires_grad_flag():
    """Weights are frozen during attribution (input gradients only) and every flag comes back as it was."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    model[0].bias.requires_grad_(False)
    before = [p.requires_grad for p in model.parameters()]
    x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    for method in ("integrated_gradients", "saliency", "deeplift"):
        a = attribute(model, x, method=method, progress=False)
        assert np.abs(a.values).sum() > 0
        assert [p.requires_grad for p in model.parameters()] == before


def test_fused_ig_multi_node_passes_match_one_node_passes():
    """Passes of several nodes (GPU layout) and of one node (CPU cache-sized layout) give the same IG."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    x = np.random.default_rng(1).normal(size=(10, 5)).astype(np.float32)
    small = attribute(model, x, n_steps=12, batch_size=4, rows_per_pass=4, progress=False)
    large = attribute(model, x, n_steps=12, batch_size=4, rows_per_pass=48, progress=False)
    odd = attribute(model, x, n_steps=12, batch_size=4, rows_per_pass=20, progress=False)   # 5 nodes, 5, 2
    np.testing.assert_allclose(small.values, large.values, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(odd.values, large.values, rtol=1e-5, atol=1e-7)
    assert np.abs(large.delta).max() < 1e-4


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "smoothgrad", "gradient_shap", "occlusion"])
def test_read_only_inputs_and_unseeded_stochastic_methods(method):
    """pandas columns and memory maps are read-only; seed=None must still run the stochastic methods."""
    model = torch.nn.Linear(3, 1)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    x.flags.writeable = False
    opts = {"window": (1,)} if method == "occlusion" else {}
    a = attribute(model, x, method=method, baselines=x[:1] * 0 if method == "integrated_gradients" else None,
                  seed=None, progress=False, **opts)
    assert a.values.shape == x.shape and np.isfinite(a.values).all()


def test_tabular_default_baseline_is_the_mean_and_far_baselines_warn():
    """Zero magnitudes are an impossibly bright galaxy: IG defaults to the sample mean for tabular inputs."""
    from interpret.attribution.baselines import default_baselines
    from interpret.exceptions import BaselineWarning

    rng = np.random.default_rng(3)
    mags = rng.normal(20.0, 1.0, size=(60, 4)).astype(np.float32)        # magnitudes ~ 20
    model = torch.nn.Linear(4, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.05, -0.02, 0.01, 0.03]]))
        model.bias.fill_(-1.0)
    a = attribute(model, mags, n_steps=16, progress=False)
    assert a.params["baselines"] == "auto: mean"
    np.testing.assert_allclose(a.baseline_output, a.output.mean(), rtol=1e-4)
    with pytest.warns(BaselineWarning, match="far outside the predictions' range"):
        attribute(model, mags, baselines="zeros", n_steps=16, progress=False)
    assert default_baselines((mags, np.ones((3, 2, 8, 8)), np.ones((3, 4000)))) == ("mean", "zeros", "zeros")


@pytest.mark.parametrize("model_dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_shap", "smoothgrad"])
def test_fused_engines_run_in_the_models_dtype(model_dtype, x_dtype, method):
    """float64 catalogue arrays into a float32 network (or the reverse) failed in the first layer with
    'mat1 and mat2 must have the same dtype': the fused passes now run in the parameters' dtype."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 1), torch.nn.Flatten(0)).to(model_dtype)
    x = np.random.default_rng(0).normal(size=(6, 5)).astype(x_dtype)
    from interpret import load_estimator

    kw = {"baselines": 0.0} if method == "integrated_gradients" else {}
    a = attribute(load_estimator(net), x, method=method, progress=False, seed=0, **kw)
    assert a.values.dtype == x_dtype and np.isfinite(a.values).all()
    if method == "integrated_gradients":       # a linear model: exact completeness from the zero baseline
        w = net[0].weight.detach().double().numpy()[0]
        np.testing.assert_allclose(a.values, x * w, rtol=1e-5, atol=1e-6)
