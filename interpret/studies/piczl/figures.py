"""Figures of the ``piczl`` study: one function per figure; each reads step outputs only and returns a Figure.

``outputs`` is the dict of :func:`interpret.studies.piczl.steps.run_all` (or anything with ``.load(key)``
returning the same objects, e.g. a run context).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._figures import get_output as _get
from .._models import panel as _panel

__all__ = ["FIGURES", "CAPTIONS", "NEEDS", "fig_predictions", "fig_attribution", "fig_band_removal",
           "fig_member_agreement", "fig_information"]

_BANDS = ("g", "r", "i", "z", "W1", "W2", "W3", "W4")


def _figure(ncols: int, height: float = 3.0, width: float | None = None, **kw: Any) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    from ...plots._style import PAGE_WIDTH, style

    with style():
        fig, axes = plt.subplots(1, ncols, figsize=(width or PAGE_WIDTH, height), layout="constrained",
                                 squeeze=False, **kw)
    return fig, axes[0]



def _short(name: str) -> str:
    """'crps_model_G=19_B=256_lr=0.001' -> 'crps G19'."""
    if name == "ensemble" or "G=" not in name:
        return name
    return f"{name.split('_')[0]} G{name.split('G=')[1].split('_')[0]} lr{name.split('lr=')[1]}"


def fig_predictions(outputs: Any) -> Any:
    """PICZL's estimate against the spectroscopic redshift, and every member's accuracy."""
    from ...plots._style import PALETTE, style

    preds, scores = _get(outputs, "predictions"), _get(outputs, "metrics")
    fig, (ax, bx) = _figure(2, height=3.2)
    with style():
        z = preds["z_spec"].to_numpy()
        members = [c for c in preds.columns if c not in ("z_spec", "z_mode", "z_mean")]
        for c in members:
            ax.scatter(z, preds[c], s=6, color="0.75", lw=0, label="members (own mode)" if c == members[0] else None)
        ax.scatter(z, preds["z_mode"], s=14, color=PALETTE["blue"], label="ensemble (mode)", zorder=3)
        top = max(1.05 * max(z.max(), preds["z_mode"].max()), 0.1)
        line = np.linspace(0, top, 50)
        ax.plot(line, line, color="k", lw=0.8)
        for sign in (1, -1):
            ax.plot(line, line + sign * 0.15 * (1 + line), color="k", lw=0.6, ls=":")
        ax.set(xlim=(0, top), ylim=(0, top), xlabel=r"$z_\mathrm{spec}$", ylabel=r"$z_\mathrm{PICZL}$")
        ens = scores.iloc[0]
        ax.text(0.04, 0.96, f"n = {int(ens['n'])}\n" + r"$\sigma_\mathrm{NMAD}$" + f" = {ens['sigma_nmad']:.3f}\n"
                + r"$\eta$" + f" = {ens['outlier_fraction']:.2f}\nbias = {ens['bias']:+.3f}",
                transform=ax.transAxes, va="top", fontsize=8)
        ax.legend(loc="lower right", fontsize=7)
        _panel(ax, "a")
        names = [_short(m) for m in scores["model"]]
        y = np.arange(len(names))
        bx.barh(y, scores["sigma_nmad"], color=[PALETTE["blue"]] * 2 + ["0.6"] * (len(names) - 2))
        bx.set_yticks(y, names, fontsize=7)
        bx.invert_yaxis()
        bx.set_xlabel(r"$\sigma_\mathrm{NMAD}$ of $\Delta z/(1+z)$")
        bx.set_xlim(0, 1.3 * float(scores["sigma_nmad"].max()))
        for yi, (sig, eta) in enumerate(zip(scores["sigma_nmad"], scores["outlier_fraction"])):
            bx.text(sig, yi, f" η={eta:.2f}", ha="left", va="center", fontsize=6.5)
        _panel(bx, "b")
    return fig


def fig_attribution(outputs: Any) -> Any:
    """Integrated-gradients mass by input branch (members and ensemble) and by band (ensemble)."""
    from ...plots._style import PALETTE, color_cycle, style

    branches, bands = _get(outputs, "branch_importance"), _get(outputs, "band_importance")
    fig, (ax, bx) = _figure(2, height=3.2)
    with style():
        left = np.zeros(len(branches))
        y = np.arange(len(branches))
        for col, colour in zip(branches.columns, color_cycle()):
            ax.barh(y, branches[col], left=left, color=colour, label=col.replace("_", " "))
            left += branches[col].to_numpy()
        ax.set_yticks(y, [_short(m) for m in branches.index], fontsize=7)
        ax.invert_yaxis()
        ax.set(xlim=(0, 1), xlabel="share of |IG| attribution")
        rest = {c: float(branches[c].max()) for c in branches.columns[1:]}
        if all(v < 1e-3 for v in rest.values()):
            ax.text(0.5, 0.5, "colour images and features:\n" + ", ".join(f"≤ {v:.0e}" for v in rest.values())
                    + " of the mass", transform=ax.transAxes, ha="center", va="center", fontsize=7,
                    bbox={"facecolor": "w", "edgecolor": "0.5", "boxstyle": "round"})
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=7)
        _panel(ax, "a")
        cols = [b for b in _BANDS if b in bands.columns]
        x = np.arange(len(cols))
        bx.bar(x, bands.loc["ensemble", cols], color=PALETTE["blue"], alpha=0.8, label="ensemble")
        members = bands.drop(index="ensemble")
        jitter = np.linspace(-0.25, 0.25, len(members)) if len(members) > 1 else np.zeros(1)
        for dx, (_, row) in zip(jitter, members.iterrows()):
            bx.plot(x + dx, row[cols], "o", ms=2.5, color="k", alpha=0.6)
        bx.plot([], [], "o", ms=2.5, color="k", alpha=0.6, label="members")
        bx.set_xticks(x, cols)
        bx.set_ylabel("share of |IG| attribution")
        bx.legend(fontsize=7)
        _panel(bx, "b")
    return fig


def fig_band_removal(outputs: Any) -> Any:
    """Exact band Shapley values (256 subsets) and leave-one-out changes of the error."""
    from ...plots._style import PALETTE, style

    shap, loo = _get(outputs, "shapley"), _get(outputs, "leave_one_out")
    fig, (ax, bx) = _figure(2, height=2.9)
    with style():
        vals = shap.values.reindex([b for b in _BANDS if b in shap.values.index])
        x = np.arange(len(vals))
        ax.bar(x, vals, color=[PALETTE["blue"] if v >= 0 else PALETTE["vermillion"] for v in vals])
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(x, vals.index)
        label = {"sigma_nmad": "σ_NMAD", "outlier_fraction": "η"}.get(shap.metric, shap.metric)
        ax.set_ylabel(f"Shapley value of {label}\n(positive = band helps)")
        ax.set_title(f"all bands {shap.v_all:.3f}, none {shap.v_none:.3f}", fontsize=8)
        _panel(ax, "a")
        table = loo.table.iloc[1:]
        dropped = [d[0] if len(d) == 1 else "+".join(d) for d in table["dropped"]]
        metric = f"delta_{shap.metric}" if f"delta_{shap.metric}" in table else "delta_sigma_nmad"
        bx.bar(np.arange(len(table)), table[metric], color=PALETTE["skyblue"], label="Δ" + {"sigma_nmad": "σ_NMAD"}.get(metric[6:], metric[6:]))
        bx.plot(np.arange(len(table)), table["delta_outlier_fraction"], "o", color=PALETTE["vermillion"],
                label="Δη (outlier fraction)")
        bx.axhline(0, color="k", lw=0.6)
        bx.set_xticks(np.arange(len(table)), dropped)
        bx.set(xlabel="band removed (everywhere it enters)", ylabel="change when removed")
        bx.legend(fontsize=7)
        _panel(bx, "b")
    return fig


def fig_member_agreement(outputs: Any) -> Any:
    """Spearman rank correlation between the members' band importances."""
    from ...plots._style import style

    rho = _get(outputs, "rank_agreement")
    fig, (ax,) = _figure(1, height=3.6, width=4.4)
    with style():
        im = ax.imshow(rho.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
        labels = [_short(m) for m in rho.index]
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
        ax.set_yticks(range(len(labels)), labels, fontsize=6)
        ax.minorticks_off()
        members = rho.drop(index="ensemble", columns="ensemble", errors="ignore").to_numpy()
        off = members[~np.eye(len(members), dtype=bool)]
        if off.size:
            ax.set_title(f"members: median ρ = {np.median(off):.2f} (min {off.min():.2f})", fontsize=8)
        fig.colorbar(im, ax=ax, label="Spearman ρ of band importance", shrink=0.8)
    return fig


def fig_information(outputs: Any) -> Any:
    """PID atoms of redshift between imaging and catalogue, and between optical and WISE bands."""
    from ...plots._style import PALETTE, style

    pid = _get(outputs, "pid")
    fig, (ax,) = _figure(1, height=2.9, width=4.6)
    atoms = [("redundancy", "redundant", PALETTE["purple"]), ("unique_a", "unique to A", PALETTE["blue"]),
             ("unique_b", "unique to B", PALETTE["orange"]), ("synergy", "synergistic", PALETTE["green"])]
    with style():
        y = np.arange(len(pid))
        left_pos, left_neg = np.zeros(len(pid)), np.zeros(len(pid))
        for col, label, colour in atoms:
            v = pid[col].to_numpy(float)
            left = np.where(v >= 0, left_pos, left_neg)
            ax.barh(y, v, left=left, color=colour, label=label)
            left_pos += np.clip(v, 0, None)
            left_neg += np.clip(v, None, 0)
        ax.plot(pid["mutual_information"], y, "k|", ms=12, label="I(target; A, B)")
        ax.set_xlim(min(0.0, left_neg.min()) * 1.15 - 0.02, max(left_pos.max(), pid["mutual_information"].max()) * 1.1)
        ax.set_yticks(y, [f"A={a}, B={b}\n→ {t}" for a, b, t in zip(pid["source_a"], pid["source_b"],
                                                                     pid["target"])], fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel("bits (shuffle-corrected)")
        ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        notes = [w for w in pid["warning"] if "constant" in str(w)]
        if notes:
            ax.set_title(notes[0].replace("the estimate", "PICZL's estimate"), fontsize=7.5)
    return fig


FIGURES = {"predictions": fig_predictions, "attribution": fig_attribution, "band_removal": fig_band_removal,
           "member_agreement": fig_member_agreement, "information": fig_information}

#: What each figure reads from the step outputs.
NEEDS = {"predictions": ("predictions", "metrics"), "attribution": ("branch_importance", "band_importance"),
         "band_removal": ("shapley", "leave_one_out"), "member_agreement": ("rank_agreement",),
         "information": ("pid",)}

CAPTIONS = {
    "predictions": "PICZL's published ensemble (real weights, Keras 3 on torch) on its demo galaxies with "
                   "spectroscopic redshifts. (a) The ensemble's point estimate (mode of the weighted "
                   "Gaussian-mixture PDF) and each member's own mode against z_spec; dotted lines: |Δz|/(1+z) "
                   "= 0.15. (b) σ_NMAD and outlier fraction η of the ensemble and of each member. These "
                   "galaxies may be part of PICZL's training sample: not a held-out test.",
    "attribution": "Integrated gradients of the ensemble's mixture mean (baseline: the sample's mean galaxy). "
                   "(a) Share of the absolute attribution per input branch, for every member and the "
                   "ensemble. (b) Share per band (a colour gives half to each of its bands); dots: members.",
    "band_removal": "Removing a band everywhere it enters (its image channels, colour images and catalogue "
                    "features, filled with the sample mean). (a) Exact Shapley values over all 256 band "
                    "subsets of the ensemble's σ_NMAD; positive = the band lowers the error. (b) Change of "
                    "σ_NMAD and outlier fraction when one band is removed.",
    "member_agreement": "Do the ensemble members agree on which bands matter? Spearman rank correlation of "
                        "the members' per-band attribution shares.",
    "information": "Partial-information decomposition of redshift (spectroscopic, and PICZL's own estimate) "
                   "between the ensemble's estimates from two parts of its inputs, the rest at the sample "
                   "mean: imaging branches vs catalogue features, and optical vs WISE bands. Plug-in BROJA "
                   "on quantile bins, shuffle-corrected; 50 galaxies, so the atoms are coarse.",
}
