"""interpret.ablation: known-answer tests, then contract/property tests, then bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from interpret import load_result
from interpret.ablation import (
    STRATEGIES,
    AblationResult,
    Batching,
    Fill,
    Inpaint,
    ModelInputs,
    Noise,
    RetrainSpec,
    ShapleyResult,
    ShapleySampling,
    band_ablation,
    band_shapley,
    exact_interactions,
    exact_shapley,
    get_strategy,
    masked_predictions,
    masked_predictions_loop,
    resolve_layout,
    resolve_subsets,
)
from interpret.ablation.subsets import all_masks
from interpret.estimators import load_estimator
from interpret.exceptions import CostWarning, ValidationError

BANDS = ("u", "g", "r", "i", "z")


def mean_prediction(y_true, y_pred):
    """A metric linear in the predictions: Shapley values of additive models are then exact contributions."""
    return float(np.mean(y_pred))


@pytest.fixture(scope="module")
def catalog():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(BANDS)))
    return x, 1.0 + 0.3 * np.abs(x[:, 0])


# ---------------------------------------------------------------- known answers: Shapley --------------
def test_exact_shapley_textbook_games():
    # glove game: player 0 has a left glove, players 1 and 2 right gloves; v = 1 for a pair.
    v = np.array([0, 0, 0, 1, 0, 1, 0, 1], dtype=float)       # bits: 0b011, 0b101, 0b111 -> 1
    np.testing.assert_allclose(exact_shapley(v), [2 / 3, 1 / 6, 1 / 6])
    inter = exact_interactions(v)
    assert np.isnan(np.diag(inter)).all()
    np.testing.assert_allclose(inter, inter.T)
    # I_{12}: S = {} -> v(12) - v(1) - v(2) + v() = 0; S = {0} -> 1 - 1 - 1 + 0 = -1; weights 1/2 each
    assert inter[1, 2] == pytest.approx(-0.5)


def test_ignored_band_gets_zero_shapley(catalog):
    x, y = catalog
    def model(a):     # nonlinear, with interactions, never reads band 3 ("i")
        return 1.0 + 0.3 * np.abs(a[:, 0]) + 0.2 * a[:, 1] * a[:, 2] + 0.1 * np.sin(a[:, 4])
    for strategy in ("zero", "mean", "median", "noise"):       # interventional fills: the dummy axiom holds
        s = band_shapley(model, x, y, bands=BANDS, metric="rmse", strategy=strategy, seed=1, progress=False)
        assert s.values["i"] == pytest.approx(0.0, abs=1e-12)
        assert np.nanmax(np.abs(s.interactions.loc["i"].to_numpy())) == pytest.approx(0.0, abs=1e-12)
        assert abs(s.values["u"]) > 0.01
    # inpainting is conditional: a kept band helps reconstruct the removed ones, so an ignored band that is
    # independent of the others (as here) gets only a small share, and one that predicts them gets credit
    s = band_shapley(model, x, y, bands=BANDS, metric="rmse", strategy="inpaint", progress=False)
    assert abs(s.values["i"]) < 0.02 * abs(s.values["u"])
    xc = x.copy()
    xc[:, 3] = xc[:, 0] + 0.01 * xc[:, 3]                        # i now predicts u
    s = band_shapley(model, xc, y, bands=BANDS, metric="rmse", strategy="inpaint", progress=False)
    assert s.values["i"] > 0.1 * abs(s.values["u"])    # an informative copy of u helps: positive


def test_additive_model_shapley_equals_band_contributions(catalog):
    x, y = catalog
    w = np.array([0.5, -1.0, 2.0, 0.0, 0.25])
    model = lambda a: (a ** 2) @ w                                     # noqa: E731
    s = band_shapley(model, x, y, bands=BANDS, metric=mean_prediction, strategy="zero", progress=False)
    expected = w * np.mean(x ** 2, axis=0)                            # each band's mean contribution
    np.testing.assert_allclose(s.values.to_numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.nan_to_num(s.interactions.to_numpy()), 0.0, atol=1e-12)
    # with the mean fill the contribution is measured from the band's mean effect instead of from zero
    m = band_shapley(model, x, y, bands=BANDS, metric=mean_prediction, strategy="mean", progress=False)
    expected = w * (np.mean(x ** 2, axis=0) - np.mean(x, axis=0) ** 2)
    np.testing.assert_allclose(m.values.to_numpy(), expected, rtol=1e-10, atol=1e-12)


def test_pure_interaction_known_answer(catalog):
    x, y = catalog
    s = band_shapley(lambda a: a[:, 0] * a[:, 1], x, y, bands=BANDS, metric=mean_prediction, strategy="zero",
                     progress=False)
    prod = float(np.mean(x[:, 0] * x[:, 1]))
    assert s.values["u"] == pytest.approx(prod / 2) and s.values["g"] == pytest.approx(prod / 2)
    assert s.interactions.loc["u", "g"] == pytest.approx(prod)
    assert s.interactions.loc["u", "r"] == pytest.approx(0.0, abs=1e-15)


def test_efficiency_to_float_precision(catalog):
    x, y = catalog
    model = lambda a: 1.0 + 0.3 * np.abs(a[:, 0]) + 0.1 * a[:, 1] * a[:, 2]     # noqa: E731
    exact = band_shapley(model, x, y, bands=BANDS, metric="sigma_nmad", progress=False)
    assert exact.exact and exact.standard_errors is None
    assert abs(exact.efficiency_gap) < 1e-12 * max(1.0, abs(exact.v_none))
    sampled = band_shapley(model, x, y, bands=BANDS, metric="sigma_nmad",
                           sampling=ShapleySampling(exact=False, n_permutations=40), seed=3, progress=False)
    assert not sampled.exact and sampled.n_permutations == 40
    assert abs(sampled.efficiency_gap) < 1e-12 * max(1.0, abs(sampled.v_none))
    assert sampled.v_all == pytest.approx(exact.v_all) and sampled.v_none == pytest.approx(exact.v_none)


def test_sampled_shapley_matches_exact_within_errors(catalog):
    x, y = catalog
    model = lambda a: 1.0 + 0.3 * np.abs(a[:, 0]) + 0.2 * a[:, 1] * a[:, 2] + 0.05 * a[:, 4]  # noqa: E731
    exact = band_shapley(model, x, y, bands=BANDS, metric="rmse", progress=False)
    sampling = ShapleySampling(exact=False, n_permutations=300, interactions=True, n_interaction_samples=300)
    sampled = band_shapley(model, x, y, bands=BANDS, metric="rmse", sampling=sampling, seed=0, progress=False)
    z = (sampled.values - exact.values).abs() / (sampled.standard_errors + 1e-12)
    assert (z < 5).all(), z
    diff = np.abs(np.nan_to_num(sampled.interactions.to_numpy() - exact.interactions.to_numpy()))
    se = np.nan_to_num(sampled.interaction_standard_errors.to_numpy())
    assert (diff <= 5 * se + 1e-9).all()


def test_many_bands_fall_back_to_sampling():
    rng = np.random.default_rng(1)
    n_bands = 13
    x = rng.normal(size=(60, n_bands))
    w = np.linspace(0, 1, n_bands)
    names = [f"b{k}" for k in range(n_bands)]
    s = band_shapley(lambda a: a @ w, x, x @ w, bands=names, metric=mean_prediction, strategy="zero",
                     sampling=ShapleySampling(n_permutations=4), seed=0, progress=False)
    assert not s.exact and s.standard_errors is not None
    np.testing.assert_allclose(s.values.to_numpy(), w * x.mean(axis=0), atol=1e-12)   # additive: exact anyway
    assert s.interactions.isna().all().all()
    with pytest.warns(CostWarning):
        band_shapley(lambda a: a @ w, x[:8], (x @ w)[:8], bands=names, metric=mean_prediction,
                     sampling=ShapleySampling(exact=True), progress=False, strategy="zero")


# ---------------------------------------------------------------- known answers: ablation ------------
def test_leave_one_out_table_known_answer(catalog):
    x, y = catalog
    t = band_ablation(lambda a: 1.0 + 0.3 * np.abs(a[:, 0]), x, y, bands=BANDS, strategy="mean",
                      metrics=("rmse", "mae"), progress=False)
    assert isinstance(t, AblationResult)
    tab = t.table
    assert list(tab.columns) == ["label", "kept", "dropped", "n_kept", "rmse", "mae", "delta_rmse", "delta_mae"]
    assert tab["label"].tolist() == ["all", "-u", "-g", "-r", "-i", "-z"]
    assert tab.loc[1, "dropped"] == ("u",) and tab.loc[1, "kept"] == ("g", "r", "i", "z")
    assert tab["rmse"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    expected = np.sqrt(np.mean((0.3 * np.abs(x[:, 0].mean()) - 0.3 * np.abs(x[:, 0])) ** 2))
    assert tab["rmse"].iloc[1] == pytest.approx(expected)
    np.testing.assert_allclose(tab["delta_rmse"].iloc[2:], 0.0, atol=1e-12)
    assert t.per_band("rmse").idxmax() == "u"


def test_subset_specs():
    names = ("a", "b", "c")
    assert resolve_subsets("single", names, func="t").astype(int).tolist() == [[1, 1, 1], [1, 0, 0],
                                                                             [0, 1, 0], [0, 0, 1]]
    assert resolve_subsets("adjacent_pairs", names, func="t").astype(int).tolist()[1:] == [[1, 1, 0], [0, 1, 1]]
    assert len(resolve_subsets("all", names, func="t")) == 8
    masks = resolve_subsets([{"drop": ["a", "b"]}, ["c"], "b"], names, func="t")
    assert masks.astype(int).tolist() == [[1, 1, 1], [0, 0, 1], [0, 1, 0]]     # duplicate [c] removed


def test_retrain_mode_on_tiny_sklearn_model():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    a = rng.normal(size=600)
    x = np.column_stack([a, a + 0.05 * rng.normal(size=600), rng.normal(size=600)])   # b duplicates a
    y = 3.0 + a
    fit = lambda xs, ys: LinearRegression().fit(xs, ys)                                 # noqa: E731
    retrained = band_ablation(None, x, y, bands=["a", "b", "c"], retrain=RetrainSpec(fit), metrics="rmse",
                              subsets="all", seed=0, progress=False)
    tab = retrained.table.set_index("label")
    assert retrained.n_samples == 150 and retrained.strategy is None
    assert tab.loc["all", "rmse"] == pytest.approx(0.0, abs=1e-9)
    assert tab.loc["-a", "delta_rmse"] < 0.05              # b carries a's information: retraining recovers it
    assert tab.loc["c only", "rmse"] > 0.8                 # c is pure noise
    from interpret.ablation.retrain import split_indices
    train, test = split_indices(600, test_size=None, cv=None, seed=0, func="t")[0]
    constant = np.sqrt(np.mean((y[test] - y[train].mean()) ** 2))         # empty set = mean predictor
    assert tab.loc["none", "rmse"] == pytest.approx(constant)
    # the trained model relies on a alone: masking a hurts although the information is still in b
    masked = band_ablation(lambda v: 3.0 + v[:, 0], x, y, bands=["a", "b", "c"], metrics="rmse", progress=False)
    assert masked.table.set_index("label").loc["-a", "delta_rmse"] > 0.8
    from interpret.ablation import compare_modes
    both = compare_modes(masked, retrained)
    assert both.loc["-a", "delta_rmse_mask"] > 10 * both.loc["-a", "delta_rmse_retrain"]


def test_retrain_cv_pools_out_of_fold_predictions_and_passes_seeds():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.normal(size=(90, 3)), columns=["g", "r", "size"])
    y = 2 + x["g"].to_numpy() - 0.5 * x["size"].to_numpy()
    seen = []

    def fit(xs, ys, seed):
        assert isinstance(xs, pd.DataFrame) and "size" in xs.columns
        seen.append(seed)
        return Ridge(alpha=1e-6).fit(xs, ys)

    t = band_ablation(None, x, y, bands=["g", "r"], retrain=RetrainSpec(fit, cv=3), metrics="rmse", seed=5,
                      progress=False)
    assert t.n_samples == 90 and t.details["cv"] == 3
    assert t.table.set_index("label").loc["-g", "delta_rmse"] > 0.5
    first = list(seen)
    seen.clear()
    t2 = band_ablation(None, x, y, bands=["g", "r"], retrain=RetrainSpec(fit, cv=3), metrics="rmse", seed=5,
                       progress=False)
    assert seen == first and len(set(first)) == len(first)
    pd.testing.assert_frame_equal(t.table, t2.table)


# ---------------------------------------------------------------- layouts -----------------------------
class TwoInputNet(torch.nn.Module):
    """Image (n, B, 8, 8) + magnitudes (n, B) -> one output."""

    def __init__(self, n_bands: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(n_bands, 4, 3)
        self.head = torch.nn.Linear(4 + n_bands, 1)

    def forward(self, image, mags):
        return self.head(torch.cat([self.conv(image).mean(dim=(2, 3)), mags], dim=1))


@pytest.fixture(scope="module")
def two_inputs():
    rng = np.random.default_rng(3)
    img = rng.normal(size=(60, 3, 8, 8)).astype(np.float32)
    mags = (20 + rng.normal(size=(60, 3))).astype(np.float32)
    return img, mags


def test_band_spanning_two_inputs(two_inputs):
    img, mags = two_inputs
    y = 1.0 + 0.1 * (mags[:, 0] - 20)
    # a callable that reads band g only from the magnitudes: dropping g must touch the magnitude input
    model = load_estimator(lambda image, m: 1.0 + 0.1 * (m[:, 0] - 20.0) + 0 * image.sum(axis=(1, 2, 3)))
    t = band_ablation(model, (img, mags), y, bands=["g", "r", "i"], metrics="rmse", strategy="zero",
                      progress=False).table.set_index("label")
    assert t.loc["-g", "rmse"] > 1.0 and t.loc["-r", "rmse"] == 0.0
    inputs = ModelInputs.from_x({"image": img, "mags": mags}, "t")
    layout = resolve_layout(inputs, ["g", "r", "i"], band_layout={
        "g": [("image", 1, 1), ("mags", 1, 1)], "r": ("image", 1, 2), "i": [("mags", 1, 2)]}, func="t")
    assert len(layout.slots["g"]) == 2 and layout.slots["r"][0].input == 0


def test_image_channels_torch_cnn_and_explicit_layout(two_inputs):
    img, mags = two_inputs
    torch.manual_seed(0)
    net = TwoInputNet(3)
    y = 1.0 + np.abs(img[:, 0].mean(axis=(1, 2)))
    common = dict(metrics="rmse", progress=False)
    auto = band_ablation(net, (img, mags), y, bands=["g", "r", "i"], **common)
    explicit = band_ablation(net, (img, mags), y, bands=["g", "r", "i"], band_layout={
        b: [(0, 1, k), (1, 1, k)] for k, b in enumerate("gri")}, **common)
    pd.testing.assert_frame_equal(auto.table, explicit.table)
    img_only = band_ablation(net, (img, mags), y, bands=["g", "r", "i"], band_layout=(1, None), **common)
    assert not np.allclose(img_only.table["rmse"], auto.table["rmse"])


def test_dataframe_columns_keep_non_band_columns():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.normal(size=(200, 3)), columns=["g", "r", "size"])
    y = 1 + df["g"] + df["size"]
    model = LinearRegression().fit(df, y)            # fitted on a frame: feature names must survive masking
    t = band_ablation(model, df, y, bands=["g", "r"], metrics="rmse", progress=False).table
    assert t["label"].tolist() == ["all", "-g", "-r"]
    assert t.loc[1, "delta_rmse"] > 0.5 and abs(t.loc[2, "delta_rmse"]) < 1e-6


# ---------------------------------------------------------------- strategies --------------------------
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_batched_equals_naive_loop_and_inputs_unchanged(name, two_inputs):
    img, mags = two_inputs
    w = np.random.default_rng(1).normal(size=(3, 8, 8)).astype(np.float32)
    est = load_estimator(lambda image, m: np.tanh((image * w).sum(axis=(2, 3))) @ np.array([1.0, -2.0, 0.5])
                         + np.sin(m) @ np.array([0.3, 0.2, -0.1]))
    inputs = ModelInputs.from_x((img, mags), "t")
    before = [a.copy() for a in inputs.arrays]
    layout = resolve_layout(inputs, ["g", "r", "i"], func="t")
    filler = get_strategy(name).fit(inputs, layout, seed=0)
    masks = all_masks(3)
    loop = masked_predictions_loop(est, inputs, layout, filler, masks, batch_size=25)
    for max_bytes in (10_000, 10**9):
        fast = masked_predictions(est, inputs, layout, filler, masks, batch_size=25, max_bytes=max_bytes,
                                  progress=False)
        np.testing.assert_allclose(fast, loop, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loop[-1], est.predict((img, mags), progress=False), rtol=1e-6)
    for a, b in zip(inputs.arrays, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_same_seed_same_result(name, catalog):
    x, y = catalog
    model = lambda a: 1.0 + 0.3 * np.abs(a[:, 0]) + 0.1 * a[:, 1]      # noqa: E731
    kw = dict(bands=BANDS, strategy=name, metrics=("rmse", "sigma_nmad"), progress=False)
    t1 = band_ablation(model, x, y, seed=7, **kw).table
    t2 = band_ablation(model, x, y, seed=7, **kw).table
    pd.testing.assert_frame_equal(t1, t2)
    if name == "noise":
        t3 = band_ablation(model, x, y, seed=8, **kw).table
        assert not np.allclose(t1["rmse"], t3["rmse"])


def test_fill_values_per_strategy():
    rng = np.random.default_rng(5)
    sky = 0.7
    img = (10.0 + sky * rng.normal(size=(300, 2, 16, 16))).astype(np.float32)
    img[:, :, 6:10, 6:10] += 50.0                                           # a "galaxy" in the middle
    inputs = ModelInputs.from_x(img, "t")
    layout = resolve_layout(inputs, ["a", "b"], func="t")
    rows = np.arange(300)
    def filled(strategy):
        arrays = [img.copy()]
        strategy.fit(inputs, layout, seed=0).fill(arrays, rows, np.array([False, True]))
        return arrays[0][:, 0]
    assert (filled(get_strategy("zero")) == 0).all()
    np.testing.assert_allclose(filled(get_strategy("mean"))[5], img[:, 0].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(filled(get_strategy("median"))[3], np.median(img[:, 0], axis=0), rtol=1e-6)
    noise = filled(Noise())
    assert np.std(noise) == pytest.approx(sky, rel=0.05)                     # the sky noise, not the galaxy
    assert np.median(noise) == pytest.approx(10.0, abs=0.1)
    given = filled(Noise(sigma={"a": 2.0}, loc=0.0))
    assert np.std(given) == pytest.approx(2.0, rel=0.05) and abs(np.mean(given)) < 0.05


def test_inpaint_recovers_predictable_band():
    rng = np.random.default_rng(6)
    g, r = rng.normal(20, 1, size=500), rng.normal(0.5, 0.2, size=500)
    mags = np.column_stack([g, g - r, g - 1.8 * r])                         # i is a linear function of g, r
    inputs = ModelInputs.from_x(mags, "t")
    layout = resolve_layout(inputs, ["g", "r", "i"], func="t")
    arrays = [mags.copy()]
    Inpaint().fit(inputs, layout).fill(arrays, np.arange(500), np.array([True, True, False]))
    np.testing.assert_allclose(arrays[0][:, 2], mags[:, 2], atol=1e-4)
    model = lambda m: m[:, 2]                                                # noqa: E731
    t = band_ablation(model, mags, mags[:, 2], bands=["g", "r", "i"], strategy="inpaint", metrics="rmse",
                      progress=False).table.set_index("label")
    m = band_ablation(model, mags, mags[:, 2], bands=["g", "r", "i"], strategy="mean", metrics="rmse",
                      progress=False).table.set_index("label")
    assert t.loc["-i", "rmse"] < 1e-3 < m.loc["-i", "rmse"]


# ---------------------------------------------------------------- results ------------------------------
def test_results_round_trip(tmp_path, catalog):
    x, y = catalog
    model = lambda a: 1.0 + 0.3 * np.abs(a[:, 0])          # noqa: E731
    t = band_ablation(model, x, y, bands=BANDS, metrics=("rmse", "bias"), progress=False)
    t.save(tmp_path / "t.ipres")
    back = load_result(tmp_path / "t.ipres")
    pd.testing.assert_frame_equal(back.table, t.table)
    assert back.bands == BANDS and back.metrics == ("rmse", "bias")
    sampling = ShapleySampling(exact=False, n_permutations=6, interactions=True, n_interaction_samples=4)
    s = band_shapley(model, x, y, bands=BANDS, sampling=sampling, seed=0, progress=False)
    s.save(tmp_path / "s.ipres")
    s2 = load_result(tmp_path / "s.ipres")
    assert isinstance(s2, ShapleyResult)
    pd.testing.assert_series_equal(s2.values, s.values)
    pd.testing.assert_frame_equal(s2.interactions, s.interactions)
    pd.testing.assert_frame_equal(s2.to_frame(), s.to_frame())


# ---------------------------------------------------------------- bad input ----------------------------
def _model(a):
    return a[:, 0]


@pytest.mark.parametrize("kwargs, match", [
    (dict(bands=["u", "g"]), "axis 1 has 5 entries but 2 bands"),
    (dict(bands="ugriz"), "must be a BandSet or a list"),
    (dict(bands=BANDS, strategy="blur"), "valid values are 'inpaint', 'mean', 'median', 'noise', 'zero'"),
    (dict(bands=BANDS, metrics=("rmse", "chi2")), "unknown metric 'chi2'; valid values are 'bias'"),
    (dict(bands=BANDS, subsets=[["u", "y"]]), r"unknown band\(s\) \['y'\]"),
    (dict(bands=BANDS, subsets="pairs"), "valid values are 'leave_one_out'"),
    (dict(bands=BANDS, band_layout=0), "valid non-row axis"),
    (dict(bands=BANDS, batching=Batching(batch_size=0)), "'batch_size' must be >= 1"),
    (dict(bands=BANDS, strategy=Fill("median", reference=np.zeros((5, 2)))), "'reference' must hold the same"),
    (dict(bands=["u", "u", "g", "r", "i"]), "duplicate names"),
])
def test_bad_input_messages(kwargs, match, catalog):
    x, y = catalog
    with pytest.raises(ValidationError, match=match):
        band_ablation(_model, x, y, progress=False, **kwargs)


def test_bad_input_other(catalog):
    x, y = catalog
    with pytest.raises(ValidationError, match="same number of rows"):
        band_ablation(_model, x, y[:-1], bands=BANDS, progress=False)
    with pytest.raises(ValidationError, match="needs a trained 'estimator'"):
        band_ablation(None, x, y, bands=BANDS, progress=False)
    with pytest.raises(ValidationError, match="'fit' must be a callable"):
        band_ablation(None, x, y, bands=BANDS, retrain=RetrainSpec(None), progress=False)
    with pytest.raises(ValidationError, match="does not use 'estimator'"):
        band_ablation(_model, x, y, bands=BANDS, retrain=RetrainSpec(lambda a, b: None), progress=False)
    with pytest.raises(ValidationError, match="not columns of 'x'"):
        band_ablation(_model, pd.DataFrame(x, columns=list("abcde")), y, bands=["a", "q"], progress=False)
    with pytest.raises(ValidationError, match="NaN"):
        band_ablation(_model, np.where(x > 2.5, np.nan, x), y, bands=BANDS, progress=False)
    with pytest.raises(ValidationError, match="one name or callable"):
        band_shapley(_model, x, y, bands=BANDS, metric=["rmse", "bias"], progress=False)
    names = [f"b{k}" for k in range(21)]
    with pytest.raises(ValidationError, match="at most 20 bands"):
        band_shapley(_model, np.zeros((4, 21)), np.ones(4), bands=names, sampling=ShapleySampling(exact=True),
                     progress=False)
    with pytest.raises(ValidationError, match="at most 16 bands"):
        band_ablation(_model, np.zeros((4, 17)), np.ones(4), bands=names[:17], subsets="all", progress=False)
    with pytest.raises(ValidationError, match="band_layout refers to input 'spec'"):
        band_ablation(_model, (x, x), y, bands=["u"], band_layout={"u": ("spec", 1, 0)}, progress=False)


def test_retrain_mode_shapley_and_reference_and_output():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(8)
    x = rng.normal(size=(400, 3))
    y = 5 + x[:, 0] + 0.5 * x[:, 1]
    s = band_shapley(None, x, y, bands=["a", "b", "c"], retrain=RetrainSpec(lambda xs, ys: LinearRegression().fit(xs, ys)),
                     metric="rmse", seed=0, progress=False)
    assert s.strategy is None and abs(s.efficiency_gap) < 1e-12
    assert s.values["a"] > s.values["b"] > 0.05 and abs(s.values["c"]) < 0.01   # positive = helps
    # fill statistics from reference data instead of x
    ref = x + 10.0
    t = band_ablation(lambda a: a[:, 0], x, y, bands=["a", "b", "c"], strategy=Fill("mean", reference=ref),
                      metrics=mean_prediction, progress=False).table
    assert t.loc[1, "mean_prediction"] == pytest.approx(ref[:, 0].mean())
    # multi-output estimators: choose the scored output by index or by name
    est = load_estimator(lambda a: np.column_stack([a[:, 0], 5 + a[:, 0] + 0.5 * a[:, 1]]),
                         output_names=("other", "z"))
    by_name = band_ablation(est, x, y, bands=["a", "b", "c"], output="z", metrics="rmse", progress=False)
    assert by_name.table.loc[0, "rmse"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValidationError, match="pass output=<column index>"):
        band_ablation(est, x, y, bands=["a", "b", "c"], metrics="rmse", progress=False)
    with pytest.raises(ValidationError, match="unknown output 'q'"):
        band_ablation(est, x, y, bands=["a", "b", "c"], output="q", metrics="rmse", progress=False)


def test_old_keywords_still_work_with_a_future_warning(catalog):
    """mode/fit/test_size/cv, reference, band_axis, batch_size/max_bytes and the Shapley sampling keywords."""
    from sklearn.linear_model import LinearRegression

    x, y = catalog
    fit = lambda a, b: LinearRegression().fit(a, b)   # noqa: E731
    new = band_ablation(None, x, y, bands=BANDS, retrain=RetrainSpec(fit, test_size=0.3), metrics="rmse", seed=1,
                        progress=False)
    with pytest.warns(FutureWarning, match=r"fit, mode, test_size are removed in 0.4; use retrain=RetrainSpec"):
        old = band_ablation(None, x, y, bands=BANDS, mode="retrain", fit=fit, test_size=0.3, metrics="rmse", seed=1,
                            progress=False)
    pd.testing.assert_frame_equal(old.table, new.table)
    ref = x + 1.0
    new = band_ablation(_model, x, y, bands=BANDS, strategy=Fill("median", reference=ref),
                        batching=Batching(batch_size=7), progress=False)
    with pytest.warns(FutureWarning, match="batch_size, reference are removed"):
        old = band_ablation(_model, x, y, bands=BANDS, strategy="median", reference=ref, batch_size=7, progress=False)
    pd.testing.assert_frame_equal(old.table, new.table)
    with pytest.warns(FutureWarning, match=r"sampling=ShapleySampling\(exact=...\)"):
        old = band_shapley(_model, x, y, bands=BANDS, exact=False, n_permutations=10, seed=0, progress=False)
    new = band_shapley(_model, x, y, bands=BANDS, sampling=ShapleySampling(exact=False, n_permutations=10), seed=0,
                       progress=False)
    pd.testing.assert_series_equal(old.values, new.values)
    with pytest.warns(FutureWarning), pytest.raises(ValidationError, match="mode='retrain' needs fit="):
        band_ablation(None, x, y, bands=BANDS, mode="retrain", progress=False)
    with pytest.warns(FutureWarning), pytest.raises(ValidationError, match="valid values are 'mask', 'retrain'"):
        band_ablation(_model, x, y, bands=BANDS, mode="refit", progress=False)
    with pytest.warns(FutureWarning), pytest.raises(ValidationError, match="only apply to mode='retrain'"):
        band_ablation(_model, x, y, bands=BANDS, cv=3, progress=False)
    with pytest.raises(ValidationError, match="'retrain' must be a RetrainSpec"):
        band_ablation(None, x, y, bands=BANDS, retrain=fit, progress=False)
