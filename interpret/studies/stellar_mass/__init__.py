"""Stellar mass from images vs photometry: what the CNN uses, causally and information-theoretically

After Zhang et al. (2025), "Interpreting deep learning-based stellar mass estimation via causal analysis and
mutual information decomposition", arXiv:2509.23901 (code: github.com/QiufanLin/InterpretSM). Questions, on the
mock universe (SDSS-like u g r i z cutouts at 0.396"/px, 0.02 < z < 0.4, as in Zhang et al.'s SDSS sample; with its
planted causal truth):

1. How accurate is the reference image CNN (``ip.mock.train_reference(u, task="stellar_mass")``: images
   only, no redshift) against a photometry-only model (sklearn HistGradientBoosting on the magnitudes,
   adjacent colours and spec-z, or the reference PhotometryMLP)? Held-out scatter, bias, sigma_NMAD
   (dex, plain residuals) and the |Delta log M| > 0.3 dex outlier fraction, with bootstrap intervals.
2. Which conditional independences hold between redshift, intrinsic mass and morphology (Sersic n,
   r_eff in kpc), the observables (colours, r magnitude, angular size) and both predictions? PC and FCI
   (fisherz) with tiers redshift -> intrinsic -> observables -> predictions, shown as bootstrap edge
   frequencies, and the structural Hamming distance to the planted truth. The truth is the mock's DAG
   extended by the study's derived nodes: each colour ``a-b`` has parents ``a`` and ``b``; ``mass_cnn``
   has a latent ``image`` parent (itself a child of every SED parameter, bulge_frac, sersic_n, r_eff,
   axis_ratio and position_angle); ``mass_phot`` has the magnitudes (and redshift) it was fitted on.
   Unobserved columns are latent, so the reference is the large-sample PC/FCI output on the same nodes.
3. How is the information about the true mass split between photometry and morphology/image?
   Partial-information decomposition (bits; several redundancy measures with bootstrap CIs, and the kNN
   route) for three source pairs: photometry-model prediction vs morphology (Sersic n + angular size,
   reduced to one cross-fitted variable), colours (cross-fitted reduction) vs morphology, and photometry
   prediction vs CNN prediction; per-galaxy (pointwise, neural) atoms of one pair against true mass.
4. Does the CNN's embedding still hold morphology information about mass? Neighbourhood (local)
   dependence of true mass on Sersic n, angular size, axis ratio and g-r among embedding neighbours,
   conditioned on redshift (Zhang et al.'s test).
5. Where does the CNN look? Integrated gradients (zero-flux baseline): per-band attribution and radial
   profiles (core vs outskirts), and the share of |attribution| inside one effective radius vs the light.

Analyses 2-4 use the galaxies the networks never trained on (validation + test split of
``ip.mock.reference_split``; the validation split only chose the CNN's best epoch); metrics use the test
split. Sizes enter the causal analysis as log10 (fisherz is linear).

Run on your own model and data (the catalogue needs ``log_mstar``, ``redshift`` and one magnitude per
image band; ``sersic_n`` and ``r_eff_arcsec`` enable the morphology analyses; the model takes cutouts
``(n, B, H, W)`` and returns log M*; without ``[model]`` the reference CNN is trained on your cutouts)::

    study = "stellar_mass"
    [data]
    catalog = "my_catalog.fits"
    images = "my_cutouts.h5"          # interpret.data.write_cutouts(path, images, bands)
    [model]
    path = "my_mass_cnn.pt"           # TorchScript, or state dict + factory
    [params]
    pixel_scale = 0.262               # arcsec / pixel (R_e apertures); default: the cutout file's own
                                      # (write_cutouts(..., pixel_scale=...)), else SDSS's 0.396

Science lives in :mod:`.steps` (pure functions; ``steps.run_all`` runs the study on your own arrays without a
runner), :mod:`.figures` (one function per figure) and :mod:`.params`; this module only loads the config's
data and model and calls the steps through the run's cache.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import interpret as ip

from .._data import fit_subset, note_unknown_split, study_data
from .._models import baseline_notes, study_model, user_model_inputs
from ..photoz.steps import sentinel_note
from . import figures as _figures
from . import steps
from .figures import (
    MASS_LABEL,
    fig_attribution,
    fig_causal_graphs,
    fig_edge_stability,
    fig_local_dependence,
    fig_pid,
    fig_pointwise,
    fig_predictions,
)
from .params import PAIR_LABEL, Params, StellarMassParams
from .steps import (
    IMAGE_PARENTS,
    LOG_COLUMNS,
    MODEL_LABEL,
    MORPH,
    PRED,
    RE_GRID,
    attribution_rows,
    augmented_truth,
    band_names,
    causal_frame,
    causal_tiers,
    growth_curves,
    metrics_table,
    phot_features,
    pid_sources,
    predict_and_embed,
    reduce_sources,
    splits,
)

__all__ = ["Params", "StellarMassParams", "compute", "load_data", "cnn_model", "FIGURES", "CAPTIONS", "NEEDS",
           "DATA_KEYS", "TITLE", "steps",
           # re-exported from .steps and .figures (the names this module always had)
           "band_names", "splits", "phot_features", "predict_and_embed", "metrics_table", "causal_frame",
           "causal_tiers", "augmented_truth", "pid_sources", "reduce_sources", "attribution_rows",
           "growth_curves", "MORPH", "PRED", "MODEL_LABEL", "PAIR_LABEL", "IMAGE_PARENTS", "LOG_COLUMNS",
           "RE_GRID", "MASS_LABEL", "fig_predictions", "fig_causal_graphs", "fig_edge_stability", "fig_pid",
           "fig_pointwise", "fig_attribution", "fig_local_dependence"]

TITLE = "Stellar mass from images vs photometry: what the CNN uses, causally and information-theoretically"
#: The [data] keys this study reads (any other is refused). ``target`` names the catalogue's stellar-mass
#: column when it is not ``log_mstar``; with ``split`` the held-out numbers use the user's test rows.
DATA_KEYS = frozenset({"catalog", "images", "target", "bands", "split", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})
FIGURES = _figures.FIGURES
CAPTIONS = _figures.CAPTIONS
NEEDS = _figures.NEEDS


# --- data and model: the config boundary ---------------------------------------------------------------------
def load_data(ctx: Any) -> Any:
    """The user's files, else the seeded mock universe (no spectra) with the study's imaging setup."""
    p = ctx.params
    return study_data(ctx, 3000, target="log_mstar", bands=p.bands, pixel_scale=float(p.pixel_scale),
                      image_size=int(p.image_size), redshift_range=tuple(float(v) for v in p.redshift_range),
                      spectra=False)


def cnn_model(ctx: Any, data: Any) -> Any:
    """The user's model from ``[model]``, else the reference image CNN (cached in the run folder)."""
    epochs = int(ctx.params.n_epochs) or None
    return study_model(ctx, data if ctx.config.get("model") else steps.trainable(fit_subset(data)),
                       "stellar_mass", n_epochs=None if ctx.params.fast else epochs,
                       num_threads=max(1, int(ctx.config["jobs"])))


# --- compute -----------------------------------------------------------------------------------------------
def compute(ctx: Any) -> None:
    """Train (or load) the CNN and the photometry model, then causal, PID, attribution, local dependence."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, int(ctx.config["jobs"])))
    try:
        _compute(ctx)
    finally:
        torch.set_num_threads(threads)


def _compute(ctx: Any) -> None:
    data = load_data(ctx)
    p, scale_note = steps.file_pixel_scale(ctx.params, data)
    ctx.config["params"] = p      # the cutouts' own pixel scale, when they state one (and the default is set)
    ctx.notes.extend([scale_note] if scale_note else [])
    note_unknown_split(ctx, data)
    bands = band_names(data)
    ctx.notes.extend(n for n in [sentinel_note(data.catalog, bands)] if n)   # 99 / -99 / 9999 flags as magnitudes
    ctx.store.update(data=data, bands=bands, params=p)
    base = {"seed": ctx.seed, "n": len(data), "data": ctx.config.get("data"), "model": ctx.config.get("model"),
            **{k: getattr(p, k) for k in ("fast", "n_epochs", "bands", "pixel_scale", "image_size", "redshift_range")}}
    est = None

    def get_est() -> Any:
        nonlocal est
        est = est if est is not None else cnn_model(ctx, data)
        return est

    fed = f"cutouts of shape {tuple(np.shape(data.images))} (bands {bands})"
    with user_model_inputs(ctx, "stellar_mass", fed, "the study feeds every channel of [data] images in file "
                           "order; [data] bands = [...] chooses and orders them to match your model's input"):
        pred = ctx.cached("predictions", {**base, "phot": p.phot_model, "phot_z": p.phot_redshift},
                          lambda: steps.predictions(get_est(), data, bands, p, seed=ctx.seed,
                                                    cache_dir=ctx.cache_dir / "models"))
    base = {**base, "phot": p.phot_model, "phot_z": p.phot_redshift}
    cat = data.catalog
    ctx.add_table("metrics", metrics_table(cat, pred, p, ctx.seed))
    ctx.notes.extend(steps.skipped_notes(cat, p))
    ctx.notes.extend(n for n in [steps.causal_note(cat, pred, p)] if n)
    _causal_steps(ctx, causal_frame(cat, pred, p), base)
    _pid_steps(ctx, cat, pred, base)
    if p.pointwise_pair and pid_sources(cat, pred, p.pointwise_pair, p) is not None:
        keys = ("pointwise_pair", "pointwise_classes", "pointwise_folds", "pointwise_epochs", "pointwise_hidden",
                "pointwise_batch")
        ctx.cached("pointwise", {**base, **{k: getattr(p, k) for k in keys}},
                   lambda: steps.pointwise(cat, pred, p, seed=ctx.seed, device=ctx.config["device"]))
    # zero flux ("no light") is the physical reference of an image; the network never saw an empty cutout,
    # so f(baseline) lies outside the predictions: say so in the report instead of failing (outside the cache,
    # which replays the warning on a hit)
    with baseline_notes(ctx.notes, "Attribution baseline (zero flux)"):
        attr = ctx.cached("attribution", {**base, "n": p.n_attribution, "steps": p.ig_steps},
                          lambda: steps.attribution(get_est(), data, pred, p, seed=ctx.seed, progress=ctx.progress))
    _attribution_tables(ctx, attr, data, pred, bands)
    if "embedding" in pred:
        keys = ("local_queries", "local_k", "local_n_perm")
        local = ctx.cached("local", {**base, **{k: getattr(p, k) for k in keys}},
                           lambda: _pack_local(steps.local_dependence(cat, pred, p, seed=ctx.seed)))
        ctx.store["local"] = _unpack_local(local)
        ctx.add_table("local_dependence", steps.local_table(ctx.store["local"], p.local_alpha))
    else:
        ctx.notes.append(steps.NO_EMBEDDING)
    _notes(ctx, pred)


def _causal_steps(ctx: Any, frame: pd.DataFrame, base: dict) -> None:
    p, data = ctx.params, ctx.load("data")
    rows = []
    for method in p.causal_methods:
        key = {**base, **{k: getattr(p, k) for k in ("colours", "magnitude", "causal_test", "causal_alpha")},
               "method": method}
        freq = ctx.cached(f"stability_{method}", {**key, "n_boot": p.causal_n_boot}, lambda m=method: (
            steps.edge_stability(frame, m, p, seed=ctx.seed, n_jobs=int(ctx.config["jobs"]),
                                 progress=ctx.progress)))
        ctx.store[f"stability_{method}"] = steps.annotate_stability(freq, frame, method, p)
        graph = ctx.cached(f"graph_{method}", key, lambda m=method: steps.discover(frame, m, p))
        truth = (None if data.truth is None
                 else augmented_truth(data.truth.dag, frame, ctx.store["bands"], bool(p.phot_redshift)))
        if truth is None:
            row, reference = steps.causal_summary_row(graph, method)
        else:   # the reference graph runs PC / FCI with a d-separation oracle: seconds to tens of seconds
            packed = ctx.cached(f"truth_{method}", {**key, "truth": sorted(truth.edges)},
                                lambda g=graph, m=method, t=truth: _pack_row(*steps.causal_summary_row(g, m, t)))
            row, reference = dict(packed["row"]), [tuple(e) for e in packed["reference"]]
        if reference is not None:
            ctx.store[f"reference_{method}"] = reference
        rows.append(row)
        ctx.add_table(f"edge_stability_{method}", steps.edge_table(freq))
    ctx.store["causal_summary"] = pd.DataFrame(rows)
    ctx.add_table("causal_summary", ctx.store["causal_summary"])


def _pack_row(row: dict[str, Any], reference: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The summary row as ordered pairs (the cache stores JSON with sorted keys) and the reference edges."""
    return {"row": [[k, v] for k, v in row.items()], "reference": [list(e) for e in reference]}


def _noted(caveats: dict[tuple[str, str], list[str]], pair: str, measure: str, step: Any) -> Any:
    """Run a cached step; its first estimation warning is kept for the report, grouped by pair and message.
    Outside the cache, so that a cache hit (which replays the step's warnings) reports the same line."""
    r, warns = steps._quiet(step)
    if warns:
        caveats.setdefault((pair, warns[0]), []).append(measure)
    return r


def _pid_steps(ctx: Any, cat: pd.DataFrame, pred: dict, base: dict) -> None:
    p = ctx.params
    target = cat["log_mstar"].to_numpy(float)[pred["analysis"]]
    done: dict[tuple[str, str], Any] = {}
    caveats: dict[tuple[str, str], list[str]] = {}
    for pair in p.pid_pairs:
        sources = pid_sources(cat, pred, pair, p)
        if sources is None:
            ctx.notes.append(steps.skipped_pair_note(cat, pair, p))
            continue
        key = {**base, "pair": pair, "colours": p.colours, "n_splits": p.pid_n_splits}
        summ = ctx.cached(f"pid_sources_{pair}", key,
                          lambda s=sources: reduce_sources(s, target, int(p.pid_n_splits), ctx.seed))
        for measure in p.pid_measures:
            pkey = {**key, "measure": measure, "bins": p.pid_bins, "n_boot": p.pid_n_boot,
                    "ci": p.pid_ci_level}
            done[(pair, measure)] = _noted(caveats, pair, measure, lambda s=summ, m=measure, k=pkey,
                                           name=f"pid_{pair}_{measure}": ctx.cached(
                name, k, lambda: steps.pid_binned(s, target, m, p, seed=ctx.seed)))
        if p.pid_knn:     # on the same one-variable summaries, so only the binning differs
            kkey = {**key, "k": p.knn_k, "on": "summaries", "scaling": p.knn_scaling, "n_boot": p.pid_n_boot,
                    "ci": p.pid_ci_level}
            done[(pair, "knn")] = _noted(caveats, pair, "knn", lambda s=summ, k=kkey, name=f"pid_{pair}_knn":
                                         ctx.cached(name, k, lambda: steps.pid_knn(s, target, p, seed=ctx.seed)))
    ctx.store["pid"] = done
    ctx.store["pid_caveats"] = steps.caveat_lines(caveats)
    table = steps.pid_table(done)
    if table is not None:
        ctx.add_table("pid", table)


def _pack_local(res: dict[str, Any]) -> dict[str, np.ndarray]:
    """Local-dependence results as plain arrays (the run cache stores arrays)."""
    out = {}
    for q, r in res.items():
        for f in ("correlation", "p_value", "null_std", "efficiency"):
            out[f"{q}|{f}"] = np.asarray(getattr(r, f))
        out[f"{q}|meta"] = np.array([r.k, r.n_perm, r.degree, r.dataset_statistic, r.dataset_p_value,
                                     r.block_size, r.n_trend, r.detrend == "linear"], dtype=float)
    return out


def _unpack_local(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    out = {}
    for q in dict.fromkeys(k.split("|")[0] for k in arrays):
        k, n_perm, degree, stat, p_data, block, n_trend, linear = arrays[f"{q}|meta"]
        out[q] = ip.causal.LocalDependence(**{f: arrays[f"{q}|{f}"] for f in
                                              ("correlation", "p_value", "null_std", "efficiency")},
                                           k=int(k), n_perm=int(n_perm), degree=int(degree), conditioned=True,
                                           dataset_statistic=float(stat), dataset_p_value=float(p_data),
                                           block_size=int(block), n_trend=int(n_trend),
                                           detrend="linear" if linear else "none")
    return out


def _attribution_tables(ctx: Any, attr: Any, data: Any, pred: dict, bands: list[str]) -> None:
    parts = steps.attribution_tables(attr, data, pred, bands, ctx.params, seed=ctx.seed)
    for name, value in parts.items():
        ctx.store[name] = value
        if isinstance(value, pd.DataFrame):
            ctx.add_table(name, value)


# --- findings ----------------------------------------------------------------------------------------------
def _notes(ctx: Any, pred: dict) -> None:
    p, data = ctx.params, ctx.load("data")
    t = ctx.tables["metrics"].set_index(["model", "metric"])
    unknown = data.split is None and bool(ctx.config.get("model"))    # the user's model, its training rows unknown
    ctx.notes.insert(0, f"{len(data)} galaxies ({data.source}; bands {' '.join(ctx.store['bands'])}); held-out "
                        f"test n = {len(pred['test'])}; analyses on {len(pred['analysis'])} "
                        + ("galaxies of the reference split's validation + test rows." if unknown else
                           "never-trained-on galaxies (validation + test)."))
    for key in PRED:
        g = lambda m, k=key: t.loc[(k, m)]  # noqa: E731
        ctx.notes.append(f"{MODEL_LABEL[key]} (held out): scatter {g('scatter')['value']:.3f} dex "
                         f"[{g('scatter')['ci16']:.3f}, {g('scatter')['ci84']:.3f}], bias {g('bias')['value']:+.3f} "
                         f"dex, sigma_NMAD {g('sigma_nmad')['value']:.3f} dex, outliers (>"
                         f"{p.mass_outlier_dex} dex) {100 * g('outlier_fraction')['value']:.1f} %.")
    _causal_notes(ctx)
    _pid_notes(ctx)
    ctx.notes.extend(ctx.store.get("pid_caveats", []))     # after the numbers they qualify
    _attribution_notes(ctx)
    if "local_dependence" in ctx.tables:
        ld = ctx.tables["local_dependence"]
        ctx.notes.append("Local dependence of true mass on each query among CNN-embedding neighbours (the "
                         f"toolkit setting: k = {int(ld['k'].iloc[0])} among all analysis galaxies on the z-scored "
                         f"embedding, given redshift and a local linear trend along {int(ld['n_trend'].iloc[0])} "
                         "embedding directions, without which a mass and a query that both vary across a "
                         "neighbourhood correlate there though independent given the embedding; the paper's "
                         "setting, without the trend, is setting='zhang2025'). Dataset-level "
                         "test (block permutation of the mean squared neighbourhood correlation) and the fraction "
                         f"of galaxies significant after FDR control at {p.local_alpha}: "
                         + ", ".join(f"{q} p = {pv:.3g}, {f:.2f} (median r {c:+.2f})" for q, pv, f, c in
                                     ld[["query", "dataset_p_value", "fraction_fdr_significant",
                                         "median_correlation"]].itertuples(index=False)) + ".")


def _causal_notes(ctx: Any) -> None:
    p = ctx.params
    s = ctx.tables["causal_summary"].set_index("method")
    for method in p.causal_methods:
        freq = ctx.store[f"stability_{method}"]
        shd = (f"; SHD to the planted truth {int(s.loc[method, 'shd'])} (its large-sample graph has "
               f"{int(s.loc[method, 'n_true_edges'])} edges, dense because latent SED parameters join the "
               f"observables; {int(s.loc[method, 'missing'])} missing, "
               f"{int(s.loc[method, 'extra'])} extra, {int(s.loc[method, 'misoriented'])} misoriented; adjacency "
               f"precision {s.loc[method, 'precision']:.2f}, recall {s.loc[method, 'recall']:.2f})"
               if "shd" in s else "")
        ctx.notes.append(f"{method.upper()} ({p.causal_test}, alpha {p.causal_alpha}, "
                         f"{p.causal_n_boot} bootstraps): {int(s.loc[method, 'n_edges'])} edges on the full "
                         f"sample{shd}. Neighbours of mass_cnn: {_adjacent(freq, PRED['cnn'])}; of mass_phot: "
                         f"{_adjacent(freq, PRED['phot'])}.")


def _adjacent(freq: pd.DataFrame, node: str) -> str:
    out = []
    for (a, b), row in freq.iterrows():
        present = 1.0 - row["absent"]
        if node in (a, b) and present >= 0.5:
            other = b if a == node else a
            out.append((present, f"{other} ({present:.2f})"))
    return ", ".join(s for _, s in sorted(out, reverse=True)) or "none in >= 50 % of resamples"


def _pid_notes(ctx: Any) -> None:
    b = int(ctx.params.pid_bins)
    ctx.notes.append(f"Binned PID uses {b} quantile bins per variable, so it cannot exceed log2({b}) = "
                     f"{np.log2(b):.2f} bits; the kNN route (no binning, same one-variable summaries) is not capped "
                     "but KSG biases the joint term down at these sample sizes (negative kNN synergy).")
    for (pair, measure), r in ctx.store.get("pid", {}).items():
        a, b = r.sources
        ci = ""
        if r.ci:
            ci = f" (90 % CI redundancy {r.ci['redundancy'][0]:.2f}-{r.ci['redundancy'][1]:.2f})" \
                if "redundancy" in r.ci else ""
        ctx.notes.append(f"PID [{measure}] of true mass, {PAIR_LABEL[pair]}: I = {r.mutual_information:.3f} bits; "
                         f"redundancy {r.redundancy:.3f}{ci}, unique {a} {r.unique[a]:.3f}, unique {b} "
                         f"{r.unique[b]:.3f}, synergy {r.synergy:.3f}.")
    if "pointwise" in ctx.store:
        s = ctx.store["pointwise"].to_pid()
        a, b = s.sources
        ctx.notes.append(f"Per-galaxy neural PID ({ctx.params.pointwise_pair}, mean over galaxies): I = "
                         f"{s.mutual_information:.3f} bits, redundancy {s.redundancy:.3f}, unique {a} "
                         f"{s.unique[a]:.3f}, unique {b} {s.unique[b]:.3f}, synergy {s.synergy:.3f}.")


def _attribution_notes(ctx: Any) -> None:
    if not ctx.tables["attribution_bands"]["absolute"].any():
        ctx.notes.append("Integrated gradients of the CNN are zero in every pixel: its output does not change "
                         "between the zero-flux baseline and the cutouts (a constant or saturated network, e.g. "
                         "input scaling fitted on blank cutout borders), so band shares and radii are undefined.")
        return
    bands = ctx.tables["attribution_bands"].set_index("band")["abs_fraction"].sort_values(ascending=False)
    rad = ctx.tables["attribution_radial"]
    half = rad.loc[(rad["cumulative_fraction"] >= 0.5).idxmax()]
    signed = ctx.tables["attribution_bands"].set_index("band")["signed_fraction"]
    txt = (f"Integrated gradients of the CNN: |attribution| by band {', '.join(f'{b} {100 * v:.0f} %' for b, v in bands.items())}"
           f" (signed: {', '.join(f'{b} {100 * v:+.0f} %' for b, v in signed.items())}); "
           f"half of it within r = {half['r_hi']:.1f} px of the centre")
    if "attribution_growth" in ctx.tables:
        g = ctx.tables["attribution_growth"].set_index("r_over_re")
        txt += (f"; inside 1 R_e: {100 * g.loc[1.0, 'attribution_median']:.0f} % of |attribution| vs "
                f"{100 * g.loc[1.0, 'light_median']:.0f} % of the light (medians over galaxies; 2 R_e: "
                f"{100 * g.loc[2.0, 'attribution_median']:.0f} % vs {100 * g.loc[2.0, 'light_median']:.0f} %)")
    ctx.notes.append(txt + ".")
