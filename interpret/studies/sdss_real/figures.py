"""Figures of the ``sdss_real`` study: one function per figure; each reads step outputs only and returns a Figure.

``outputs`` is the dict of :func:`interpret.studies.sdss_real.steps.run_all`, or anything with ``.load(key)``
returning the same objects (the run context). :func:`needs` lists the keys each figure reads; they depend on
the masking fills in ``params.strategies``. The runner draws them inside the shared plot style.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._figures import get_output as _get
from .._models import panel as _panel
from .params import PID_SPLITS, SdssRealParams
from .steps import TASK_TITLES, TASKS

__all__ = ["FIGURES", "CAPTIONS", "NEEDS", "needs", "fig_sample", "fig_predictions", "fig_shapley",
           "fig_interactions", "fig_ablation", "fig_pid", "fig_causal_graph", "fig_edge_stability"]

_STRATEGY_LABEL = {"inpaint": "masked, inpainted", "mean": "masked, mean fill", "median": "masked, median fill",
                   "zero": "masked, zero fill", "noise": "masked, noise fill"}


def _figure(ncols: int, nrows: int = 1, height: float = 3.0, **kw: Any) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    from ...plots._style import PAGE_WIDTH

    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, height), layout="constrained", squeeze=False,
                             **kw)
    return fig, axes


def _metric_label(task: str, metric: str) -> str:
    from ...plots.ablation import _metric_label as label

    return label(metric) + ("" if task == "photoz" else " (dex)")


def _null_locator() -> Any:
    from matplotlib.ticker import NullLocator

    return NullLocator()


def fig_sample(outputs: Any) -> Any:
    """The sample: g-r colour against spec-z coloured by stellar mass, and mass against redshift."""
    data = _get(outputs, "data")
    cat = data.catalog
    fig, axes = _figure(2, height=2.9)
    z, m = cat["redshift"].to_numpy(), cat["log_mstar"].to_numpy()
    order = np.argsort(m)
    sc = axes[0, 0].scatter(z[order], (cat["g"] - cat["r"]).to_numpy()[order], c=m[order], s=2, lw=0,
                            cmap="viridis", vmin=np.percentile(m, 1), vmax=np.percentile(m, 99), rasterized=True)
    fig.colorbar(sc, ax=axes[0, 0], label=r"$\log_{10}(M_*/\mathrm{M}_\odot)$")
    axes[0, 0].set(xlabel=r"spectroscopic redshift $z_\mathrm{spec}$", ylabel=r"$g-r$ (mag, AB)",
                   ylim=np.percentile((cat["g"] - cat["r"]).to_numpy(), [0.2, 99.8]))
    hb = axes[0, 1].hexbin(z, m, gridsize=45, bins="log", mincnt=1, cmap="Blues", rasterized=True)
    fig.colorbar(hb, ax=axes[0, 1], label="galaxies per cell")
    axes[0, 1].set(xlabel=r"spectroscopic redshift $z_\mathrm{spec}$",
                   ylabel=r"$\log_{10}(M_*/\mathrm{M}_\odot)$ (kcorrect)")
    for ax, k in zip(axes[0], "ab"):
        ax.set_xlim(0, 1.05 * np.percentile(z, 99.9))     # a handful of z > 0.4 galaxies would squash the rest
        _panel(ax, k)
    axes[0, 0].set_title(f"{data.name.upper()} sample, N = {len(cat)}", loc="left", pad=12)
    return fig


def fig_predictions(outputs: Any) -> Any:
    """Held-out z_phot vs z_spec and predicted vs kcorrect mass, with bias, sigma_NMAD and eta."""
    from ...plots.metrics import plot_predictions

    reports, names = _get(outputs, "evaluations"), _get(outputs, "model_names")
    fig, axes = _figure(2, height=3.55)
    plot_predictions(reports["photoz"], ax=axes[0, 0])
    plot_predictions(reports["stellar_mass"], ax=axes[0, 1])
    axes[0, 0].set(xlabel=r"$z_\mathrm{spec}$", ylabel=r"$z_\mathrm{phot}$" + f" ({names['photoz']})")
    axes[0, 1].set(xlabel=r"$\log_{10}(M_*/\mathrm{M}_\odot)$, kcorrect",
                   ylabel=r"$\log_{10}(M_*/\mathrm{M}_\odot)$" + f", {names['stellar_mass']}")
    for ax, k in zip(axes[0], "ab"):
        _panel(ax, k)
    return fig


def fig_shapley(outputs: Any) -> Any:
    """Exact band Shapley values (decrease of the error metric) per fill, with bootstrap standard errors."""
    from ...plots._style import color_cycle

    strategies = list(_get(outputs, "params").strategies)
    fig, axes = _figure(2, height=2.9)
    width = 0.8 / len(strategies)
    for ax, task, k in zip(axes[0], TASKS, "ab"):
        sums = []
        for j, (strategy, colour) in enumerate(zip(strategies, color_cycle())):
            r = _get(outputs, f"shapley_{task}_{strategy}")
            x = np.arange(len(r.bands)) + (j - (len(strategies) - 1) / 2) * width
            se = None if r.standard_errors is None else r.standard_errors.to_numpy()
            ax.bar(x, r.values.to_numpy(), width=width * 0.92, yerr=se, color=colour,
                   label=_STRATEGY_LABEL.get(strategy, strategy) if task == "photoz" else None,
                   error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "k"})
            sums.append(f"{r.gain:.3g} ({strategy})")
        ax.set_xticks(np.arange(len(r.bands)), r.bands)
        ax.xaxis.set_minor_locator(_null_locator())
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylabel(f"Shapley value: decrease of\n{_metric_label(task, r.metric)} (> 0: helps)")
        ax.set_xlabel("band")
        ax.set_title(f"{TASK_TITLES[task]}: Σ = " + ", ".join(sums), loc="left")
        _panel(ax, k)
    n_boot = _get(outputs, f"shapley_photoz_{strategies[0]}").details.get("n_boot", 0)
    fig.legend(loc="outside upper center", ncol=len(strategies) + 1, fontsize=7,
               title=f"exact Shapley values over all band subsets; error bars: ±1σ over {n_boot} galaxy "
                     "bootstraps", title_fontsize=7)
    return fig


def fig_interactions(outputs: Any) -> Any:
    """Pairwise Shapley interaction indices of the bands (headline fill), photo-z and mass."""
    from ...plots.ablation import plot_interactions

    strategy = _get(outputs, "params").strategies[0]
    fig, axes = _figure(2, height=3.2)
    for ax, task, k in zip(axes[0], TASKS, "ab"):
        plot_interactions(_get(outputs, f"shapley_{task}_{strategy}"), ax=ax)
        ax.set_title(f"{TASK_TITLES[task]}: pairwise interactions ({strategy})", loc="left")
        _panel(ax, k)
    return fig


def fig_ablation(outputs: Any) -> Any:
    """Leave-one-band-out: the metric when the model is masked (each fill) or retrained without the band."""
    from ...plots._style import color_cycle

    p = _get(outputs, "params")
    fig, axes = _figure(2, height=3.2)
    markers = "osD^v"
    for ax, task, k in zip(axes[0], TASKS, "ab"):
        retrain = _get(outputs, f"retrain_{task}")
        metric = retrain.metrics[0]
        runs = [(_STRATEGY_LABEL.get(s, s) + ": model relies on", _get(outputs, f"mask_{task}_{s}"))
                for s in p.strategies]
        runs.append((f"retrained ({p.retrain_model.upper()}): information carried", retrain))
        step = 0.6 / max(len(runs) - 1, 1)
        for j, ((label, res), colour) in enumerate(zip(runs, color_cycle())):
            vals = res.table[metric].to_numpy()
            pos = np.arange(len(vals) - 1)[::-1] + 0.3 - j * step
            masked = j < len(runs) - 1      # every masked run shares the trained model's all-band value
            ax.axvline(vals[0], color="0.3" if masked else colour, ls="--", lw=0.8)
            ax.plot(vals[1:], pos, ls="none", marker=markers[j % len(markers)], ms=4, color=colour,
                    label=label if task == "photoz" else None)
        labels = [lab.removeprefix("-") for lab in res.table["label"].iloc[1:]]
        ax.set_yticks(np.arange(len(labels))[::-1], labels)
        ax.set_ylabel("band removed")
        ax.yaxis.set_minor_locator(_null_locator())
        _log_metric_axis(ax)
        ax.grid(axis="y", color="0.9", lw=0.5)
        ax.set_xlabel(f"{_metric_label(task, metric)} without the band")
        ax.set_title(f"{TASK_TITLES[task]} (dashed: all bands; grey: trained model)", loc="left")
        _panel(ax, k)
    fig.legend(loc="outside upper center", ncol=len(runs), fontsize=7, handletextpad=0.3, columnspacing=1.2)
    return fig


def _log_metric_axis(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def fig_pid(outputs: Any) -> Any:
    """PID of redshift and mass from two colour splits, several measures, bootstrap CIs (bits)."""
    from ...plots.pid import plot_measure_comparison

    done, p = _get(outputs, "pid"), _get(outputs, "params")
    splits = [s for s in p.pid_splits if any(k[1] == s for k in done)]
    fig, axes = _figure(2, nrows=max(len(splits), 1), height=2.6 * max(len(splits), 1))
    for i, split in enumerate(splits):
        for j, target in enumerate(TASKS.values()):
            ax = axes[i, j]
            res = {m: done[(target, split, m)] for m in p.pid_measures if (target, split, m) in done}
            plot_measure_comparison(res, ax=ax)
            leg = ax.get_legend()
            if j == 0:
                leg.remove()
            else:
                leg.set_title("\n".join(f"{k} = {', '.join(v)}" for k, v in PID_SPLITS[split].items()),
                              prop={"size": 6.5})
            ax.set_title(f"{'redshift' if target == 'redshift' else 'stellar mass'} from {split} colours",
                         loc="left")
            ax.set_ylabel("information (bits)")
            _panel(ax, "abcdefgh"[i * 2 + j])
    return fig


def fig_causal_graph(outputs: Any) -> Any:
    """PC graph over redshift, mass, r, colours and the predictions: modal marks, bootstrap frequencies."""
    from ...plots.causal import plot_graph

    freq, p = _get(outputs, "edge_stability"), _get(outputs, "params")
    tiers = freq.attrs["tiers"]
    # layout rows only (the search used the four tiers): the two causes side by side above the photometry,
    # r next to its child z-Ks, each prediction under its main parent; fewer edges cross this way
    phot = [c for c in tiers[2] if c != "r"]
    phot = [*phot[:-1], *(["r"] if "r" in tiers[2] else []), *phot[-1:]]
    rows = [[*tiers[1], *tiers[0]], phot, tiers[3][::-1]]
    fig = plot_graph(freq, min_frequency=float(p.min_edge_frequency), tiers=rows)
    fig.axes[0].set_title(f"{freq.attrs['method'].upper()} ({freq.attrs['test']}, α = {freq.attrs['alpha']}), "
                          f"tiers z → M* → photometry → predictions; edges in ≥ "
                          f"{p.min_edge_frequency:.0%} of {freq.attrs['n_boot']} bootstraps "
                          "(numbers: frequency)", loc="left", fontsize=7)
    return fig


def fig_edge_stability(outputs: Any) -> Any:
    """Bootstrap frequency of every edge mark (pairs adjacent in >= 10 % of resamples)."""
    from ...plots.causal import plot_edge_stability

    return plot_edge_stability(_get(outputs, "edge_stability"), kind="bar", min_frequency=0.1)


FIGURES = {"sample": fig_sample, "predictions": fig_predictions, "shapley": fig_shapley,
           "interactions": fig_interactions, "ablation": fig_ablation, "pid": fig_pid,
           "causal_graph": fig_causal_graph, "edge_stability": fig_edge_stability}

#: The report caption of each figure: the first paragraph of its docstring, on one line.
CAPTIONS = {name: " ".join((fn.__doc__ or name).strip().split("\n\n")[0].split()) for name, fn in FIGURES.items()}


def needs(params: SdssRealParams) -> dict[str, tuple[str, ...]]:
    """What each figure reads from the step outputs, for the masking fills of ``params.strategies``."""
    fills = tuple(params.strategies)
    per_task = lambda fmt: tuple(fmt.format(t=t, s=s) for t in TASKS for s in fills)  # noqa: E731
    return {"sample": ("data",), "predictions": ("evaluations", "model_names"),
            "shapley": ("params", *per_task("shapley_{t}_{s}")),
            "interactions": ("params", *(f"shapley_{t}_{fills[0]}" for t in TASKS)),
            "ablation": ("params", *(f"retrain_{t}" for t in TASKS), *per_task("mask_{t}_{s}")),
            "pid": ("params", "pid"), "causal_graph": ("params", "edge_stability"),
            "edge_stability": ("edge_stability",)}


#: :func:`needs` for the default parameters.
NEEDS = needs(SdssRealParams())
