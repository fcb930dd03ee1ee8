"""Real SDSS galaxies: which bands and colours carry photometric redshift and stellar mass

The one study on real data. Galaxies: the SDSS main-sample galaxies with 2MASS photometry that kcorrect
ships (``ip.datasets.sdss_sample()``: spectroscopic redshifts, extinction-corrected AB ugriz + J H Ks, and
stellar masses from kcorrect template fits, Blanton & Roweis 2007). Questions:

1. How well do photometry-only networks recover spec-z and the kcorrect mass? Reference MLPs
   (``ip.mock.train_reference(sdss, task="photoz" | "stellar_mass")``; the mass model also gets spec-z)
   scored on the held-out 15 %: bias, sigma_NMAD, outlier fraction eta (|dz|/(1+z) > 0.15), mass scatter.
2. Which bands do they *rely on* (masking: the trained model with a band filled by its training mean) and
   which bands carry *information* that the others lack (retraining without the band, same architecture by
   default), side by side; exact band Shapley values over all 2^B band subsets with bootstrap errors over
   galaxies and pairwise Shapley interaction indices (after Engel et al. 2025, Mantis Shrimp,
   arXiv:2501.09112).
3. How is the information colours hold about redshift and mass split? Partial-information decomposition
   (several redundancy measures, bootstrap CIs; after Zhang et al. 2024, arXiv:2402.04287) for two
   source splits chosen for their physics:

   * ``break``: *blue* colours (u-g, g-r) versus *red* colours (r-i, i-z). At the sample's z ~ 0.02-0.3
     the 4000 A break moves through the g band (4000-5200 A), so the blue pair should hold the redshift
     information uniquely, while the red pair traces the smooth old-star continuum (stellar M/L).
   * ``optical_nir``: optical colours (u-g, g-r, r-i, i-z) versus optical-to-NIR colours (z-J, J-H,
     H-Ks). NIR light follows the old stellar mass; the question is whether 2MASS adds information about
     mass (or redshift) that the optical colours do not already have, i.e. unique vs redundant.
4. Which conditional independences hold between redshift, mass, r magnitude, colours and the two
   networks' predictions? PC with tiers redshift -> stellar mass -> magnitude/colours -> predictions,
   shown as bootstrap edge frequencies. Caveat: the kcorrect mass is itself fitted to these magnitudes at
   the spec-z, so "mass -> colours" is the physical reading, not something the data alone can establish.

Data notes: rows need finite magnitudes in every used band, ``log_mstar`` and redshift, and magnitude
errors below ``max_mag_err`` (removes the few failed u/i measurements). Masses: kcorrect's fit of all
10 000 galaxies takes ~10-15 s once; ``sdss_sample()`` caches them per user
(``interpret.datasets.cache_dir()``), so later runs read them instantly. Trained networks and every heavy
step are cached in the run folder.

Run on your own model and data::

    study = "sdss_real"
    n = 5000                          # optional subsample
    [data]
    catalog = "my_photometry.fits"    # AB magnitude columns named by band, "redshift", "log_mstar",
                                      # optional "<band>_err"
    bands = ["u", "g", "r", "i", "z"] # magnitude columns to use (NIR colour splits need J, H, Ks)
    target = "redshift"               # what [model] predicts: "redshift" (photo-z) or "log_mstar"
    [model]
    path = "my_photoz.pt"             # TorchScript / state dict + factory / skops; input (n, n_bands)
                                      # magnitudes in `bands` order (+ a last "redshift" column for mass)

The other task's estimator is trained with the reference trainer.

Science lives in :mod:`.steps` (pure functions; :func:`.steps.run_all` runs the study on your own arrays
without a runner), :mod:`.figures` (one function per figure, reading step outputs only) and :mod:`.params`.
"""
from __future__ import annotations

import logging
from functools import cache
from typing import Any

from ...exceptions import ConfigError
from .._data import BandNames, user_data
from .._models import model_name, one_torch_thread, study_model
from . import figures as _figures
from . import steps
from .figures import (
    fig_ablation,
    fig_causal_graph,
    fig_edge_stability,
    fig_interactions,
    fig_pid,
    fig_predictions,
    fig_sample,
    fig_shapley,
)
from .params import PID_SPLITS, Params, SdssRealParams
from .steps import (
    TASKS,
    ablation_mask,
    ablation_table,
    causal_frame,
    causal_tiers,
    fit_rows,
    metrics_table,
    pid_one,
    pid_sources,
    reduce_sources,
    shapley_with_errors,
    test_rows,
)

__all__ = ["Params", "SdssRealParams", "compute", "FIGURES", "CAPTIONS", "DATA_KEYS", "TITLE", "PID_SPLITS",
           "TASKS", "load_sample", "estimator", "steps",
           # the steps and figures of the single-module layout, still importable from here
           "ablation_mask", "ablation_table", "causal_frame", "causal_tiers", "fit_rows", "metrics_table",
           "pid_one", "pid_sources", "reduce_sources", "shapley_with_errors", "test_rows", "fig_sample",
           "fig_predictions", "fig_shapley", "fig_interactions", "fig_ablation", "fig_pid", "fig_causal_graph",
           "fig_edge_stability"]

log = logging.getLogger(__name__)

TITLE = "Real SDSS galaxies: which bands and colours carry photometric redshift and stellar mass"
#: The [data] keys this study reads (any other is refused). With ``split`` every held-out number uses the
#: user's test rows, and the models the study trains itself are fitted on the other rows only.
DATA_KEYS = frozenset({"catalog", "target", "bands", "split", "fluxes", "flux_unit", "extinction", "hdu", "key",
                       "name"})
CAPTIONS = _figures.CAPTIONS
FIGURES = list(_figures.FIGURES.values())

# --- the config boundary: data and models ------------------------------------------------------------------
def load_sample(ctx: Any) -> tuple[Any, list[str]]:
    """Quality-cut (and optionally subsampled) catalogue as a Dataset, and the bands used."""
    import interpret as ip

    data = user_data(ctx)
    bands = list(ctx.config.get("data", {}).get("bands") or ctx.params.bands)
    kw = {"max_mag_err": ctx.params.max_mag_err, "n": ctx.config["n"], "seed": ctx.seed}
    if data is None:
        ds = ip.datasets.sdss_sample()
        secs = ds.meta.get("mass_seconds", 0.0)
        how = f"fitted in {secs:.1f} s, then kept in the per-user cache" if secs else "read from the per-user cache"
        ctx.notes.append(f"kcorrect stellar masses {how}.")
        sample = steps.select_sample(ds.catalog, bands, band_set=ds.bands, source="sdss", **kw)
        _check_sample(ctx, sample, f"n = {ctx.config['n']}:" if ctx.config["n"] else "the SDSS sample:")
        return sample, bands
    need = [c for c in [*bands, "redshift", "log_mstar"] if c not in data.catalog]
    if need:
        raise ConfigError(f"sdss_real: [data] catalog lacks column(s) {need}; it needs one AB magnitude column "
                          f"per band in 'bands' plus 'redshift' and 'log_mstar'")
    sample = steps.select_sample(data.catalog, bands, split=data.split, band_set=BandNames(bands), source="user",
                                 **kw)
    _check_sample(ctx, sample, "[data]")
    return sample, bands


def _check_sample(ctx: Any, sample: Any, where: str) -> None:
    """Refuse a sample too small for the held-out steps; say when ``n`` asked for more galaxies than passed."""
    problem = steps.sample_problem(sample, ctx.seed, len(ctx.params.causal_colours))
    if problem:
        raise ConfigError(f"sdss_real: {where} {problem}")
    if ctx.config["n"] and ctx.config["n"] > sample.meta["n_cut"]:
        ctx.notes.append(f"n = {ctx.config['n']} asked, but only {sample.meta['n_cut']} of the "
                         f"{sample.meta['n_parent']} galaxies pass the cuts: all of them are used.")


def estimator(ctx: Any, data: Any, bands: list[str], task: str) -> Any:
    """The user's model for ``[data].target``'s task, else the reference MLP (cached in the run folder)."""
    spec = ctx.config.get("model") or {}
    target = (ctx.config.get("data") or {}).get("target", "redshift")
    if target not in TASKS.values():
        raise ConfigError(f"sdss_real: [data].target must be 'redshift' or 'log_mstar' (what [model] predicts); "
                          f"got {target!r}")
    if spec and TASKS[task] == target:
        est = study_model(ctx, data, task)
        key = "[data] bands" if (ctx.config.get("data") or {}).get("bands") else "[params] bands"
        problem = steps.model_problem(est, data.catalog, bands, task, bands_key=key)
        if problem:
            raise ConfigError(f"sdss_real: [model] {model_name(ctx, 'user model')!r}: {problem}")
        return est
    return steps.reference_estimator(data, bands, task, ctx.params, seed=ctx.seed, device=ctx.config["device"],
                                     cache_dir=ctx.cache_dir / "models")


def _model_labels(ctx: Any) -> dict[str, str]:
    user = model_name(ctx, "") if ctx.config.get("model") else ""
    return steps.model_labels(user, (ctx.config.get("data") or {}).get("target", "redshift"))


# --- compute -----------------------------------------------------------------------------------------------
def compute(ctx: Any) -> None:
    """Train (or load) both estimators, then ablation, Shapley, PID and causal discovery (all cached)."""
    with one_torch_thread():
        _compute(ctx)


def _compute(ctx: Any) -> None:
    p = ctx.params
    data, bands = load_sample(ctx)
    ctx.store.update(params=p, data=data, bands=bands, model_names=_model_labels(ctx))
    # what every cached step depends on beyond the run's fingerprint (which already digests the [model]
    # file and parameters): the sample's content and the bands
    base = {"sample": data.catalog, "bands": bands}
    get_est = cache(lambda task: estimator(ctx, data, bands, task))
    pred = ctx.cached("predictions", base, lambda: steps.predictions(data, bands, get_est, seed=ctx.seed))
    cat = data.catalog
    ctx.add_table("metrics", steps.metrics_table(cat, pred, p))
    ctx.store["evaluations"] = steps.evaluations(cat, pred, p)
    _ablation_steps(ctx, data, bands, pred, base, get_est)
    _pid_steps(ctx, cat, base)
    _causal_steps(ctx, cat, pred, base)
    _summary_notes(ctx, data, bands, pred)


def _ablation_steps(ctx: Any, data: Any, bands: list[str], pred: dict, base: dict, get_est: Any) -> None:
    p, cat = ctx.params, data.catalog
    for task in TASKS:
        metric = (p.photoz_metric if task == "photoz" else p.mass_metric)
        key = {**base, "outlier_threshold": p.outlier_threshold}
        retrain = ctx.cached(f"retrain_{task}", {**key, "model": p.retrain_model,
                                                  "test_size": p.retrain_test_size},
                             lambda t=task: steps.ablation_retrain(
                                 data, bands, t, p, seed=ctx.seed, n_jobs=ctx.jobs, progress=ctx.progress,
                                 device=ctx.config["device"], cache_dir=ctx.cache_dir / "models"))
        masked = {}
        for strategy in p.strategies:
            masked[strategy] = ctx.cached(
                f"mask_{task}_{strategy}", {**key, "strategy": strategy},
                lambda t=task, s=strategy: steps.ablation_mask(get_est(t), cat, pred, bands, t, p, ctx.seed, s))
            shp = ctx.cached(f"shapley_{task}_{strategy}",
                             {**key, "strategy": strategy, "n_boot": p.n_boot_shapley, "metric": metric},
                             lambda t=task, s=strategy: steps.shapley_with_errors(get_est(t), cat, pred, bands, t,
                                                                                  p, ctx.seed, s))
            ctx.add_table(f"shapley_{task}_{strategy}", shp.to_frame().reset_index())
        ctx.add_table(f"ablation_{task}", steps.ablation_table(masked, retrain))


def _pid_steps(ctx: Any, cat: Any, base: dict) -> None:
    p = ctx.params
    done = {}
    caveats: dict[tuple[str, str, str], list[str]] = {}
    for target_name in TASKS.values():
        target = cat[target_name].to_numpy(float)
        for split in p.pid_splits:
            sources = steps.pid_sources(cat, split)
            if sources is None:
                note = f"PID split '{split}' skipped: its colours need bands missing from the data."
                ctx.notes += [note] if note not in ctx.notes else []
                continue
            key = {**base, "split": split, "target": target_name, "n_splits": p.pid_n_splits}
            summ = ctx.cached(f"pid_sources_{target_name}_{split}", key,
                              lambda s=sources, t=target: steps.reduce_sources(s, t, int(p.pid_n_splits),
                                                                               ctx.seed))
            for measure in p.pid_measures:
                pkey = {**key, "measure": measure, "bins": p.pid_bins, "n_boot": p.pid_n_boot,
                        "ci": p.pid_ci_level}
                # the note is written outside the cache: a cache hit replays the step's warnings
                name = f"pid_{target_name}_{split}_{measure}"
                r, warns = steps.quiet(lambda n=name, s=summ, t=target, m=measure, k=pkey: ctx.cached(
                    n, k, lambda: steps.pid_decompose(s, t, m, p, ctx.seed)))
                if warns:
                    caveats.setdefault((target_name, split, warns[0]), []).append(measure)
                done[(target_name, split, measure)] = r
    ctx.store["pid"] = done
    ctx.store["pid_caveats"] = steps.caveat_lines(caveats)
    table = steps.pid_table(done)
    if table is not None:
        ctx.add_table("pid", table)


def _causal_steps(ctx: Any, cat: Any, pred: dict, base: dict) -> None:
    p = ctx.params
    frame = steps.causal_frame(cat, pred, list(p.causal_colours))
    key = {**base, **{k: getattr(p, k) for k in ("causal_colours", "causal_method", "causal_test", "causal_alpha",
                                                 "causal_n_boot")}}
    freq = ctx.cached("edge_stability", key, lambda: steps.edge_stability(frame, p, seed=ctx.seed,
                                                                          n_jobs=ctx.jobs, progress=ctx.progress))
    freq.attrs.update(steps.edge_attrs(frame, p))
    ctx.store["edge_stability"] = freq
    ctx.add_table("edge_stability", steps.edge_table(freq))


# --- report notes ------------------------------------------------------------------------------------------
def _summary_notes(ctx: Any, data: Any, bands: list[str], pred: dict) -> None:
    t = ctx.tables["metrics"].set_index(["task", "metric"])["value"]
    how = ("the test rows of the user's split" if "split" in data.meta
           else "the reference split's held-out rows")
    ctx.notes.insert(0, f"{len(data)} galaxies ({data.name}) after cuts; bands {' '.join(bands)}; held-out "
                        f"n = {len(pred['test'])}, {how}.")
    if ctx.config.get("model") and "split" not in data.meta:
        ctx.notes.insert(1, "Your model's training rows are unknown (no [data] split column): its held-out "
                            "metrics use the reference split and may be optimistic.")
    ctx.notes.append(f"Photo-z (held out): bias {t[('photoz', 'bias')]:+.4f}, sigma_NMAD "
                     f"{t[('photoz', 'sigma_nmad')]:.4f}, eta {100 * t[('photoz', 'outlier_fraction')]:.2f} %.")
    ctx.notes.append(f"Stellar mass (held out, vs kcorrect): rms {t[('stellar_mass', 'rmse')]:.3f} dex, bias "
                     f"{t[('stellar_mass', 'bias')]:+.4f} dex, sigma_NMAD {t[('stellar_mass', 'sigma_nmad')]:.3f} dex.")
    for task in TASKS:
        _ablation_notes(ctx, task)
    _pid_notes(ctx)
    ctx.notes.extend(ctx.store.get("pid_caveats", []))     # after the numbers they qualify
    freq = ctx.tables["edge_stability"]
    strong = freq[freq["present"] >= ctx.params.min_edge_frequency]
    ctx.notes.append(f"PC edge stability: {len(strong)} pairs adjacent in >= "
                     f"{ctx.params.min_edge_frequency:.0%} of {ctx.params.causal_n_boot} resamples; "
                     f"z_phot parents: {_parents(ctx.store['edge_stability'], 'z_phot')}; mass_pred parents: "
                     f"{_parents(ctx.store['edge_stability'], 'mass_pred')}.")


def _ablation_notes(ctx: Any, task: str) -> None:
    strategy = ctx.params.strategies[0]
    res = ctx.store[f"shapley_{task}_{strategy}"]
    s = ctx.tables[f"shapley_{task}_{strategy}"].set_index("band")
    order = s["value"].sort_values(ascending=False).index.tolist()
    top = ", ".join(f"{b} {s.loc[b, 'value']:+.4f}±{s.loc[b, 'standard_error']:.4f}" for b in order[:3])
    title = steps.TASK_TITLES[task]
    ctx.notes.append(f"{title} Shapley ({res.metric}, {strategy} fill; most useful first): {top}.")
    a = ctx.tables[f"ablation_{task}"].set_index("label").iloc[1:]
    metric = ctx.store[f"retrain_{task}"].metrics[0]
    full = ctx.tables[f"ablation_{task}"].iloc[0]
    for name in [f"mask_{k}" for k in ctx.params.strategies] + ["retrain"]:
        col = a[f"delta_{metric}_{name}"]
        ctx.notes.append(f"{title} leave-one-out ({name}): dropping {str(col.idxmax()).lstrip('-')} raises "
                         f"{metric} most, by {col.max():+.4f} (all bands: {full[f'{metric}_{name}']:.4f}).")


def _parents(freq: Any, node: str) -> str:
    out = []
    for (a, b), row in freq.iterrows():
        if b == node and row["-->"] >= 0.5:
            out.append(f"{a} ({row['-->']:.2f})")
        elif a == node and row["<--"] >= 0.5:
            out.append(f"{b} ({row['<--']:.2f})")
    return ", ".join(out) or "none >= 0.5"


def _pid_notes(ctx: Any) -> None:
    for (target, split, measure), r in ctx.store.get("pid", {}).items():
        if measure != ctx.params.pid_measures[0]:
            continue
        u = ", ".join(f"unique {k} {v:.3f}" for k, v in r.unique.items())
        ctx.notes.append(f"PID ({measure}) of {target} from {split} colours: I = {r.mutual_information:.3f} bits; "
                         f"redundancy {r.redundancy:.3f}, {u}, synergy {r.synergy:.3f}.")
