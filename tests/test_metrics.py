"""Metrics: hand-computed known answers, closed forms against numerical integration, then contracts."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.metrics import r2_score

from interpret import load_result, metrics
from interpret.exceptions import ValidationError


# --- known answers ---------------------------------------------------------------------------------------
def test_photoz_convention_hand_computed():
    z_true = np.array([0.0, 1.0, 3.0])
    z_pred = np.array([0.1, 1.2, 3.4])  # dz = 0.1 / 1, 0.2 / 2, 0.4 / 4 = 0.1 each
    assert metrics.bias(z_true, z_pred, redshift=True) == pytest.approx(0.1)
    assert metrics.sigma_nmad(z_true, z_pred, redshift=True) == pytest.approx(0.0, abs=1e-15)
    assert metrics.outlier_fraction(z_true, z_pred, redshift=True) == 0.0
    assert metrics.outlier_fraction(z_true, z_pred, threshold=0.05, redshift=True) == 1.0
    # plain residuals 0.1, 0.2, 0.4: the default, for any target
    assert metrics.bias(z_true, z_pred) == pytest.approx(0.7 / 3)
    assert metrics.bias(z_true, z_pred, statistic="median") == pytest.approx(0.2)
    assert metrics.rmse(z_true, z_pred, redshift=True) == pytest.approx(0.1)
    assert metrics.mae(z_true, z_pred, redshift=True) == pytest.approx(0.1)


def test_argument_order_is_scikit_learns():
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    y_true, y_pred = np.array([0.0, 1.0, 3.0]), np.array([0.5, 1.0, 2.0])
    assert metrics.bias(y_true, y_pred) == pytest.approx(np.mean(y_pred - y_true))
    assert metrics.rmse(y_true, y_pred) == pytest.approx(np.sqrt(mean_squared_error(y_true, y_pred)))
    assert metrics.mae(y_true, y_pred) == pytest.approx(mean_absolute_error(y_true, y_pred))
    assert metrics.r2(y_true, y_pred) == pytest.approx(r2_score(y_true, y_pred))
    # the photo-z normalisation divides by 1 + y_TRUE
    assert metrics.bias(y_true, y_pred, redshift=True) == pytest.approx(np.mean((y_pred - y_true) / (1 + y_true)))


def test_normalize_keyword_is_deprecated_but_works():
    with pytest.warns(FutureWarning, match="'normalize' is deprecated.*redshift=True"):
        assert metrics.bias([0.0, 1.0], [0.1, 1.2], normalize=True) == pytest.approx(0.1)
    with pytest.warns(FutureWarning, match="redshift=False"):
        assert metrics.sigma_nmad([0.0, 1.0], [0.1, 1.2], normalize=False) == pytest.approx(
            metrics.sigma_nmad([0.0, 1.0], [0.1, 1.2]))


def test_crps_redshift_scores_dz():
    t, m, s = np.array([0.0, 1.0, 3.0]), np.array([0.1, 1.2, 3.4]), np.array([0.1, 0.2, 0.4])
    plain = metrics.crps(t, m, sigma=s, reduce=False)
    dz = metrics.crps(np.zeros(3), (m - t) / (1 + t), sigma=s / (1 + t), reduce=False)
    np.testing.assert_allclose(metrics.crps(t, m, sigma=s, reduce=False, redshift=True), dz)
    np.testing.assert_allclose(dz, plain / (1 + t))


def test_sigma_nmad_hand_computed():
    r = np.array([-2.0, -1.0, 0.0, 1.0, 10.0])  # median 0; |r| median 1
    z_true = np.ones(5)
    assert metrics.sigma_nmad(z_true, 1 + 2 * r, redshift=True) == pytest.approx(1.4826)  # dz = 2 r / 2 = r
    assert metrics.sigma_nmad(z_true, 1 + 2 * r) == pytest.approx(2 * 1.4826)
    assert metrics.outlier_fraction(z_true, 1 + 2 * r, threshold=1.0, redshift=True) == pytest.approx(2 / 5)


def test_outlier_threshold_is_strict():
    assert metrics.outlier_fraction([0, 0, 0, 0], [0, 1, 2, 3], threshold=2) == 0.25


def test_rmse_mae_r2_hand_computed():
    y_true, y_pred = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 3.0, 2.0])  # r = 0, 1, 0, -2
    assert metrics.rmse(y_true, y_pred) == pytest.approx(np.sqrt(5 / 4))
    assert metrics.mae(y_true, y_pred) == pytest.approx(3 / 4)
    assert metrics.r2(y_true, y_pred) == pytest.approx(1 - 5 / 5)  # SS_tot = 5
    two = np.column_stack([y_pred, y_true])
    assert metrics.r2(np.column_stack([y_true, y_true]), two) == pytest.approx(
        r2_score(np.column_stack([y_true, y_true]), two))


def test_sigma_nmad_is_gaussian_sigma():
    rng = np.random.default_rng(1)
    z_true = rng.uniform(0, 2, 20000)
    z_pred = z_true + 0.03 * (1 + z_true) * rng.normal(size=z_true.size)
    assert metrics.sigma_nmad(z_true, z_pred, redshift=True) == pytest.approx(0.03, rel=0.03)
    assert metrics.bias(z_true, z_pred, redshift=True) == pytest.approx(0.0, abs=1e-3)


def test_pit_known_values():
    assert metrics.pit([0.0, 1.0], [0.0, 0.0], sigma=1.0) == pytest.approx([0.5, stats.norm.cdf(1.0)])
    samples = np.array([[0.0, 1.0, 2.0, 3.0]] * 2)
    assert metrics.pit([1.5, 1.0], samples) == pytest.approx([0.5, 1.5 / 4])
    gmm = metrics.pit([1.0], [[0.0, 2.0]], sigma=[[1.0, 1.0]], weights=[[3.0, 1.0]])
    assert gmm == pytest.approx(0.75 * stats.norm.cdf(1.0) + 0.25 * stats.norm.cdf(-1.0))


def test_crps_samples_hand_computed():
    assert metrics.crps([0.0], [[0.0, 1.0]]) == pytest.approx(0.25)  # 0.5 - 0.5 * 0.5
    assert metrics.crps([0.0], [[0.0, 1.0]], fair=True) == pytest.approx(0.0)  # 0.5 - 0.5 * 1
    assert metrics.crps([0.0, 0.0], [2.0, -1.0]) == pytest.approx(1.5)  # point forecast: MAE


def _crps_numeric(cdf, y: float, lo: float = -30, hi: float = 30) -> float:
    left = integrate.quad(lambda x: cdf(x) ** 2, lo, y, limit=200)[0]
    right = integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, hi, limit=200)[0]
    return left + right


@pytest.mark.parametrize("y", [-1.3, 0.0, 0.4, 2.5])
def test_crps_closed_forms_match_integral(y):
    mu, s = 0.3, 0.7
    gauss = metrics.crps([y], [mu], sigma=[s])
    assert gauss == pytest.approx(_crps_numeric(lambda x: stats.norm.cdf(x, mu, s), y), rel=1e-6)
    m, sd, w = np.array([-1.0, 0.5, 2.0]), np.array([0.3, 0.8, 0.5]), np.array([0.2, 0.5, 0.3])
    mix = metrics.crps([y], m[None], sigma=sd[None], weights=w[None])
    cdf = lambda x: float(np.sum(w * stats.norm.cdf(x, m, sd)))  # noqa: E731
    assert mix == pytest.approx(_crps_numeric(cdf, y), rel=1e-6)


def test_crps_forms_agree():
    rng = np.random.default_rng(2)
    mu, s, y = rng.normal(size=50), rng.uniform(0.5, 2, 50), rng.normal(size=50)
    gauss = metrics.crps(y, mu, sigma=s, reduce=False)
    same_mix = metrics.crps(y, np.column_stack([mu, mu]), sigma=np.column_stack([s, s]), reduce=False)
    np.testing.assert_allclose(same_mix, gauss, rtol=1e-10)
    draws = mu[:, None] + s[:, None] * rng.normal(size=(50, 4000))
    np.testing.assert_allclose(metrics.crps(y, draws, reduce=False), gauss, rtol=0.05, atol=0.01)


def test_pit_uniform_when_calibrated():
    rng = np.random.default_rng(3)
    mu, s = rng.normal(size=3000), rng.uniform(0.1, 1, 3000)
    y = rng.normal(mu, s)
    assert stats.kstest(metrics.pit(y, mu, sigma=s), "uniform").pvalue > 0.01
    over = metrics.pit(y, mu, sigma=s / 3)  # over-confident: U-shaped
    assert np.mean((over < 0.1) | (over > 0.9)) > 0.5


# --- registry and validation -----------------------------------------------------------------------------
def test_registry_and_get_metric():
    assert set(metrics.METRICS) >= {"bias", "sigma_nmad", "outlier_fraction", "rmse", "mae", "r2", "crps"}
    assert metrics.get_metric("mae") is metrics.mae
    f = lambda t, p: 0.0  # noqa: E731
    assert metrics.get_metric(f) is f
    with pytest.raises(ValidationError, match="unknown metric 'rsme'; valid names are bias, sigma_nmad"):
        metrics.get_metric("rsme")
    assert metrics.r2.greater_is_better and not metrics.rmse.greater_is_better


def test_validation_messages():
    with pytest.raises(ValidationError, match=r"bias\(\): 'y_pred' has 1 NaN values \(rows 1\)"):
        metrics.bias([0.1, 0.2], [0.1, np.nan])
    with pytest.raises(ValidationError, match="same number of rows"):
        metrics.rmse([1.0], [1.0, 2.0])
    with pytest.raises(ValidationError, match="redshift=False"):
        metrics.sigma_nmad([-10.0, 0.0], [-9.5, 0.0], redshift=True)
    with pytest.raises(ValidationError, match="constant"):
        metrics.r2([1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValidationError, match="needs a predictive distribution"):
        metrics.pit([1.0], [1.0])
    with pytest.raises(ValidationError, match="'sigma' must be > 0"):
        metrics.crps([1.0], [1.0], sigma=[0.0])
    with pytest.raises(ValidationError, match="'threshold' must be a positive"):
        metrics.outlier_fraction([1.0], [1.0], threshold=-1)


@pytest.mark.parametrize("name", sorted(metrics.METRICS))
def test_contract_scalar_and_inputs_unchanged(name):
    rng = np.random.default_rng(4)
    y_true = rng.uniform(0, 1, 40)
    y_pred = y_true + 0.1 * rng.normal(size=40)
    before = y_pred.copy()
    value = metrics.get_metric(name)(y_pred, y_true)
    assert isinstance(value, float) and np.isfinite(value)
    np.testing.assert_array_equal(y_pred, before)
    assert metrics.get_metric(name)(list(y_pred), y_true.reshape(-1, 1)) == pytest.approx(value)


# --- end to end: the report a plot draws -----------------------------------------------------------------
def test_evaluate_report_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    z = rng.uniform(0, 1, 200)
    zp = z + 0.02 * rng.normal(size=200)
    rep = metrics.evaluate(z, zp, sigma=np.full(200, 0.02), redshift=True)
    assert rep.values["sigma_nmad"] == pytest.approx(metrics.sigma_nmad(z, zp, redshift=True))
    assert rep.redshift and rep.quantity == "redshift"
    assert rep.pit.shape == (200,) and "crps" in rep.values
    rep.save(tmp_path / "m.ipres")
    back = load_result(tmp_path / "m.ipres")
    np.testing.assert_array_equal(back.pit, rep.pit)
    assert back.to_frame().equals(rep.to_frame())
    samples = zp[:, None] + 0.02 * rng.normal(size=(200, 50))
    assert metrics.evaluate(z, zp, samples=samples).pit.shape == (200,)


def test_plots_draw_report(tmp_path):
    from interpret.plots import save_figure
    from interpret.plots.metrics import plot_metric_report, plot_pit, plot_predictions

    rng = np.random.default_rng(6)
    z = rng.uniform(0, 1, 300)
    rep = metrics.evaluate(z, z + 0.03 * rng.normal(size=300), sigma=np.full(300, 0.03), redshift=True)
    fig = plot_predictions(rep)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "bias" in texts and "NMAD" in texts and "eta" in texts
    assert len(plot_metric_report(rep).axes) == 2 and plot_pit(rep).axes[0].patches
    assert save_figure(fig, tmp_path / "pred", formats=("png",))[0].stat().st_size > 0
    with pytest.raises(ValidationError, match="no PIT values"):
        plot_pit(metrics.evaluate(z, z))
    with pytest.raises(ValidationError, match="must be a MetricReport"):
        plot_predictions({"bias": 0.0})
