"""Image comparison of one key figure per plot family against committed baselines (``tests/baseline/*.png``).

The smoke tests elsewhere check that a figure exists; these check what it shows, so a broken axis, an empty
panel or a mirrored image fails. Every figure is drawn from fixed, hand-made inputs (no training, no random
state beyond a fixed seed) under a pinned rendering set-up (matplotlib's default rcParams, DejaVu Sans, text
hinting off, a fixed dpi), saved as PNG and compared with :func:`matplotlib.testing.compare.compare_images`
at an RMS tolerance of :data:`TOL` (pixel values 0-255). The negative controls blank a panel or mirror an
axis of every figure and require the difference to exceed that tolerance by a wide margin.

Regenerate the baselines after an intended change of a figure, then look at every PNG before committing::

    INTERPRET_REGEN_BASELINES=1 .venv/bin/pytest -q -n 0 tests/test_plot_images.py
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing import set_font_settings_for_testing, set_reproducibility_for_testing  # noqa: E402
from matplotlib.testing.compare import ImageComparisonFailure, calculate_rms, compare_images  # noqa: E402

BASELINE = Path(__file__).parent / "baseline"
REGEN = os.environ.get("INTERPRET_REGEN_BASELINES", "") not in ("", "0")
TOL = 3.0      # RMS over 0-255 pixel values: re-runs give 0; the broken figures below give 9 or more
DPI = 72


# --- figures: fixed inputs, one key figure per family ------------------------------------------------------
def _ablation() -> Figure:
    from interpret.ablation import band_ablation
    from interpret.plots.ablation import plot_ablation

    x = np.random.default_rng(0).normal(size=(200, 4))
    y = 1.0 + 0.3 * x[:, 0] + 0.2 * x[:, 1] - 0.05 * x[:, 3]
    r = band_ablation(lambda a: 1.0 + 0.3 * a[:, 0] + 0.2 * a[:, 1] - 0.05 * a[:, 3], x, y,
                      bands=["u", "g", "r", "i"], subsets="leave_one_out", metrics="rmse", strategy="zero",
                      progress=False)
    return plot_ablation(r)


def _attribution() -> Figure:
    from interpret.attribution import Attribution
    from interpret.plots.attribution import plot_mean_maps

    yy, xx = np.mgrid[0:16, 0:16]
    core = np.exp(-((yy - 7.5) ** 2 + (xx - 7.5) ** 2) / 6.0)
    ring = np.exp(-(np.hypot(yy - 7.5, xx - 7.5) - 5.0) ** 2 / 2.0)
    off = np.exp(-((yy - 3.0) ** 2 + (xx - 11.0) ** 2) / 3.0)     # an asymmetric feature: mirroring shows
    v = np.stack([core, 0.5 * ring, core + off])[None] * np.linspace(1.0, 2.0, 5)[:, None, None, None]
    a = Attribution(values=v, method="integrated_gradients", output=np.zeros(5))
    return plot_mean_maps(a, bands=["g", "r", "i"])


def _causal() -> Figure:
    from interpret.causal import CausalGraph
    from interpret.plots.causal import plot_graph

    g = CausalGraph(nodes=("z", "m", "s", "g", "r"), method="fci", tiers=(("z",), ("m", "s"), ("g", "r")),
                    edges=[("z", "m", "-->"), ("m", "s", "o-o"), ("m", "g", "o->"), ("g", "r", "<->"),
                           ("s", "r", "---")])
    return plot_graph(g)


def _metrics() -> Figure:
    from interpret.metrics import evaluate
    from interpret.plots.metrics import plot_metric_report

    rng = np.random.default_rng(0)
    z = rng.uniform(0.05, 1.0, 300)
    pred = z + 0.03 * (1 + z) * rng.standard_normal(300)
    pred[:6] += 0.5                                                # a few outliers
    return plot_metric_report(evaluate(z, pred, sigma=np.full(300, 0.04), redshift=True))


def _mock() -> Figure:
    from interpret.plots.mock import plot_gallery

    yy, xx = np.mgrid[0:24, 0:24]
    rng = np.random.default_rng(0)
    imgs = np.empty((3, 3, 24, 24))
    for i in range(3):
        for b in range(3):
            profile = np.exp(-((yy - 12 - 2 * i) ** 2 / (2.0 + b) + (xx - 10) ** 2 / (6.0 + 2 * i)))
            imgs[i, b] = (40.0 * (b + 1)) * profile + rng.normal(0.0, 1.0, (24, 24))
    bands = SimpleNamespace(names=("g", "r", "W1"), index=("g", "r", "W1").index)
    catalog = pd.DataFrame({"redshift": [0.1, 0.3, 0.5], "log_mstar": [10.8, 10.1, 9.4]})
    return plot_gallery(SimpleNamespace(images=imgs, bands=bands, catalog=catalog))


def _pid() -> Figure:
    from interpret.pid import PIDResult
    from interpret.plots.pid import plot_measure_comparison

    def result(measure: str, red: float, ua: float, ub: float, syn: float) -> PIDResult:
        atoms = {"{a}{b}": red, "{a}": ua, "{b}": ub, "{a,b}": syn}
        ci = {k: (v - 0.03, v + 0.04) for k, v in atoms.items()}
        return PIDResult(measure=measure, sources=("a", "b"), atoms=atoms, mutual_information=sum(atoms.values()),
                         n_samples=1000, ci=ci, ci_level=0.95)

    return plot_measure_comparison({"BROJA": result("broja", 0.30, 0.25, 0.05, 0.40),
                                    "MMI": result("mmi", 0.35, 0.20, 0.0, 0.45),
                                    "CCS": result("ccs", 0.10, 0.45, 0.25, 0.20)})


def _pid_pointwise() -> Figure:
    from interpret.pid.neural import PointwisePIDResult
    from interpret.plots.pid_pointwise import plot_pointwise_by_class

    rng = np.random.default_rng(0)
    labels = np.repeat(["disc", "spheroid", "irregular"], 40)
    scale = np.repeat([[0.3, 0.1, 0.05, 0.2], [0.1, 0.4, 0.05, 0.1], [0.05, 0.05, 0.2, 0.4]], 40, axis=0)
    atoms = pd.DataFrame(scale * rng.uniform(0.5, 1.5, (120, 4)), columns=["{a}{b}", "{a}", "{b}", "{a,b}"])
    info = pd.DataFrame({"a": atoms.iloc[:, :2].sum(axis=1), "b": atoms.iloc[:, [0, 2]].sum(axis=1),
                         "a+b": atoms.sum(axis=1)})
    r = PointwisePIDResult(sources=("a", "b"), atoms=atoms, information=info, classes=np.zeros(120, int),
                           bin_edges=np.array([]))
    return plot_pointwise_by_class(r, labels, order=["spheroid", "disc", "irregular"])


FIGURES: dict[str, Callable[[], Figure]] = {
    "ablation": _ablation, "attribution": _attribution, "causal": _causal, "metrics": _metrics,
    "mock": _mock, "pid": _pid, "pid_pointwise": _pid_pointwise,
}


# --- rendering and comparison ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _pinned_rendering():
    """Matplotlib's defaults plus fixed fonts (DejaVu Sans, hinting off): the same pixels on every run."""
    with mpl.rc_context():
        mpl.rcdefaults()
        set_font_settings_for_testing()
        set_reproducibility_for_testing()
        yield
    plt.close("all")


def _render(make: Callable[[], Figure], path: Path, breakage: Callable[[Figure], None] | None = None) -> Path:
    fig = make()
    if breakage is not None:
        breakage(fig)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def _rms(expected: Path, actual: Path) -> float:
    """RMS difference of two PNGs (infinite when their sizes differ)."""
    a, b = plt.imread(expected), plt.imread(actual)
    if a.shape != b.shape:
        return float("inf")
    return float(calculate_rms((255 * a).round().astype(np.int16), (255 * b).round().astype(np.int16)))


def _compare(expected: Path, actual: Path) -> str | None:
    """None when the images agree within :data:`TOL`, else the reason (a size change is a failure too)."""
    try:
        return compare_images(str(expected), str(actual), tol=TOL)
    except ImageComparisonFailure as exc:
        return str(exc)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_matches_baseline(name, tmp_path):
    baseline = BASELINE / f"{name}.png"
    if REGEN:
        BASELINE.mkdir(exist_ok=True)
        _render(FIGURES[name], baseline)
    if not baseline.exists():
        pytest.fail(f"no baseline {baseline}; create it with INTERPRET_REGEN_BASELINES=1 and look at it")
    actual = _render(FIGURES[name], tmp_path / f"{name}.png")
    err = _compare(baseline, actual)
    assert err is None, err


def _data_artists(ax):
    return [*ax.patches, *ax.lines, *ax.images, *ax.collections, *ax.texts]


def _blank_first_panel(fig: Figure) -> None:
    """An empty panel: the data of the first axes hidden, its frame, ticks and labels kept."""
    for artist in _data_artists(fig.axes[0]):
        artist.set_visible(False)


def _mirror_axes(fig: Figure) -> None:
    """A swapped axis direction: every panel drawn right to left."""
    for ax in fig.axes:
        if ax.get_label() != "<colorbar>":
            ax.invert_xaxis()


@pytest.mark.parametrize("breakage", [_blank_first_panel, _mirror_axes], ids=["blank_panel", "mirrored_axis"])
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_broken_figure_exceeds_the_tolerance(name, breakage, tmp_path):
    """Negative control: the comparison notices an empty panel and a reversed axis in every figure."""
    baseline = BASELINE / f"{name}.png"
    if not baseline.exists():
        pytest.skip("no baseline yet")
    broken = _render(FIGURES[name], tmp_path / f"{name}-broken.png", breakage)
    assert _rms(baseline, broken) > 2 * TOL
    assert _compare(baseline, broken) is not None
