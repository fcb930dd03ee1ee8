"""Plots of ablation results: they draw what the result holds and return the figure."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from interpret.ablation import RetrainSpec, ShapleySampling, band_ablation, band_shapley  # noqa: E402
from interpret.plots.ablation import (  # noqa: E402
    plot_ablation,
    plot_ablation_comparison,
    plot_interactions,
    plot_shapley,
)

BANDS = ["u", "g", "r", "i"]


def model(a):
    return 1.0 + 0.3 * np.abs(a[:, 0]) + 0.2 * a[:, 1] * a[:, 2]


@pytest.fixture(scope="module")
def results():
    from sklearn.linear_model import LinearRegression

    x = np.random.default_rng(0).normal(size=(200, 4))
    y = model(x)
    masked = band_ablation(model, x, y, bands=BANDS, metrics=("rmse", "bias"), progress=False)
    retrained = band_ablation(None, x, y, bands=BANDS, metrics="rmse", seed=0, progress=False,
                              retrain=RetrainSpec(lambda a, b: LinearRegression().fit(a, b)))
    exact = band_shapley(model, x, y, bands=BANDS, progress=False)
    sampled = band_shapley(model, x, y, bands=BANDS, sampling=ShapleySampling(exact=False, n_permutations=10),
                           seed=0, progress=False)
    yield masked, retrained, exact, sampled
    plt.close("all")


def test_plot_ablation_draws_one_bar_per_subset(results, tmp_path):
    masked = results[0]
    fig = plot_ablation(masked, "rmse")
    bars = fig.axes[0].patches
    assert len(bars) == len(masked.table) - 1
    np.testing.assert_allclose(sorted(b.get_width() for b in bars), sorted(masked.table["delta_rmse"][1:]))
    fig.savefig(tmp_path / "ablation.png")
    assert (tmp_path / "ablation.png").stat().st_size > 0


def test_plot_comparison_side_by_side(results):
    masked, retrained = results[:2]
    fig, ax = plt.subplots()
    assert plot_ablation_comparison(masked, retrained, ax=ax) is fig
    assert len(ax.patches) == 2 * (len(masked.table) - 1)
    assert len(ax.get_legend().get_texts()) == 2


def test_plot_shapley_bars_and_error_bars(results):
    exact, sampled = results[2:]
    fig = plot_shapley(exact)
    heights = [p.get_height() for p in fig.axes[0].patches]
    np.testing.assert_allclose(heights, exact.values.to_numpy())   # positive = helps, plotted as is
    fig2 = plot_shapley(sampled)
    bars = [c for c in fig2.axes[0].containers if hasattr(c, "errorbar")]
    assert bars and bars[0].errorbar is not None


def test_plot_interactions_heatmap(results):
    exact = results[2]
    fig = plot_interactions(exact)
    image = fig.axes[0].images[0]
    np.testing.assert_allclose(np.ma.filled(image.get_array(), np.nan), exact.interactions.to_numpy())
    assert len(fig.axes) == 2                     # heatmap + colour bar
