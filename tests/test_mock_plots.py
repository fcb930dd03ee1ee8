"""Smoke + content tests of the mock-universe figures (headless)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from interpret.mock.universe import make_universe  # noqa: E402
from interpret.plots import mock as pm  # noqa: E402


@pytest.fixture(scope="module")
def uni():
    return make_universe(n=16, seed=2, progress=False)


def test_gallery_has_one_panel_per_galaxy_and_band(uni):
    fig = pm.plot_gallery(uni, n=3, bands=["g", "r", "W1"])
    assert isinstance(fig, Figure) and len(fig.axes) == 9
    assert [ax.get_title() for ax in fig.axes[:3]] == ["g", "r", "W1"]
    plt.close(fig)


def test_spectrum_marks_lines_at_observed_wavelength(uni):
    fig = pm.plot_spectrum(uni, 0)
    ax = fig.axes[0]
    z = float(uni.catalog["redshift"].iloc[0])
    marks = [line.get_xdata()[0] for line in ax.lines[1:]]
    from interpret.data.lines import get_line

    hb = get_line("Hbeta").wavelength * (1 + z)
    if uni.wavelength[0] < hb < uni.wavelength[-1]:
        assert min(abs(m - hb) for m in marks) < 1e-6
    plt.close(fig)


def test_colour_mass_and_dag_plots_do_not_mutate(uni):
    before = dict(uni.truth.dag.nodes(data=True))
    for fig in (pm.plot_colour_mass(uni), pm.plot_truth_dag(uni.truth), pm.plot_truth_dag(uni.truth, observed=True)):
        assert isinstance(fig, Figure)
        plt.close(fig)
    assert dict(uni.truth.dag.nodes(data=True)) == before


def test_plots_reject_universe_without_data():
    u = make_universe(n=4, seed=0, images=False, spectra=False, progress=False)
    with pytest.raises(ValueError, match="no images"):
        pm.plot_gallery(u)
    with pytest.raises(ValueError, match="no spectra"):
        pm.plot_spectrum(u)
