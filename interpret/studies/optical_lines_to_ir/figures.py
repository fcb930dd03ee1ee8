"""Figures of the ``optical_lines_to_ir`` study: one function per figure; each reads step outputs only and
returns a Figure.

``outputs`` is the dict of :func:`interpret.studies.optical_lines_to_ir.steps.run_all` (or anything with
``.load(key)`` returning the same objects, e.g. a run context); :data:`NEEDS` lists the keys each figure reads.
The runner draws them inside the shared plot style (``interpret.plots._style.style``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._figures import get_output as _get
from .._models import panel as _panel

__all__ = ["FIGURES", "CAPTIONS", "NEEDS", "SMOOTH_A", "fig_accuracy", "fig_lines_W1", "fig_lines_W2",
           "fig_lines_W3", "fig_lines_W4", "fig_summary", "fig_overlap", "fig_sanity"]

SMOOTH_A = 10.0   # boxcar (rest-frame Angstrom) applied to the drawn attribution curve


def fig_accuracy(outputs: Any) -> Any:
    """Held-out predicted vs catalogue (observed, noisy) W1-W4 magnitudes with residual scatter and the
    injected-noise ratio."""
    import matplotlib.pyplot as plt

    from ...plots._style import PAGE_WIDTH, PALETTE

    data, pred, acc = _get(outputs, "data"), _get(outputs, "predictions"), _get(outputs, "accuracy")
    fig, axes = plt.subplots(1, 4, figsize=(PAGE_WIDTH, 2.2), layout="constrained", squeeze=False)
    for k, ax in enumerate(axes[0]):
        if k >= len(acc):
            ax.set_axis_off()
            continue
        r = acc.iloc[k]
        j = int(r["column"])
        t = data.catalog[r["band"]].to_numpy(float)[pred["test"]]
        yp = pred["pred"][:, j]
        lo, hi = np.nanpercentile(np.r_[t, yp], [0.5, 99.5])
        if t.size > 1000:
            ax.hexbin(t, yp, gridsize=35, bins="log", mincnt=1, cmap="Blues", extent=(lo, hi, lo, hi))
        else:
            ax.scatter(t, yp, s=4, color=PALETTE["blue"], alpha=0.6, lw=0)
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.7)
        ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel=f"catalogue {r['band']} [AB mag]")
        ax.set_aspect("equal")
        ratio = f"\n= {r['ratio']:.2f}x noise" if np.isfinite(r["ratio"]) else ""
        ax.text(0.04, 0.96, f"σ = {r['scatter']:.3f} mag{ratio}", transform=ax.transAxes, va="top", fontsize=7)
        if k == 0:
            ax.set_ylabel("predicted [AB mag]")
    fig.suptitle(f"Spectrum → WISE network, held-out galaxies (n = {len(pred['test'])})", fontsize=9)
    return fig


def _not_analysed(band: str) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.5, 1.0))
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"{band} not analysed (params.bands)", ha="center", va="center")
    return fig


def _lines_figure(outputs: Any, band: str) -> Any:
    import matplotlib.pyplot as plt

    from ...plots._style import PAGE_WIDTH

    if band not in _get(outputs, "bands"):
        return _not_analysed(band)
    table, stack, p = _get(outputs, f"lines_{band}"), _get(outputs, "stack"), _get(outputs, "params")
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(PAGE_WIDTH, 4.9), layout="constrained",
                                   gridspec_kw={"height_ratios": [1.15, 1]})
    _stacked_panel(ax1, band, table, stack, float(p.rest_step))
    _excess_panel(ax2, band, table, set(_get(outputs, "truth").get(band, [])), int(round(100 * p.ci)))
    return fig


def _stacked_panel(ax: Any, band: str, table: Any, stack: dict, rest_step: float) -> None:
    """(a) the stacked rest-frame spectrum with the band's mean |attribution| and the shaded line windows."""
    from ...plots.attribution import plot_line_importance

    smooth = max(1, int(round(SMOOTH_A / rest_step)))
    att = np.convolve(stack[f"att_{band}"], np.ones(smooth) / smooth, mode="same")   # display only
    plot_line_importance({band: table}, stack["wavelength"], stack["spectrum"], attributions={band: att}, top=5,
                         axes=[ax])
    for txt in [t for t in ax.texts if t.get_text() == band]:   # the band is named in the title instead
        txt.remove()
    ax.set_xlabel(r"rest-frame wavelength [$\mathrm{\AA}$]")
    ax.set_ylabel("median flux / median")
    ax.set_title(f"{band}: stacked spectrum (black) and mean |IG attribution| per Å (blue, {SMOOTH_A:.0f} Å "
                 f"boxcar); windows shaded by importance; {table['n_galaxies'].max()} held-out galaxies",
                 loc="left", fontsize=7)
    _panel(ax, "a")


def _excess_panel(ax: Any, band: str, table: Any, truth: set[str], ci: int) -> None:
    """(b) each line's excess |attribution| with its bootstrap interval, truth lines coloured."""
    import matplotlib.pyplot as plt

    from ...plots._style import PALETTE

    x = np.arange(len(table))
    col = [PALETTE["vermillion"] if n in truth else PALETTE["skyblue"] for n in table.index]
    err = np.vstack([table["excess"] - table["ci_low"], table["ci_high"] - table["excess"]]).clip(min=0)
    ax.bar(x, 100 * table["excess"], yerr=100 * err, color=col, edgecolor="0.3", lw=0.4, capsize=1.5,
           error_kw={"lw": 0.6})
    ax.axhline(0, color="k", lw=0.6)
    for i, sig in enumerate(table["significant"]):
        if sig:
            ax.text(i, 100 * table["ci_high"].iloc[i], "*", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, list(table["label"]), rotation=60, ha="right", fontsize=7)
    ax.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_ylabel("excess |attribution|\n[% of galaxy total]")
    handles = [plt.Rectangle((0, 0), 1, 1, color=PALETTE["vermillion"]),
               plt.Rectangle((0, 0), 1, 1, color=PALETTE["skyblue"])]
    ax.legend([*handles, plt.Line2D([], [], color="k", lw=0.8, marker="_")],
              [f"planted truth for {band}", "not in truth", f"{ci} % bootstrap CI (*: significant)"],
              loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, fontsize=7, borderaxespad=0.2)
    _panel(ax, "b")


def fig_lines_W1(outputs: Any) -> Any:
    """W1 (3.4 um): stacked rest-frame spectrum with line windows shaded by importance; line excess vs truth."""
    return _lines_figure(outputs, "W1")


def fig_lines_W2(outputs: Any) -> Any:
    """W2 (4.6 um): as fig_lines_W1."""
    return _lines_figure(outputs, "W2")


def fig_lines_W3(outputs: Any) -> Any:
    """W3 (12 um): as fig_lines_W1."""
    return _lines_figure(outputs, "W3")


def fig_lines_W4(outputs: Any) -> Any:
    """W4 (22 um): as fig_lines_W1."""
    return _lines_figure(outputs, "W4")


def fig_summary(outputs: Any) -> Any:
    """Line x band importance heatmap (excess / band maximum) with the planted truth boxed and ranks written."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from ...data.lines import get_line

    m = _get(outputs, "importance")
    norm, rank, sig = m.excess, m.rank, m.significant
    truth, bands = _get(outputs, "truth"), list(norm.columns)
    labels = {n: get_line(n).label or n for n in norm.index}
    fig, ax = plt.subplots(figsize=(3.5, 0.2 * len(norm) + 1.3), layout="constrained")
    im = ax.imshow(norm.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    for i, line in enumerate(norm.index):
        for j, b in enumerate(bands):
            if np.isfinite(rank.iloc[i, j]):
                v = norm.iloc[i, j]
                ax.text(j, i, f"{int(rank.iloc[i, j])}{'*' if sig.iloc[i, j] else ''}", ha="center",
                        va="center", fontsize=6, color="white" if abs(v) > 0.6 else "black")
            if line in truth.get(b, []):
                ax.add_patch(Rectangle((j - 0.46, i - 0.44), 0.92, 0.88, fill=False, ec="k", lw=1.1))
    ax.set_xticks(range(len(bands)), bands)
    ax.set_yticks(range(len(norm)), [labels[n] for n in norm.index], fontsize=7)
    ax.tick_params(which="minor", left=False, right=False, top=False, bottom=False)
    ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False)
    fig.colorbar(im, ax=ax, shrink=0.6, label="excess |attribution| / band max")
    ax.set_title("number: rank in band; *: significant; box: planted truth", fontsize=7, loc="left")
    return fig


def fig_overlap(outputs: Any) -> Any:
    """Agreement with the planted truth per band: precision / recall of the top-k lines, AUC, chance level."""
    import matplotlib.pyplot as plt

    from ...plots._style import color_cycle

    ov = _get(outputs, "truth_overlap")
    fig, ax = plt.subplots(figsize=(3.5, 2.6), layout="constrained")
    if not len(ov):
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no truth lines (user data without params.truth_lines)", ha="center", va="center")
        return fig
    k = int(_get(outputs, "params").top_k)
    cols = [("precision_at_k", f"precision@{k}"), ("recall_at_k", f"recall@{k}"),
            ("precision_significant", "precision (signif.)"), ("auc", "rank AUC")]
    x = np.arange(len(ov))
    w = 0.8 / len(cols)
    for i, ((c, lab), color) in enumerate(zip(cols, color_cycle())):
        ax.bar(x + (i - (len(cols) - 1) / 2) * w, ov[c].fillna(0), w, color=color, label=lab)
    for xi, ch in zip(x, ov["chance"]):
        ax.plot([xi - 0.45, xi + 0.45], [ch, ch], color="k", lw=1.0, ls="--")
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":", label="chance AUC")
    ax.plot([], [], color="k", lw=1.0, ls="--", label="chance precision")
    ax.set_xticks(x, list(ov["band"]))
    ax.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax.set(ylim=(0, 1.05), ylabel="score (planted truth)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=6.5, handlelength=1.2,
              columnspacing=0.8)
    return fig


def fig_sanity(outputs: Any) -> Any:
    """IG completeness error per band and the cascading model-randomisation curves."""
    import matplotlib.pyplot as plt

    from ...plots._style import PAGE_WIDTH, color_cycle

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.6), layout="constrained")
    errors = _get(outputs, "completeness")
    for b, color in zip(_get(outputs, "bands"), color_cycle()):
        rel = np.sort(np.maximum(errors[b], 1e-8))
        ax1.step(rel, np.arange(1, rel.size + 1) / rel.size, where="post", color=color, label=b)
    ax1.axvline(_get(outputs, "params").completeness_rtol, color="k", ls="--", lw=0.7, label="tolerance")
    ax1.set(xscale="log", xlabel="|Σ a − (f(x) − f(baseline))| / |f(x) − f(baseline)|",
            ylabel="cumulative fraction of galaxies")
    ax1.legend(fontsize=7, loc="upper left")
    _panel(ax1, "a")
    rb = _get(outputs, "randomization_bands")
    for b, color in zip(rb, color_cycle()):
        s = _get(outputs, f"randomization_{b}").scores
        st = np.arange(1, len(s) + 1)
        ax2.plot(st, s["spearman"], "-o", ms=3, color=color, label=f"{b} signed")
        ax2.plot(st, s["spearman_abs"], "--s", ms=2.5, color=color, alpha=0.7, label=f"{b} |a|")
    if rb:
        s = _get(outputs, f"randomization_{rb[0]}").scores
        ax2.set_xticks(np.arange(1, len(s) + 1), [str(n) for n in s["layer"]], rotation=60, ha="right",
                       fontsize=6)
        ax2.tick_params(axis="x", which="minor", bottom=False, top=False)
        ax2.legend(fontsize=6.5, ncol=2)
    ax2.axhline(0.5, color="k", ls=":", lw=0.7)
    ax2.set(ylabel="Spearman ρ vs trained model", xlabel="layers re-drawn (cascading, output → input)")
    _panel(ax2, "b")
    return fig


FIGURES = {"accuracy": fig_accuracy, "lines_W1": fig_lines_W1, "lines_W2": fig_lines_W2,
           "lines_W3": fig_lines_W3, "lines_W4": fig_lines_W4, "summary": fig_summary, "overlap": fig_overlap,
           "sanity": fig_sanity}


def _lines_needs(band: str) -> tuple[str, ...]:
    return ("bands", f"lines_{band}", "stack", "truth", "params")


#: What each figure reads from the step outputs (``sanity`` also reads ``randomization_<band>`` for each band
#: in ``randomization_bands``; a lines figure of a band not in ``bands`` reads ``bands`` only).
NEEDS = {"accuracy": ("data", "predictions", "accuracy"),
         **{f"lines_{b}": _lines_needs(b) for b in ("W1", "W2", "W3", "W4")},
         "summary": ("importance", "truth"), "overlap": ("truth_overlap", "params"),
         "sanity": ("bands", "completeness", "params", "randomization_bands")}

#: The report caption of each figure: the first paragraph of its docstring, on one line.
CAPTIONS = {name: " ".join((fn.__doc__ or name).strip().split("\n\n")[0].split()) for name, fn in FIGURES.items()}
