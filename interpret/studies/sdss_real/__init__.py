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
"""
from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

import interpret as ip
from interpret.exceptions import ConfigError, EstimationWarning

from .._data import BandNames, colours, held_out, user_data
from .._models import RefitHGB, RefitMLP, model_name, one_torch_thread, study_model
from .._models import panel as _panel
from .._params import StudyParams

log = logging.getLogger(__name__)


#: The [data] keys this study reads (any other is refused). With ``split`` every held-out number uses the
#: user's test rows, and the models the study trains itself are fitted on the other rows only.
DATA_KEYS = frozenset({"catalog", "target", "bands", "split", "fluxes", "flux_unit", "extinction", "hdu", "key",
                       "name"})


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the sdss_real study (the config's ``[params]`` table)."""

    bands: tuple[str, ...] = ('u', 'g', 'r', 'i', 'z', 'J', 'H', 'Ks')  # magnitude columns used by every model
    max_mag_err: float = 0.5  # quality cut: magnitude error (mag) in every used band below this
    fast: bool = False  # few-epoch training (demo / tests)
    n_epochs: int = 0  # reference-MLP epochs (0: trainer default, 150; fast: 18)
    retrain_model: str = 'mlp'  # refit for retrain mode: "mlp" (reference trainer) or "hgb" (sklearn)
    retrain_test_size: float = 0.25  # held-out fraction of retrain mode
    strategies: tuple[str, ...] = ('inpaint', 'mean')  # masking fills (interpret.ablation.STRATEGIES); the first one is
    photoz_metric: str = 'sigma_nmad'  # Shapley metric of the photo-z model
    mass_metric: str = 'rmse'  # Shapley metric of the mass model (dex)
    n_boot_shapley: int = 50  # galaxy bootstrap resamples for Shapley error bars
    outlier_threshold: float = 0.15  # photo-z outlier |dz|/(1+z)
    mass_outlier_dex: float = 0.3  # mass outlier |dlog M|
    pid_measures: tuple[str, ...] = ('broja', 'mmi', 'wb')
    pid_splits: tuple[str, ...] = ('break', 'optical_nir')
    pid_bins: int = 8
    pid_n_boot: int = 100
    pid_ci_level: float = 0.9
    pid_n_splits: int = 5  # cross-fitting folds reducing each colour group to one variable
    causal_colours: tuple[str, ...] = ('u-g', 'g-r', 'r-i', 'i-z', 'z-Ks')
    causal_method: str = 'pc'
    causal_test: str = 'fisherz'
    causal_alpha: float = 0.01
    causal_n_boot: int = 100
    min_edge_frequency: float = 0.5  # edges drawn in the graph figure

#: PID source splits: name -> {source name: colours}; see the module docstring for the physics.
PID_SPLITS: dict[str, dict[str, list[str]]] = {
    "break": {"blue": ["u-g", "g-r"], "red": ["r-i", "i-z"]},
    "optical_nir": {"optical": ["u-g", "g-r", "r-i", "i-z"], "NIR": ["z-J", "J-H", "H-Ks"]},
}
TASKS = {"photoz": "redshift", "stellar_mass": "log_mstar"}
_PRED = {"photoz": "z_phot", "stellar_mass": "mass_pred"}
_TITLE = {"photoz": "photo-z", "stellar_mass": "stellar mass"}


# --- data --------------------------------------------------------------------------------------------------
def _raw_sample(ctx: Any) -> tuple[pd.DataFrame, Any, str, list[str], np.ndarray | None]:
    data = user_data(ctx)
    bands = list(ctx.config.get("data", {}).get("bands") or ctx.params.bands)
    if data is None:
        ds = ip.datasets.sdss_sample()
        secs = ds.meta.get("mass_seconds", 0.0)
        how = f"fitted in {secs:.1f} s, then cached" if secs else "read from the per-user cache"
        ctx.notes.append(f"kcorrect stellar masses {how} (per-user cache).")
        return ds.catalog, ds.bands, "sdss", bands, None
    need = [c for c in [*bands, "redshift", "log_mstar"] if c not in data.catalog]
    if need:
        raise ConfigError(f"sdss_real: [data] catalog lacks column(s) {need}; it needs one AB magnitude column "
                          f"per band in 'bands' plus 'redshift' and 'log_mstar'")
    return data.catalog, BandNames(bands), "user", bands, data.split


def load_sample(ctx: Any) -> tuple[Any, list[str]]:
    """Quality-cut (and optionally subsampled) catalogue as a Dataset, and the bands used."""
    cat, bandset, source, bands, split = _raw_sample(ctx)
    ok = cat[[*bands, "redshift", "log_mstar"]].notna().all(axis=1).to_numpy().copy()
    errs = [f"{b}_err" for b in bands if f"{b}_err" in cat]
    if errs:
        ok &= (cat[errs] < float(ctx.params.max_mag_err)).all(axis=1).to_numpy()
    rows = np.flatnonzero(ok)
    n = ctx.config["n"]
    if n is not None and n < rows.size:
        rows = np.sort(np.random.default_rng(ctx.seed).choice(rows, size=n, replace=False))
    keep = [*bands, "redshift", "log_mstar", *errs]
    sample = cat.iloc[rows][keep].reset_index(drop=True).astype(float)
    meta = {"n_parent": len(cat), "n_cut": int(ok.sum())}
    if split is not None:
        meta["split"] = split[rows]
    ds = ip.datasets.Dataset(name=source, catalog=sample, bands=bandset, source=source, meta=meta)
    return ds, bands




def _inputs(cat: pd.DataFrame, bands: list[str], task: str) -> np.ndarray:
    cols = [*bands, "redshift"] if task == "stellar_mass" else list(bands)
    return cat[cols].to_numpy(np.float32)


# --- models ------------------------------------------------------------------------------------------------
def _base_key(ctx: Any, data: Any, bands: list[str]) -> dict[str, Any]:
    """What every cached step depends on beyond the run's fingerprint (which already digests the [model]
    file and parameters): the sample's content and the bands."""
    return {"sample": data.catalog, "bands": bands}


def _train_kwargs(ctx: Any) -> dict[str, Any]:
    p = ctx.params
    return {"fast": bool(p.fast), "n_epochs": int(p.n_epochs) or None, "progress": False,
            "num_threads": 1, "device": ctx.config["device"], "cache_dir": ctx.cache_dir / "models"}


def test_rows(ctx: Any, data: Any) -> np.ndarray:
    """The held-out rows: the user's test rows when ``[data] split`` is given, else the reference split's."""
    if "split" in data.meta:
        return np.flatnonzero(data.meta["split"] == "test")
    return held_out(len(data), ctx.seed)


def fit_rows(ctx: Any, data: Any) -> Any:
    """What the study's own models are fitted on: every row but the user's test rows (all rows without a
    split: the reference trainer then holds out its own seeded split)."""
    if "split" not in data.meta:
        return data
    keep = np.flatnonzero(data.meta["split"] != "test")
    return dataclasses.replace(data, catalog=data.catalog.iloc[keep].reset_index(drop=True), meta={})


def estimator(ctx: Any, data: Any, bands: list[str], task: str) -> Any:
    """The user's model for ``[data].target``'s task, else the reference MLP (cached in the run folder)."""
    spec = ctx.config.get("model") or {}
    target = (ctx.config.get("data") or {}).get("target", "redshift")
    if target not in TASKS.values():
        raise ConfigError(f"sdss_real: [data].target must be 'redshift' or 'log_mstar' (what [model] predicts); "
                          f"got {target!r}")
    if spec and TASKS[task] == target:
        return study_model(ctx, data, task)
    return ip.mock.train_reference(fit_rows(ctx, data), task=task, bands=bands, seed=ctx.seed,
                                   **_train_kwargs(ctx))


def _predictions(ctx: Any, data: Any, bands: list[str], get_est: Any) -> dict[str, np.ndarray]:
    out = {"test": test_rows(ctx, data)}
    for task in TASKS:
        out[_PRED[task]] = np.asarray(get_est(task).predict(_inputs(data.catalog, bands, task), batch_size=2048,
                                                            progress=False), float).reshape(-1)
    return out


def metrics_table(cat: pd.DataFrame, pred: dict[str, np.ndarray], p: dict[str, Any]) -> pd.DataFrame:
    """Held-out metrics of both estimators, with 68 % bootstrap intervals (200 resamples, seed 0)."""
    test = pred["test"]
    rows = []
    for task, col in TASKS.items():
        y, yp = cat[col].to_numpy(float)[test], pred[_PRED[task]][test]
        z = task == "photoz"
        thr = p.outlier_threshold if z else p.mass_outlier_dex
        funcs = {"bias": lambda a, b, z=z: ip.metrics.bias(a, b, redshift=z),
                 "sigma_nmad": lambda a, b, z=z: ip.metrics.sigma_nmad(a, b, redshift=z),
                 "outlier_fraction": lambda a, b, z=z, t=thr: ip.metrics.outlier_fraction(
                     a, b, threshold=t, redshift=z),
                 "rmse": lambda a, b: ip.metrics.rmse(a, b)}
        rng = np.random.default_rng(0)
        boot = [rng.integers(0, len(y), len(y)) for _ in range(200)]
        for name, f in funcs.items():
            draws = [f(y[b], yp[b]) for b in boot]
            rows.append({"task": task, "metric": name, "value": f(y, yp), "ci16": np.percentile(draws, 16),
                         "ci84": np.percentile(draws, 84), "n_test": len(test),
                         "unit": "dz/(1+z)" if z and name != "rmse" else ("redshift" if z else "dex")})
    return pd.DataFrame(rows)


# --- ablation ----------------------------------------------------------------------------------------------
def _metric_setup(task: str, p: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]]:
    if task == "photoz":
        return ("sigma_nmad", "outlier_fraction", "bias", "rmse"), {"threshold": p.outlier_threshold}
    return ("rmse", "sigma_nmad", "bias"), {}


def _layout(bands: list[str]) -> dict[str, tuple[int, int, int]]:
    return {b: (0, 1, j) for j, b in enumerate(bands)}


def ablation_mask(est: Any, cat: pd.DataFrame, pred: dict, bands: list[str], task: str, p: dict, seed: int,
                  strategy: str) -> Any:
    """Masking ablation of the trained model on the held-out split (fill statistics from the training rows)."""
    test, train = pred["test"], np.setdiff1d(np.arange(len(cat)), pred["test"])
    x = _inputs(cat, bands, task).astype(float)
    metrics, kwargs = _metric_setup(task, p)
    return ip.ablation.band_ablation(est, x[test], cat[TASKS[task]].to_numpy(float)[test], bands=bands,
                                     band_layout=_layout(bands), strategy=ip.ablation.Fill(strategy, x[train]),
                                     metrics=metrics, metric_kwargs=kwargs, redshift=task == "photoz", seed=seed,
                                     n_jobs=1, progress=False)


def ablation_retrain(ctx: Any, data: Any, bands: list[str], task: str) -> Any:
    """Retrain-mode ablation: one model per leave-one-out subset, scored on a seeded held-out split."""
    p = ctx.params
    cat = fit_rows(ctx, data).catalog       # never the user's test rows
    cols = [*bands, "redshift"] if task == "stellar_mass" else list(bands)
    # the refit classes live in the package, so worker processes import them: jobs > 1 runs in parallel
    fit = (RefitMLP(task, data.bands, TASKS[task], _train_kwargs(ctx)) if p.retrain_model == "mlp"
           else RefitHGB(task))
    metrics, kwargs = _metric_setup(task, p)
    return ip.ablation.band_ablation(None, cat[cols].astype(float), cat[TASKS[task]].to_numpy(float),
                                     bands=bands, retrain=ip.ablation.RetrainSpec(fit, test_size=p.retrain_test_size),
                                     metrics=metrics, metric_kwargs=kwargs, redshift=task == "photoz",
                                     seed=ctx.seed, n_jobs=ctx.jobs, progress=ctx.progress)


def shapley_with_errors(est: Any, cat: pd.DataFrame, pred: dict, bands: list[str], task: str, p: dict,
                        seed: int, strategy: str) -> Any:
    """Exact band Shapley values + interactions on the held-out split; errors from a galaxy bootstrap."""
    test, train = pred["test"], np.setdiff1d(np.arange(len(cat)), pred["test"])
    x = _inputs(cat, bands, task).astype(float)
    y = cat[TASKS[task]].to_numpy(float)
    metric = p.photoz_metric if task == "photoz" else p.mass_metric
    kw = {"threshold": p.outlier_threshold} if (task == "photoz" and metric == "outlier_fraction") else {}

    def run(rows: np.ndarray) -> Any:
        return ip.ablation.band_shapley(est, x[rows], y[rows], bands=bands, band_layout=_layout(bands),
                                        metric=metric, metric_kwargs=kw, redshift=task == "photoz",
                                        strategy=ip.ablation.Fill(strategy, x[train]),
                                        sampling=ip.ablation.ShapleySampling(exact=True), seed=seed, n_jobs=1,
                                        progress=False)

    full = run(test)
    rng = np.random.default_rng([seed, 7])
    boots = [run(test[rng.integers(0, len(test), len(test))]) for _ in range(int(p.n_boot_shapley))]
    if len(boots) < 2:
        return full
    vals = np.array([b.values.to_numpy() for b in boots])
    inter = np.array([b.interactions.to_numpy() for b in boots])
    idx = full.values.index
    return dataclasses.replace(
        full, standard_errors=pd.Series(vals.std(axis=0, ddof=1), index=idx, name="se"),
        interaction_standard_errors=pd.DataFrame(inter.std(axis=0, ddof=1), index=idx, columns=list(idx)),
        details={**full.details, "n_boot": len(boots), "errors": "bootstrap over held-out galaxies"})


# --- PID ---------------------------------------------------------------------------------------------------
def pid_sources(cat: pd.DataFrame, split: str) -> dict[str, np.ndarray] | None:
    """The colour groups of one split (None when a band is missing)."""
    groups = PID_SPLITS[split]
    cols = colours(cat, [c for g in groups.values() for c in g])
    if any(c not in cols for g in groups.values() for c in g):
        return None
    return {name: cols[g].to_numpy(float) for name, g in groups.items()}


def reduce_sources(sources: dict[str, np.ndarray], target: np.ndarray, n_splits: int, seed: int
                   ) -> dict[str, np.ndarray]:
    """Each colour group -> its cross-fitted regression summary E[target | group] (one variable)."""
    from threadpoolctl import threadpool_limits

    from interpret.pid.discretize import reduce_source

    with threadpool_limits(1):
        return {name: reduce_source(x, target, method="regression", n_splits=n_splits, seed=seed, name=name)[0]
                for name, x in sources.items()}


def pid_one(summaries: dict[str, np.ndarray], target: np.ndarray, measure: str, p: dict, seed: int,
            jobs: int) -> tuple[Any, list[str]]:
    """One decomposition; estimation warnings are returned (for the notes) instead of raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        resampling = ip.pid.Resampling(n_boot=int(p.pid_n_boot), ci_level=float(p.pid_ci_level))
        r = ip.pid.decompose(target, summaries, measure=measure, bins=int(p.pid_bins), resampling=resampling,
                             seed=seed, n_jobs=1, progress=False)
    return r, [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]


# --- causal ------------------------------------------------------------------------------------------------
def causal_frame(cat: pd.DataFrame, pred: dict, names: list[str]) -> pd.DataFrame:
    """Held-out galaxies: redshift, mass, r, colours and both predictions."""
    test = pred["test"]
    sub = cat.iloc[test].reset_index(drop=True)
    frame = pd.DataFrame({"redshift": sub["redshift"], "log_mstar": sub["log_mstar"]})
    if "r" in sub:
        frame["r"] = sub["r"]
    frame = frame.join(colours(sub, names))
    for task in TASKS:
        frame[_PRED[task]] = pred[_PRED[task]][test]
    return frame


def causal_tiers(frame: pd.DataFrame) -> list[list[str]]:
    """redshift -> stellar mass -> magnitude and colours -> predictions."""
    middle = [c for c in frame.columns if c not in ("redshift", "log_mstar", *_PRED.values())]
    return [["redshift"], ["log_mstar"], middle, list(_PRED.values())]


# --- compute -----------------------------------------------------------------------------------------------
def compute(ctx: Any) -> None:
    """Train (or load) both estimators, then ablation, Shapley, PID and causal discovery (all cached)."""
    with one_torch_thread():
        _compute(ctx)


def _compute(ctx: Any) -> None:
    p = ctx.params
    _check_params(p)
    data, bands = load_sample(ctx)
    ctx.store["data"] = data
    ctx.store["bands"] = bands
    base = _base_key(ctx, data, bands)
    get_est = cache(lambda task: estimator(ctx, data, bands, task))
    pred = ctx.cached("predictions", base, lambda: _predictions(ctx, data, bands, get_est))
    cat = data.catalog
    ctx.add_table("metrics", metrics_table(cat, pred, p))
    _ablation_steps(ctx, data, bands, pred, base, get_est)
    _pid_steps(ctx, cat, base)
    _causal_steps(ctx, cat, pred, base)
    _summary_notes(ctx, data, bands, pred)


def _check_params(p: dict[str, Any]) -> None:
    if p.retrain_model not in ("mlp", "hgb"):
        raise ConfigError(f"sdss_real: params.retrain_model must be 'mlp' or 'hgb'; got {p.retrain_model!r}")
    bad = [s for s in p.pid_splits if s not in PID_SPLITS]
    if bad:
        raise ConfigError(f"sdss_real: unknown pid_splits {bad}; valid splits are {sorted(PID_SPLITS)}")


def _ablation_steps(ctx: Any, data: Any, bands: list[str], pred: dict, base: dict, get_est: Any) -> None:
    p, cat = ctx.params, data.catalog
    for task in TASKS:
        metric = (p.photoz_metric if task == "photoz" else p.mass_metric)
        key = {**base, "outlier_threshold": p.outlier_threshold}
        retrain = ctx.cached(f"retrain_{task}", {**key, "model": p.retrain_model,
                                                  "test_size": p.retrain_test_size},
                             lambda t=task: ablation_retrain(ctx, data, bands, t))
        masked = {}
        for strategy in p.strategies:
            masked[strategy] = ctx.cached(
                f"mask_{task}_{strategy}", {**key, "strategy": strategy},
                lambda t=task, s=strategy: ablation_mask(get_est(t), cat, pred, bands, t, p, ctx.seed, s))
            shp = ctx.cached(f"shapley_{task}_{strategy}",
                             {**key, "strategy": strategy, "n_boot": p.n_boot_shapley, "metric": metric},
                             lambda t=task, s=strategy: shapley_with_errors(get_est(t), cat, pred, bands, t, p,
                                                                            ctx.seed, s))
            ctx.add_table(f"shapley_{task}_{strategy}", shp.to_frame().reset_index())
        ctx.add_table(f"ablation_{task}", ablation_table(masked, retrain))


def ablation_table(masked: dict[str, Any], retrain: Any) -> pd.DataFrame:
    """Leave-one-out table: every metric under each masking fill and under retraining, with deltas."""
    out = retrain.table[["label", "dropped"]].copy()
    for name, res in [*((f"mask_{k}", v) for k, v in masked.items()), ("retrain", retrain)]:
        table = res.table.set_index("label")
        for m in res.metrics:
            out[f"{m}_{name}"] = table.loc[out["label"], m].to_numpy()
            out[f"delta_{m}_{name}"] = table.loc[out["label"], f"delta_{m}"].to_numpy()
    return out


def _pid_steps(ctx: Any, cat: pd.DataFrame, base: dict) -> None:
    p = ctx.params
    rows, done = [], {}
    for target_name in TASKS.values():
        target = cat[target_name].to_numpy(float)
        for split in p.pid_splits:
            sources = pid_sources(cat, split)
            if sources is None:
                ctx.notes.append(f"PID split '{split}' skipped: its colours need bands missing from the data.")
                continue
            key = {**base, "split": split, "target": target_name, "n_splits": p.pid_n_splits}
            summ = ctx.cached(f"pid_sources_{target_name}_{split}", key,
                              lambda s=sources, t=target: reduce_sources(s, t, int(p.pid_n_splits), ctx.seed))
            for measure in p.pid_measures:
                pkey = {**key, "measure": measure, "bins": p.pid_bins, "n_boot": p.pid_n_boot,
                        "ci": p.pid_ci_level}
                r = ctx.cached(f"pid_{target_name}_{split}_{measure}", pkey,
                               lambda s=summ, t=target, m=measure: _pid_cached(s, t, m, p, ctx))
                done[(target_name, split, measure)] = r
                frame = r.to_frame().reset_index()
                rows.append(frame.assign(target=target_name, split=split, measure=measure))
    ctx.store["pid"] = done
    if rows:
        ctx.add_table("pid", pd.concat(rows, ignore_index=True))


def _pid_cached(summ: dict, target: np.ndarray, measure: str, p: dict, ctx: Any) -> Any:
    r, warns = pid_one(summ, target, measure, p, ctx.seed, int(ctx.config["jobs"]))
    if warns:
        ctx.notes.append(f"PID {measure}: {warns[0]}")
    return r


def _causal_steps(ctx: Any, cat: pd.DataFrame, pred: dict, base: dict) -> None:
    p = ctx.params
    frame = causal_frame(cat, pred, list(p.causal_colours))
    tiers = causal_tiers(frame)
    key = {**base, **{k: getattr(p, k) for k in ("causal_colours", "causal_method", "causal_test", "causal_alpha",
                                        "causal_n_boot")}}
    freq = ctx.cached("edge_stability", key, lambda: ip.causal.edge_stability(
        frame, n_boot=int(p.causal_n_boot), method=p.causal_method, test=p.causal_test,
        alpha=float(p.causal_alpha), background=tiers, n_jobs=int(ctx.config["jobs"]), seed=ctx.seed,
        progress=ctx.progress))
    freq.attrs.update(n_boot=int(p.causal_n_boot), method=p.causal_method, test=p.causal_test,
                      alpha=float(p.causal_alpha), nodes=list(frame.columns), tiers=tiers)
    ctx.store["edge_stability"] = freq
    table = freq.reset_index()
    table.insert(2, "present", 1.0 - table["absent"])
    ctx.add_table("edge_stability", table.sort_values("present", ascending=False))


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
    ctx.notes.append(f"{_TITLE[task]} Shapley ({res.metric}, {strategy} fill; most useful first): {top}.")
    a = ctx.tables[f"ablation_{task}"].set_index("label").iloc[1:]
    metric = ctx.store[f"retrain_{task}"].metrics[0]
    full = ctx.tables[f"ablation_{task}"].iloc[0]
    for name in [f"mask_{k}" for k in ctx.params.strategies] + ["retrain"]:
        col = a[f"delta_{metric}_{name}"]
        ctx.notes.append(f"{_TITLE[task]} leave-one-out ({name}): dropping {str(col.idxmax()).lstrip('-')} raises {metric} most, "
                         f"by {col.max():+.4f} (all bands: {full[f'{metric}_{name}']:.4f}).")


def _parents(freq: pd.DataFrame, node: str) -> str:
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


# --- figures -----------------------------------------------------------------------------------------------
def _figure(ncols: int, nrows: int = 1, height: float = 3.0, **kw: Any) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    from interpret.plots._style import PAGE_WIDTH

    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, height), layout="constrained", squeeze=False,
                             **kw)
    return fig, axes



def fig_sample(ctx: Any) -> Any:
    """The sample: g-r colour against spec-z coloured by stellar mass, and mass against redshift."""
    cat = ctx.load("data").catalog
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
    axes[0, 0].set_title(f"{ctx.load('data').name.upper()} sample, N = {len(cat)}", loc="left", pad=12)
    return fig


def fig_predictions(ctx: Any) -> Any:
    """Held-out z_phot vs z_spec and predicted vs kcorrect mass, with bias, sigma_NMAD and eta."""
    cat, pred, p = ctx.load("data").catalog, ctx.load("predictions"), ctx.params
    test = pred["test"]
    fig, axes = _figure(2, height=3.55)
    z = ip.metrics.evaluate(cat["redshift"].to_numpy(float)[test], pred["z_phot"][test], redshift=True,
                            threshold=p.outlier_threshold, quantity="redshift")
    m = ip.metrics.evaluate(cat["log_mstar"].to_numpy(float)[test], pred["mass_pred"][test],
                            threshold=p.mass_outlier_dex, quantity="log M*")
    ip.plots.metrics.plot_predictions(z, ax=axes[0, 0])
    ip.plots.metrics.plot_predictions(m, ax=axes[0, 1])
    target = (ctx.config.get("data") or {}).get("target", "redshift")
    user = model_name(ctx, "") if ctx.config.get("model") else ""
    zname = user if user and target == "redshift" else "reference MLP on magnitudes"
    mname = user if user and target == "log_mstar" else "reference MLP"
    axes[0, 0].set(xlabel=r"$z_\mathrm{spec}$", ylabel=r"$z_\mathrm{phot}$" + f" ({zname})")
    axes[0, 1].set(xlabel=r"$\log_{10}(M_*/\mathrm{M}_\odot)$, kcorrect",
                   ylabel=r"$\log_{10}(M_*/\mathrm{M}_\odot)$" + f", {mname}")
    for ax, k in zip(axes[0], "ab"):
        _panel(ax, k)
    return fig


_STRATEGY_LABEL = {"inpaint": "masked, inpainted", "mean": "masked, mean fill", "median": "masked, median fill",
                   "zero": "masked, zero fill", "noise": "masked, noise fill"}


def _metric_label(task: str, metric: str) -> str:
    label = ip.plots.ablation._metric_label(metric)
    return label + ("" if task == "photoz" else " (dex)")


def fig_shapley(ctx: Any) -> Any:
    """Exact band Shapley values (decrease of the error metric) per fill, with bootstrap standard errors."""
    from interpret.plots._style import color_cycle

    strategies = list(ctx.params.strategies)
    fig, axes = _figure(2, height=2.9)
    width = 0.8 / len(strategies)
    for ax, task, k in zip(axes[0], TASKS, "ab"):
        sums = []
        for j, (strategy, colour) in enumerate(zip(strategies, color_cycle())):
            r = ctx.load(f"shapley_{task}_{strategy}")
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
        ax.set_title(f"{_TITLE[task]}: Σ = " + ", ".join(sums), loc="left")
        _panel(ax, k)
    n_boot = ctx.load(f"shapley_photoz_{strategies[0]}").details.get("n_boot", 0)
    fig.legend(loc="outside upper center", ncol=len(strategies) + 1, fontsize=7,
               title=f"exact Shapley values over all band subsets; error bars: ±1σ over {n_boot} galaxy "
                     "bootstraps", title_fontsize=7)
    return fig


def _null_locator() -> Any:
    from matplotlib.ticker import NullLocator

    return NullLocator()


def fig_interactions(ctx: Any) -> Any:
    """Pairwise Shapley interaction indices of the bands (headline fill), photo-z and mass."""
    strategy = ctx.params.strategies[0]
    fig, axes = _figure(2, height=3.2)
    for ax, task, k in zip(axes[0], TASKS, "ab"):
        ip.plots.ablation.plot_interactions(ctx.load(f"shapley_{task}_{strategy}"), ax=ax)
        ax.set_title(f"{_TITLE[task]}: pairwise interactions ({strategy})", loc="left")
        _panel(ax, k)
    return fig


def fig_ablation(ctx: Any) -> Any:
    """Leave-one-band-out: the metric when the model is masked (each fill) or retrained without the band."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from interpret.plots._style import color_cycle

    fig, axes = _figure(2, height=3.2)
    markers = "osD^v"
    for ax, task, k in zip(axes[0], TASKS, "ab"):
        retrain = ctx.load(f"retrain_{task}")
        metric = retrain.metrics[0]
        runs = [(_STRATEGY_LABEL.get(s, s) + ": model relies on", ctx.load(f"mask_{task}_{s}"))
                for s in ctx.params.strategies]
        runs.append((f"retrained ({ctx.params.retrain_model.upper()}): information carried", retrain))
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
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(axis="y", color="0.9", lw=0.5)
        ax.set_xlabel(f"{_metric_label(task, metric)} without the band")
        ax.set_title(f"{_TITLE[task]} (dashed: all bands; grey: trained model)", loc="left")
        _panel(ax, k)
    fig.legend(loc="outside upper center", ncol=len(runs), fontsize=7, handletextpad=0.3, columnspacing=1.2)
    return fig


def fig_pid(ctx: Any) -> Any:
    """PID of redshift and mass from two colour splits, several measures, bootstrap CIs (bits)."""
    done = ctx.load("pid")
    splits = [s for s in ctx.params.pid_splits if any(k[1] == s for k in done)]
    fig, axes = _figure(2, nrows=max(len(splits), 1), height=2.6 * max(len(splits), 1))
    for i, split in enumerate(splits):
        for j, target in enumerate(TASKS.values()):
            ax = axes[i, j]
            res = {m: done[(target, split, m)] for m in ctx.params.pid_measures if (target, split, m) in done}
            ip.plots.pid.plot_measure_comparison(res, ax=ax)
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


def fig_causal_graph(ctx: Any) -> Any:
    """PC graph over redshift, mass, r, colours and the predictions: modal marks, bootstrap frequencies."""
    freq = ctx.load("edge_stability")
    tiers = freq.attrs["tiers"]
    # layout rows only (the search used the four tiers): the two causes side by side above the photometry,
    # r next to its child z-Ks, each prediction under its main parent; fewer edges cross this way
    phot = [c for c in tiers[2] if c != "r"]
    phot = [*phot[:-1], *(["r"] if "r" in tiers[2] else []), *phot[-1:]]
    rows = [[*tiers[1], *tiers[0]], phot, tiers[3][::-1]]
    fig = ip.plots.causal.plot_graph(freq, min_frequency=float(ctx.params.min_edge_frequency), tiers=rows)
    fig.axes[0].set_title(f"{freq.attrs['method'].upper()} ({freq.attrs['test']}, α = {freq.attrs['alpha']}), "
                          f"tiers z → M* → photometry → predictions; edges in ≥ "
                          f"{ctx.params.min_edge_frequency:.0%} of {freq.attrs['n_boot']} bootstraps "
                          "(numbers: frequency)", loc="left", fontsize=7)
    return fig


def fig_edge_stability(ctx: Any) -> Any:
    """Bootstrap frequency of every edge mark (pairs adjacent in >= 10 % of resamples)."""
    freq = ctx.load("edge_stability")
    return ip.plots.causal.plot_edge_stability(freq, kind="bar", min_frequency=0.1)


FIGURES = [fig_sample, fig_predictions, fig_shapley, fig_interactions, fig_ablation, fig_pid, fig_causal_graph,
           fig_edge_stability]
