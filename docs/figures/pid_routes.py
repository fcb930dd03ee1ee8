"""Figure of docs/pid_guide.md: every PID route against a planted, known decomposition.

``python docs/figures/pid_routes.py`` (seeded, headless, ~1-2 min on 2 shared cores) writes
``docs/figures/pid_routes.png`` and ``docs/figures/pid_routes.csv`` (the numbers behind the figure).

Two Gaussian mocks with a 1-D target and two 1-D sources, where MMI = BROJA and both are analytic
(Barrett 2015, arXiv:1411.2832): one dominated by redundancy (sources correlated with each other), one by
synergy (sources anti-correlated, each weakly informative). Each route estimates the four atoms with a 90%
interval; the black bars are the planted (analytic) atoms of the continuous variables.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from interpret.exceptions import EstimationWarning  # noqa: E402
from interpret.pid import KNN, Binning, NeuralTraining, Resampling, decompose, pointwise_decompose  # noqa: E402
from interpret.pid._gaussian import gaussian_mmi, gaussian_sample  # noqa: E402
from interpret.plots import color_cycle, style  # noqa: E402

HERE = Path(__file__).resolve().parent
N, SEED, N_BOOT, LEVEL = 5000, 0, 50, 0.9
MOCKS = {  # covariance of (target, a, b)
    "redundancy-dominated (corr(a, b) = 0.8)": np.array([[1.0, 0.6, 0.5], [0.6, 1.0, 0.8], [0.5, 0.8, 1.0]]),
    "synergy-dominated (corr(a, b) = -0.3)": np.array([[1.0, 0.5, 0.5], [0.5, 1.0, -0.3], [0.5, -0.3, 1.0]]),
}
ATOMS = {"{a}{b}": "redundancy", "{a}": "unique a", "{b}": "unique b", "{a,b}": "synergy"}


def gaussian_route(data: np.ndarray, rng: np.random.Generator) -> tuple[dict, dict]:
    """Plug-in Gaussian: the analytic MMI atoms of the sample covariance, with a bootstrap percentile interval."""
    atoms = gaussian_mmi(np.cov(data, rowvar=False))
    draws = [gaussian_mmi(np.cov(data[rng.integers(0, len(data), len(data))], rowvar=False))
             for _ in range(200)]
    q = [(1 - LEVEL) / 2, (1 + LEVEL) / 2]
    return atoms, {a: tuple(np.quantile([d[a] for d in draws], q)) for a in atoms}


def routes(data: np.ndarray) -> dict[str, tuple[dict, dict | None]]:
    """{route label: (atoms, intervals or None)} for one mock."""
    t, s = data[:, 0], {"a": data[:, 1], "b": data[:, 2]}
    boot = Resampling(n_boot=N_BOOT, ci_level=LEVEL, bias_correction="shuffle")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)   # occupancy notes of the 8x8x8 table
        for measure in ("mmi", "broja"):
            r = decompose(t, s, measure=measure, bins=Binning(8), resampling=boot, seed=SEED, progress=False)
            out[f"binned {measure.upper()}, 8 bins"] = (r.atoms, r.ci)
    r = decompose(t, s, method=KNN(k=3), resampling=Resampling(n_boot=N_BOOT, ci_level=LEVEL), seed=SEED,
                  progress=False)
    out["kNN (KSG) MMI"] = (r.atoms, r.ci)
    p = pointwise_decompose(t, s, n_classes=20, training=NeuralTraining(epochs=30), ci_level=LEVEL, seed=SEED,
                            progress=False).to_pid("average")
    out["neural MMI (average; no atom CI)"] = (p.atoms, None)
    out["Gaussian plug-in MMI"] = gaussian_route(data, np.random.default_rng(SEED))
    return out


def main() -> None:
    rows = []
    for mock, cov in MOCKS.items():
        data = gaussian_sample(cov, N, seed=SEED)
        rows += [{"mock": mock, "route": "truth (planted)", "atom": a, "bits": v, "lo": np.nan, "hi": np.nan}
                 for a, v in gaussian_mmi(cov).items()]
        for route, (atoms, ci) in routes(data).items():
            rows += [{"mock": mock, "route": route, "atom": a, "bits": atoms[a],
                      "lo": ci[a][0] if ci else np.nan, "hi": ci[a][1] if ci else np.nan} for a in ATOMS]
    table = pd.DataFrame(rows)
    table.to_csv(HERE / "pid_routes.csv", index=False, float_format="%.4f")
    draw(table).savefig(HERE / "pid_routes.png", dpi=150)


def draw(table: pd.DataFrame) -> plt.Figure:
    route_names = [r for r in table["route"].unique() if r != "truth (planted)"]
    with style():
        fig, axes = plt.subplots(1, len(MOCKS), figsize=(11, 4.2), sharey=True, constrained_layout=True)
        colours = color_cycle()
        width = 0.8 / len(route_names)
        for ax, mock in zip(axes, MOCKS):
            sub = table[table["mock"] == mock]
            truth = sub[sub["route"] == "truth (planted)"].set_index("atom")["bits"]
            for j, atom in enumerate(ATOMS):
                ax.hlines(truth[atom], j - 0.45, j + 0.45, color="black", lw=2.5, zorder=3,
                          label="planted truth" if j == 0 else None)
            for i, route in enumerate(route_names):
                r = sub[sub["route"] == route].set_index("atom").loc[list(ATOMS)]
                x = np.arange(len(ATOMS)) - 0.4 + (i + 0.5) * width
                err = np.vstack([r["bits"] - r["lo"], r["hi"] - r["bits"]])
                ax.errorbar(x, r["bits"], yerr=None if np.isnan(err).all() else err, fmt="o", ms=5, capsize=3,
                            color=colours[i % len(colours)], label=route, zorder=4)
            ax.axhline(0, color="0.6", lw=0.8)
            ax.set_xticks(range(len(ATOMS)), list(ATOMS.values()))
            ax.set_title(mock, fontsize=10)
        axes[0].set_ylabel("information (bits)")
        axes[-1].legend(fontsize=8, loc="upper left", frameon=False)
        fig.suptitle(f"PID routes on Gaussian mocks with planted atoms (N = {N}, {int(LEVEL * 100)}% intervals)",
                     fontsize=11)
    return fig


if __name__ == "__main__":
    main()
