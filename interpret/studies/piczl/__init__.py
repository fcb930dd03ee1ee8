"""PICZL's published photo-z CNN ensemble, interrogated end to end with its real weights

PICZL (Roster et al., photometric redshifts of AGN and galaxies from Legacy Survey DR10 + WISE imaging) ships
its trained ensemble and demo galaxies on the package registry; ``ip.zoo.piczl`` runs its Keras members on
torch (no TensorFlow) and ``ip.datasets.piczl_demo`` assembles their three inputs. The study asks:

1. **How accurate is it on the demo galaxies with spectroscopic redshifts?** The ensemble's point estimate
   (the mode of the weighted Gaussian-mixture PDF) and every member's. These galaxies may be part of PICZL's
   training sample, so the numbers are not a held-out test.
2. **Which inputs and bands does it use?** Integrated gradients of the differentiable mixture mean,
   aggregated to PICZL's three input branches and to the 8 bands g r i z W1-W4.
3. **Which bands does it rely on?** Removing a band everywhere it enters (image channels, colour images,
   catalogue features): leave-one-out and exact Shapley values over all 256 band subsets (positive = the band
   lowers the error).
4. **Do the ensemble members agree on which bands matter?** Spearman rank correlations of their per-band
   attributions.
5. **How is the redshift information split** between the imaging branches and the catalogue features, and
   between optical and WISE bands? Partial-information decomposition.

Science lives in :mod:`.steps` (pure functions), :mod:`.figures` (one function per figure) and :mod:`.params`.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from . import figures as _figures
from . import steps
from .params import COMPACT, Params, PiczlParams

__all__ = ["Params", "PiczlParams", "COMPACT", "compute", "FIGURES", "CAPTIONS", "DATA_KEYS", "TITLE"]

TITLE = "PICZL's published photo-z ensemble: accuracy, bands, members and information"
#: PICZL's own demo galaxies: the study reads no [data] files.
DATA_KEYS = frozenset()
CAPTIONS = _figures.CAPTIONS


def _piczl_version() -> str:
    try:
        return version("piczl")
    except PackageNotFoundError as exc:
        raise FileNotFoundError("the piczl study needs PICZL's weights and demo data: pip install --no-deps "
                                "piczl==0.1.4 (make install does this)") from exc


def compute(ctx: Any) -> None:
    """Load PICZL's ensemble and demo galaxies, then every step (cached by content)."""
    p = ctx.params
    key = {"piczl": _piczl_version()}
    demo, est = steps.load_data(p), steps.load_model(p)
    ctx.store["params"] = p
    pred = ctx.cached("predictions", key, lambda: steps.predictions(est, demo, batch_size=p.batch_size))
    if "z" in demo.catalog:
        metrics = steps.score(pred, threshold=p.outlier_threshold)
        ctx.store["metrics"] = metrics
        ctx.add_table("metrics", metrics)
        ctx.notes.append(steps.TRAINING_NOTE)
    attr = ctx.cached("attributions", key, lambda: steps.attributions(est, demo, p))
    for name, fn in (("band_importance", steps.band_importance), ("branch_importance", steps.branch_importance)):
        ctx.store[name] = fn(attr)
        ctx.add_table(name, ctx.store[name])
    ctx.store["rank_agreement"] = steps.rank_agreement(ctx.store["band_importance"])
    ctx.add_table("rank_agreement", ctx.store["rank_agreement"])
    if "z" in demo.catalog:
        loo = ctx.cached("leave_one_out", key, lambda: steps.leave_one_out(est, demo, p))
        shp = ctx.cached("shapley", key, lambda: steps.shapley(est, demo, p))
        ctx.add_table("leave_one_out", loo.table)
        ctx.add_table("shapley", shp.to_frame().reset_index())
    ctx.store["sources"] = ctx.cached("sources", key, lambda: steps.source_predictions(est, demo, p))
    pid = ctx.cached("pid", {**key, "sources": ctx.store["sources"]}, lambda: steps.branch_pid(est, demo, p))
    ctx.add_table("pid", pid)
    _notes(ctx, len(demo))


def _notes(ctx: Any, n: int) -> None:
    p = ctx.params
    ctx.notes.insert(0, f"PICZL {p.mode} ensemble ({_piczl_version()}), {n} '{p.split}' demo galaxies.")
    if "metrics" in ctx.store:
        m = ctx.store["metrics"].set_index("model").loc["ensemble (mode)"]
        ctx.notes.append(f"Ensemble (mode): σ_NMAD {m['sigma_nmad']:.4f}, η {100 * m['outlier_fraction']:.1f} %, "
                         f"bias {m['bias']:+.4f} on {int(m['n'])} galaxies.")
    branches = ctx.store["branch_importance"]
    if "ensemble" in branches.index:
        ctx.notes.append("Integrated-gradients share by input branch (ensemble): "
                         + ", ".join(f"{b} {v:.1%}" for b, v in branches.loc["ensemble"].items()) + ".")
    if "shapley" in ctx.store:
        s = ctx.store["shapley"].values.sort_values(ascending=False)
        ctx.notes.append(f"Band Shapley values ({p.shapley_metric}; positive = the band helps): "
                         + ", ".join(f"{b} {v:+.4f}" for b, v in s.items()) + ".")
    ra = ctx.store["rank_agreement"]
    members = [m for m in ra.index if m != "ensemble"]
    if len(members) > 1:
        import numpy as np

        sub = ra.loc[members, members].to_numpy()
        pairs = sub[np.triu_indices(len(members), 1)]
        ctx.notes.append(f"Member agreement on band importance: median Spearman ρ {np.median(pairs):.2f} "
                         f"(min {pairs.min():.2f}) over {len(pairs)} member pairs.")


FIGURES = [_figures.fig_predictions, _figures.fig_attribution, _figures.fig_band_removal,
           _figures.fig_member_agreement, _figures.fig_information]
