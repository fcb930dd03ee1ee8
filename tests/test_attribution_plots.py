"""Attribution figures: each plot draws a result and returns a Figure (headless)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from interpret.attribution import attribute, line_importance  # noqa: E402
from interpret.plots import attribution as P  # noqa: E402
from interpret.plots import save_figure  # noqa: E402

torch.set_num_threads(1)
BANDS = ["g", "r", "i"]


@pytest.fixture(scope="module")
def image_attr():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Tanh(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 256, 1))
    yy, xx = np.mgrid[0:16, 0:16]
    blob = np.exp(-((yy - 7.5) ** 2 + (xx - 7.5) ** 2) / 10.0)
    x = (blob[None, None] * np.random.default_rng(0).uniform(1, 2, (6, 3, 1, 1))).astype(np.float32)
    return attribute(model, x, n_steps=8, progress=False)


@pytest.mark.parametrize("func,kwargs,n_axes", [
    (P.plot_band_maps, {"galaxies": (0, 2)}, 6),
    (P.plot_mean_maps, {}, 3),
    (P.plot_band_bars, {}, 1),
    (P.plot_radial_profiles, {"n_bins": 4}, 1),
])
def test_image_plots(image_attr, tmp_path, func, kwargs, n_axes):
    fig = func(image_attr, bands=BANDS, **kwargs)
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == n_axes
    paths = save_figure(fig, tmp_path / func.__name__, formats=("png",))
    assert paths[0].stat().st_size > 1000
    plt.close(fig)


def test_plot_on_given_axes(image_attr):
    fig, ax = plt.subplots()
    assert P.plot_band_bars(image_attr, bands=BANDS, ax=ax) is fig
    plt.close(fig)


def test_line_importance_panels(tmp_path):
    wl = np.linspace(3700.0, 7200.0, 700)
    v = np.abs(np.random.default_rng(0).normal(0, 0.01, (10, wl.size)))
    v[:, np.abs(wl - 6564.6) < 8] += 1.0
    tables = {"W3": line_importance(v, wl, n_boot=50, seed=0), "W4": line_importance(v[::-1], wl, n_boot=0)}
    fig = P.plot_line_importance(tables, wl, 1.0 + 0.1 * np.sin(wl / 300.0),
                                 attributions={"W3": v.mean(0), "W4": v.mean(0)})
    assert len(fig.axes) == 2
    save_figure(fig, tmp_path / "lines", formats=("png",))
    plt.close(fig)
