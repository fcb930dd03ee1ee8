"""Pure steps of the ``sdss_real`` study: (galaxies, estimators, parameters, seed) -> tables and result objects.

The steps answer, for real SDSS galaxies with ugriz + 2MASS photometry and kcorrect stellar masses: how well
two photometry-only networks recover spec-z and stellar mass on held-out galaxies (:func:`predictions`,
:func:`metrics_table`); which bands they *rely on* (masking the trained model, :func:`ablation_mask`) and
which carry *information* the others lack (retraining without the band, :func:`ablation_retrain`), with
exact band Shapley values and bootstrap errors (:func:`shapley_with_errors`); how the information colours
hold about redshift and mass is split between two colour groups (:func:`pid_sources`,
:func:`reduce_sources`, :func:`pid_one`); and which conditional independences hold between redshift, mass,
photometry and the predictions (:func:`causal_frame`, :func:`edge_stability`).

None reads a config, touches a run context, writes a file of its own or keeps state (the reference trainer
caches its weights where ``cache_dir`` says). :func:`run_all` wires them in the order the study runs them and
returns the dict the figure functions read, so the study runs from a notebook on your own arrays::

    from interpret.studies.sdss_real import Params, figures, steps
    out = steps.run_all(Params(fast=True), seed=0, n=3000)
    fig = figures.fig_shapley(out)
"""
from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ... import ablation as _ablation
from ... import causal as _causal
from ... import metrics as _metrics
from ... import pid as _pid
from ...exceptions import EstimationWarning
from .._data import colours, held_out
from .._models import RefitHGB, RefitMLP, plain_rmse, probe_predict
from .params import PID_SPLITS, SdssRealParams

__all__ = ["TASKS", "PRED", "TASK_TITLES", "PID_SPLITS", "load_data", "select_sample", "inputs", "test_rows",
           "fit_rows", "sample_problem", "model_problem", "MIN_TEST_ROWS", "MIN_FIT_ROWS", "train_options", "reference_estimator", "predictions", "model_labels", "metrics_table",
           "evaluations", "metric_setup", "layout", "ablation_mask", "ablation_retrain", "ablation_table",
           "shapley_with_errors", "pid_sources", "reduce_sources", "pid_decompose", "pid_one", "quiet", "caveat_lines", "pid_table", "causal_frame",
           "causal_tiers", "edge_stability", "edge_attrs", "edge_table", "run_all"]

#: The two tasks: name -> target column.
TASKS = {"photoz": "redshift", "stellar_mass": "log_mstar"}
#: The prediction column of each task in :func:`predictions`.
PRED = {"photoz": "z_phot", "stellar_mass": "mass_pred"}
#: How figures and notes name each task.
TASK_TITLES = {"photoz": "photo-z", "stellar_mass": "stellar mass"}


# --- data --------------------------------------------------------------------------------------------------
def select_sample(catalog: pd.DataFrame, bands: Sequence[str], *, max_mag_err: float = 0.5, n: int | None = None,
                  seed: int | np.random.Generator | None = None, split: np.ndarray | None = None,
                  band_set: Any = None, source: str = "user") -> Any:
    """The quality-cut (and optionally subsampled) catalogue as a :class:`~interpret.datasets.Dataset`.

    Rows need finite magnitudes (not NaN, not inf) in every band of ``bands``, ``redshift`` and ``log_mstar``, and every
    ``<band>_err`` column present below ``max_mag_err``; ``n`` keeps a seeded random subset of them (in
    catalogue order). ``split`` (one label per catalogue row, ``"test"`` for held-out rows) follows the rows
    into ``meta["split"]``; ``meta`` also counts the parent rows and those passing the cut.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> cat = pd.DataFrame({"g": [18.0, np.nan, 19.0], "r": [17.5, 18.0, 18.2], "g_err": [0.1, 0.1, 0.9],
    ...                     "redshift": [0.1, 0.2, 0.3], "log_mstar": [10.5, 10.9, 11.2]})
    >>> ds = select_sample(cat, ["g", "r"])     # row 1 lacks g, row 2 has a 0.9 mag g error
    >>> len(ds), ds.meta
    (1, {'n_parent': 3, 'n_cut': 1})
    """
    from ...datasets import Dataset
    from .._data import BandNames

    bands = list(bands)
    ok = np.isfinite(catalog[[*bands, "redshift", "log_mstar"]].to_numpy(float)).all(axis=1)
    errs = [f"{b}_err" for b in bands if f"{b}_err" in catalog]
    if errs:
        ok &= (catalog[errs] < float(max_mag_err)).all(axis=1).to_numpy()
    rows = np.flatnonzero(ok)
    if n is not None and n < rows.size:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))
    sample = catalog.iloc[rows][[*bands, "redshift", "log_mstar", *errs]].reset_index(drop=True).astype(float)
    meta: dict[str, Any] = {"n_parent": len(catalog), "n_cut": int(ok.sum())}
    if split is not None:
        meta["split"] = np.asarray(split)[rows]
    return Dataset(name=source, catalog=sample, bands=band_set if band_set is not None else BandNames(bands),
                   source=source, meta=meta)


def load_data(params: SdssRealParams, *, n: int | None = None, seed: int | np.random.Generator | None = None
              ) -> Any:
    """kcorrect's SDSS galaxies (``ip.datasets.sdss_sample()``) after :func:`select_sample`'s cut."""
    from ...datasets import sdss_sample

    ds = sdss_sample()
    return select_sample(ds.catalog, params.bands, max_mag_err=params.max_mag_err, n=n, seed=seed,
                         band_set=ds.bands, source="sdss")


def inputs(cat: pd.DataFrame, bands: Sequence[str], task: str) -> np.ndarray:
    """The model input of ``task``: magnitudes in ``bands`` order (+ a last ``redshift`` column for mass)."""
    cols = [*bands, "redshift"] if task == "stellar_mass" else list(bands)
    return cat[cols].to_numpy(np.float32)


def test_rows(data: Any, seed: int) -> np.ndarray:
    """The held-out rows: the user's test rows when ``meta["split"]`` is given, else the reference split's."""
    if "split" in data.meta:
        return np.flatnonzero(data.meta["split"] == "test")
    return held_out(len(data), seed)


def fit_rows(data: Any) -> Any:
    """What the study's own models are fitted on: every row but the user's test rows (all rows without a
    split: the reference trainer then holds out its own seeded split)."""
    if "split" not in data.meta:
        return data
    keep = np.flatnonzero(data.meta["split"] != "test")
    return dataclasses.replace(data, catalog=data.catalog.iloc[keep].reset_index(drop=True), meta={})


#: Fewest held-out rows the study runs on (its causal search needs three more rows than variables).
MIN_TEST_ROWS = 20
#: Fewest rows the study's own models (the other task's reference MLP, the retrain refits) are fitted on.
MIN_FIT_ROWS = 40


def sample_problem(data: Any, seed: int, n_colours: int) -> str | None:
    """What makes the cut sample too small (None when nothing does): fewer held-out rows than
    ``max(MIN_TEST_ROWS, n_colours + 8)`` (redshift, mass, r, the colours and two predictions, plus three), or
    fewer than :data:`MIN_FIT_ROWS` rows to fit the study's own models on."""
    need = max(MIN_TEST_ROWS, n_colours + 8)
    test, user = len(test_rows(data, seed)), "split" in data.meta
    if test < need:
        fix = ("mark more rows as 'test'" if user else
               f"give at least {int(np.ceil(need / 0.15))} galaxies that pass the cuts (15 % are held out)")
        return (f"{'the split marks' if user else 'the reference split holds out'} {test} of the {len(data)} "
                f"galaxies that pass the cuts as test rows; the held-out metrics and the causal search need at "
                f"least {need}: {fix}")
    fit = len(data) - test if user else len(data)
    if fit < MIN_FIT_ROWS:
        return (f"the split leaves {fit} galaxies that are not 'test' (after the cuts) to fit the study's own "
                f"models on (the other task's reference MLP and the retrain refits); they need at least "
                f"{MIN_FIT_ROWS}: mark more rows as 'train' or 'val'")
    return None


def model_problem(est: Any, cat: pd.DataFrame, bands: Sequence[str], task: str, *,
                  bands_key: str = "'bands'") -> str | None:
    """What keeps ``est`` from giving one value per galaxy from :func:`inputs` (None when nothing does);
    ``bands_key`` names where the caller's user sets the bands."""
    names = [*bands, "redshift"] if task == "stellar_mass" else list(bands)
    probe = inputs(cat.iloc[:2], bands, task)
    error, shape = probe_predict(est, probe)
    if error:
        return (f"the {TASK_TITLES[task]} model fails on its {len(names)} inputs {names} ({error}); the inputs are "
                f"the magnitudes in {bands_key} order"
                + (" plus a last 'redshift' column" if task == "stellar_mass" else "") + f": make {bands_key} "
                "list the model's inputs")
    if shape is not None:
        return (f"the {TASK_TITLES[task]} model returns shape {shape[1:]} per galaxy; the study needs one "
                "value per galaxy, shape (n,) or (n, 1): wrap the model to return its point estimate")
    return None


# --- models and predictions --------------------------------------------------------------------------------
def train_options(params: SdssRealParams, *, device: str = "cpu", cache_dir: Any = None) -> dict[str, Any]:
    """Keywords of :func:`interpret.mock.train_reference` for the study's MLPs (one torch thread, no bar)."""
    return {"fast": bool(params.fast), "n_epochs": int(params.n_epochs) or None, "progress": False,
            "num_threads": 1, "device": device, "cache_dir": cache_dir}


def reference_estimator(data: Any, bands: Sequence[str], task: str, params: SdssRealParams, *, seed: int,
                        device: str = "cpu", cache_dir: Any = None) -> Any:
    """The reference MLP of ``task`` trained on :func:`fit_rows` (weights cached in ``cache_dir``)."""
    from ... import mock

    return mock.train_reference(fit_rows(data), task=task, bands=list(bands), seed=seed,
                                **train_options(params, device=device, cache_dir=cache_dir))


def predictions(data: Any, bands: Sequence[str], estimators: Mapping[str, Any] | Callable[[str], Any], *,
                seed: int) -> dict[str, np.ndarray]:
    """Both estimators' predictions for every galaxy, and the held-out rows (``"test"``).

    ``estimators`` maps each task of :data:`TASKS` to its estimator (a mapping, or a function of the task
    name, so an estimator is only trained when it is needed). Keys: ``test``, ``z_phot``, ``mass_pred``.
    """
    get = estimators.__getitem__ if isinstance(estimators, Mapping) else estimators
    out = {"test": test_rows(data, seed)}
    for task in TASKS:
        out[PRED[task]] = np.asarray(get(task).predict(inputs(data.catalog, bands, task), batch_size=2048,
                                                       progress=False), float).reshape(-1)
    return out


def model_labels(user_name: str = "", target: str = "redshift") -> dict[str, str]:
    """How the figures name each task's model: ``user_name`` for the task of ``target``, else the reference."""
    return {"photoz": user_name if user_name and target == "redshift" else "reference MLP on magnitudes",
            "stellar_mass": user_name if user_name and target == "log_mstar" else "reference MLP"}


def metrics_table(cat: pd.DataFrame, pred: dict[str, np.ndarray], p: SdssRealParams) -> pd.DataFrame:
    """Held-out metrics of both estimators, with 68 % bootstrap intervals (200 resamples, seed 0)."""
    test = pred["test"]
    rows = []
    for task, col in TASKS.items():
        y, yp = cat[col].to_numpy(float)[test], pred[PRED[task]][test]
        z = task == "photoz"
        thr = p.outlier_threshold if z else p.mass_outlier_dex
        funcs = {"bias": lambda a, b, z=z: _metrics.bias(a, b, redshift=z),
                 "sigma_nmad": lambda a, b, z=z: _metrics.sigma_nmad(a, b, redshift=z),
                 "outlier_fraction": lambda a, b, z=z, t=thr: _metrics.outlier_fraction(
                     a, b, threshold=t, redshift=z),
                 "rmse": lambda a, b: _metrics.rmse(a, b)}
        rng = np.random.default_rng(0)
        boot = [rng.integers(0, len(y), len(y)) for _ in range(200)]
        for name, f in funcs.items():
            draws = [f(y[b], yp[b]) for b in boot]
            rows.append({"task": task, "metric": name, "value": f(y, yp), "ci16": np.percentile(draws, 16),
                         "ci84": np.percentile(draws, 84), "n_test": len(test),
                         "unit": "dz/(1+z)" if z and name != "rmse" else ("redshift" if z else "dex")})
    return pd.DataFrame(rows)


def evaluations(cat: pd.DataFrame, pred: dict[str, np.ndarray], p: SdssRealParams) -> dict[str, Any]:
    """Held-out :func:`interpret.metrics.evaluate` reports per task (what the predictions figure draws)."""
    test = pred["test"]
    return {"photoz": _metrics.evaluate(cat["redshift"].to_numpy(float)[test], pred["z_phot"][test],
                                        redshift=True, threshold=p.outlier_threshold, quantity="redshift"),
            "stellar_mass": _metrics.evaluate(cat["log_mstar"].to_numpy(float)[test], pred["mass_pred"][test],
                                              threshold=p.mass_outlier_dex, quantity="log M*")}


# --- ablation ----------------------------------------------------------------------------------------------
def metric_setup(task: str, p: SdssRealParams) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The leave-one-out metrics of ``task`` (the first one is the headline) and their keywords; a photo-z
    ``rmse`` is on plain residuals, as in the metrics table (:func:`~interpret.studies._models.plain_rmse`)."""
    if task == "photoz":
        return ("sigma_nmad", "outlier_fraction", "bias", plain_rmse), {"threshold": p.outlier_threshold}
    return ("rmse", "sigma_nmad", "bias"), {}


def layout(bands: Sequence[str]) -> dict[str, tuple[int, int, int]]:
    """Band layout of a magnitude matrix: band ``j`` is column ``j`` (a mass model's redshift column is kept)."""
    return {b: (0, 1, j) for j, b in enumerate(bands)}


def ablation_mask(est: Any, cat: pd.DataFrame, pred: dict, bands: list[str], task: str, p: SdssRealParams,
                  seed: int, strategy: str) -> Any:
    """Masking ablation of the trained model on the held-out split (fill statistics from the training rows)."""
    test, train = pred["test"], np.setdiff1d(np.arange(len(cat)), pred["test"])
    x = inputs(cat, bands, task).astype(float)
    metrics, kwargs = metric_setup(task, p)
    return _ablation.band_ablation(est, x[test], cat[TASKS[task]].to_numpy(float)[test], bands=bands,
                                   band_layout=layout(bands), strategy=_ablation.Fill(strategy, x[train]),
                                   metrics=metrics, metric_kwargs=kwargs, redshift=task == "photoz", seed=seed,
                                   n_jobs=1, progress=False)


def ablation_retrain(data: Any, bands: list[str], task: str, p: SdssRealParams, *, seed: int,
                     n_jobs: int | None = None, progress: bool | None = None, device: str = "cpu",
                     cache_dir: Any = None) -> Any:
    """Retrain-mode ablation: one model per leave-one-out subset, scored on a seeded held-out split.

    The refits (``p.retrain_model``: the reference MLP, or scikit-learn's gradient boosting) see
    :func:`fit_rows` only, never the user's test rows; ``device``/``cache_dir`` go to the MLP trainer.
    """
    cat = fit_rows(data).catalog
    cols = [*bands, "redshift"] if task == "stellar_mass" else list(bands)
    # the refit classes live in the package, so worker processes import them: n_jobs > 1 runs in parallel
    fit = (RefitMLP(task, data.bands, TASKS[task], train_options(p, device=device, cache_dir=cache_dir))
           if p.retrain_model == "mlp" else RefitHGB(task))
    metrics, kwargs = metric_setup(task, p)
    return _ablation.band_ablation(None, cat[cols].astype(float), cat[TASKS[task]].to_numpy(float),
                                   bands=bands, retrain=_ablation.RetrainSpec(fit, test_size=p.retrain_test_size),
                                   metrics=metrics, metric_kwargs=kwargs, redshift=task == "photoz",
                                   seed=seed, n_jobs=n_jobs, progress=progress)


def ablation_table(masked: dict[str, Any], retrain: Any) -> pd.DataFrame:
    """Leave-one-out table: every metric under each masking fill and under retraining, with deltas."""
    out = retrain.table[["label", "dropped"]].copy()
    for name, res in [*((f"mask_{k}", v) for k, v in masked.items()), ("retrain", retrain)]:
        table = res.table.set_index("label")
        for m in res.metrics:
            out[f"{m}_{name}"] = table.loc[out["label"], m].to_numpy()
            out[f"delta_{m}_{name}"] = table.loc[out["label"], f"delta_{m}"].to_numpy()
    return out


def shapley_with_errors(est: Any, cat: pd.DataFrame, pred: dict, bands: list[str], task: str,
                        p: SdssRealParams, seed: int, strategy: str) -> Any:
    """Exact band Shapley values + interactions on the held-out split; errors from a galaxy bootstrap."""
    test, train = pred["test"], np.setdiff1d(np.arange(len(cat)), pred["test"])
    x = inputs(cat, bands, task).astype(float)
    y = cat[TASKS[task]].to_numpy(float)
    metric = p.photoz_metric if task == "photoz" else p.mass_metric
    kw = {"threshold": p.outlier_threshold} if (task == "photoz" and metric == "outlier_fraction") else {}

    def run(rows: np.ndarray) -> Any:
        return _ablation.band_shapley(est, x[rows], y[rows], bands=bands, band_layout=layout(bands),
                                      metric=metric, metric_kwargs=kw, redshift=task == "photoz",
                                      strategy=_ablation.Fill(strategy, x[train]),
                                      sampling=_ablation.ShapleySampling(exact=True), seed=seed, n_jobs=1,
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
    """The colour groups of one split of :data:`PID_SPLITS` (None when a band is missing)."""
    groups = PID_SPLITS[split]
    cols = colours(cat, [c for g in groups.values() for c in g])
    if any(c not in cols for g in groups.values() for c in g):
        return None
    return {name: cols[g].to_numpy(float) for name, g in groups.items()}


def reduce_sources(sources: dict[str, np.ndarray], target: np.ndarray, n_splits: int, seed: int
                   ) -> dict[str, np.ndarray]:
    """Each colour group -> its cross-fitted regression summary E[target | group] (one variable)."""
    from threadpoolctl import threadpool_limits

    from ...pid.discretize import reduce_source

    with threadpool_limits(1):
        return {name: reduce_source(x, target, method="regression", n_splits=n_splits, seed=seed, name=name)[0]
                for name, x in sources.items()}


def pid_decompose(summaries: dict[str, np.ndarray], target: np.ndarray, measure: str, p: SdssRealParams,
                  seed: int) -> Any:
    """One binned decomposition of ``target`` from the source summaries (bootstrap CIs); warnings propagate."""
    resampling = _pid.Resampling(n_boot=int(p.pid_n_boot), ci_level=float(p.pid_ci_level))
    return _pid.decompose(target, summaries, measure=measure, bins=int(p.pid_bins), resampling=resampling,
                          seed=seed, n_jobs=1, progress=False)


def quiet(fn: Any) -> tuple[Any, list[str]]:
    """Run ``fn``; its estimation warnings are returned (for the report notes) instead of raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        r = fn()
    return r, [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]


def caveat_lines(caveats: Mapping[tuple[str, str, str], Sequence[str]]) -> list[str]:
    """Report lines of the PID estimation warnings: one per (target, colour split, message), naming every
    measure it applies to (the measures share their binning, hence their sparse-bin warning)."""
    return [f"PID caveat, {target} from {split} colours ({', '.join(measures)}): {message}"
            for (target, split, message), measures in caveats.items()]


def pid_one(summaries: dict[str, np.ndarray], target: np.ndarray, measure: str, p: SdssRealParams,
            seed: int) -> tuple[Any, list[str]]:
    """:func:`pid_decompose` with its estimation warnings returned (for the notes) instead of raised."""
    return quiet(lambda: pid_decompose(summaries, target, measure, p, seed))


def pid_table(results: Mapping[tuple[str, str, str], Any]) -> pd.DataFrame | None:
    """One long table of PID results keyed ``(target, split, measure)``; None when there are none."""
    rows = [r.to_frame().reset_index().assign(target=t, split=s, measure=m) for (t, s, m), r in results.items()]
    return pd.concat(rows, ignore_index=True) if rows else None


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
        frame[PRED[task]] = pred[PRED[task]][test]
    return frame


def causal_tiers(frame: pd.DataFrame) -> list[list[str]]:
    """redshift -> stellar mass -> magnitude and colours -> predictions."""
    middle = [c for c in frame.columns if c not in ("redshift", "log_mstar", *PRED.values())]
    return [["redshift"], ["log_mstar"], middle, list(PRED.values())]


def edge_stability(frame: pd.DataFrame, p: SdssRealParams, *, seed: int, n_jobs: int | None = None,
                   progress: bool | None = None) -> pd.DataFrame:
    """Bootstrap frequency of every edge mark of ``p.causal_method`` over :func:`causal_frame`, in tiers."""
    return _causal.edge_stability(frame, n_boot=int(p.causal_n_boot), method=p.causal_method, test=p.causal_test,
                                  alpha=float(p.causal_alpha), background=causal_tiers(frame), n_jobs=n_jobs,
                                  seed=seed, progress=progress)


def edge_attrs(frame: pd.DataFrame, p: SdssRealParams) -> dict[str, Any]:
    """What the graph figures read from ``freq.attrs`` (set after a cache load, which keeps no attrs)."""
    return {"n_boot": int(p.causal_n_boot), "method": p.causal_method, "test": p.causal_test,
            "alpha": float(p.causal_alpha), "nodes": list(frame.columns), "tiers": causal_tiers(frame)}


def edge_table(freq: pd.DataFrame) -> pd.DataFrame:
    """The edge frequencies as a table with a ``present`` column, most frequent pairs first."""
    table = freq.reset_index()
    table.insert(2, "present", 1.0 - table["absent"])
    return table.sort_values("present", ascending=False)


# --- everything --------------------------------------------------------------------------------------------
def run_all(params: SdssRealParams, *, data: Any = None, estimators: Mapping[str, Any] | None = None,
            seed: int | np.random.Generator | None = None, n: int | None = None, n_jobs: int | None = None,
            progress: bool | None = None, device: str = "cpu", cache_dir: Any = None) -> dict[str, Any]:
    """Every step in the study's order, without a runner; returns what the figure functions read.

    Parameters
    ----------
    params : SdssRealParams
        The study's parameters (``Params()`` for the defaults; ``fast=True`` trains for a few epochs).
    data : Dataset or pandas.DataFrame, optional
        A Dataset as :func:`select_sample` returns it (used as given; ``meta["split"] == "test"`` marks
        the held-out rows), or a catalogue with one AB magnitude column per band of ``params.bands`` plus
        ``redshift`` and ``log_mstar`` (cut and subsampled by :func:`select_sample`). Default: kcorrect's
        SDSS galaxies (:func:`load_data`).
    estimators : mapping, optional
        ``{"photoz": ..., "stellar_mass": ...}``: your trained estimators (inputs as :func:`inputs`); a task
        left out gets the reference MLP, trained on :func:`fit_rows` (weights cached in ``cache_dir``,
        default the per-user cache).
    seed : int, Generator or None, default None
        Seeds the subsample, the reference split, the training and every resampling (None: fresh; the int
        used is ``out["seed"]``).
    n : int, optional
        Galaxies kept after the quality cut (a seeded random subset; ignored for a Dataset).
    n_jobs, progress, device :
        Workers of the retrain ablation and the causal bootstrap; their progress bars; the torch device.

    Returns
    -------
    dict
        The step outputs under the keys the run context stores them (``data``, ``predictions``,
        ``retrain_<task>``, ``mask_<task>_<fill>``, ``shapley_<task>_<fill>``, ``pid``, ``edge_stability``,
        ... as :func:`interpret.studies.sdss_real.figures.needs` lists), ``tables`` (the run's
        ``tables/*.csv`` by name), ``notes`` (skipped PID splits, estimation warnings) and ``seconds``.

    Examples
    --------
    >>> from interpret.studies.sdss_real import Params, figures, steps
    >>> out = steps.run_all(Params(fast=True), n=3000, seed=0)            # doctest: +SKIP
    >>> out["tables"]["metrics"]                                          # doctest: +SKIP
    >>> fig = figures.fig_shapley(out)                                    # doctest: +SKIP
    """
    from ..._seeding import int_seed

    seed = int_seed(seed)
    if data is None:
        data = load_data(params, n=n, seed=seed)
    elif isinstance(data, pd.DataFrame):
        data = select_sample(data, params.bands, max_mag_err=params.max_mag_err, n=n, seed=seed)
    from ... import load_estimator

    bands, trained = list(params.bands), {}
    given = {task: load_estimator(est) for task, est in (estimators or {}).items()}
    problem = sample_problem(data, seed, len(params.causal_colours))
    if problem:
        raise ValueError(f"run_all(): 'data': {problem}")
    for task, est in given.items():
        problem = model_problem(est, data.catalog, bands, task) if task in TASKS else None
        if problem:
            raise ValueError(f"run_all(): estimators[{task!r}]: {problem}")

    def get(task: str) -> Any:
        if task not in trained:
            trained[task] = given[task] if task in given else reference_estimator(
                data, bands, task, params, seed=seed, device=device, cache_dir=cache_dir)
        return trained[task]

    out: dict[str, Any] = {"params": params, "seed": seed, "data": data, "bands": bands, "tables": {},
                           "notes": [], "seconds": {}}
    out["model_names"] = {t: "user model" if t in given else model_labels()[t] for t in TASKS}
    t0 = time.perf_counter()
    pred = out["predictions"] = predictions(data, bands, get, seed=seed)
    out["seconds"]["predictions"] = time.perf_counter() - t0
    out["tables"]["metrics"] = metrics_table(data.catalog, pred, params)
    out["evaluations"] = evaluations(data.catalog, pred, params)
    _run_ablation(out, get, n_jobs=n_jobs, progress=progress, device=device, cache_dir=cache_dir)
    _run_pid(out)
    t0 = time.perf_counter()
    frame = causal_frame(data.catalog, pred, list(params.causal_colours))
    freq = out["edge_stability"] = edge_stability(frame, params, seed=seed, n_jobs=n_jobs, progress=progress)
    freq.attrs.update(edge_attrs(frame, params))
    out["tables"]["edge_stability"] = edge_table(freq)
    out["seconds"]["edge_stability"] = time.perf_counter() - t0
    return out


def _run_ablation(out: dict[str, Any], get: Callable[[str], Any], **kw: Any) -> None:
    p, data, bands, seed, pred = out["params"], out["data"], out["bands"], out["seed"], out["predictions"]
    for task in TASKS:
        t0 = time.perf_counter()
        retrain = out[f"retrain_{task}"] = ablation_retrain(data, bands, task, p, seed=seed, **kw)
        masked = {}
        for strategy in p.strategies:
            masked[strategy] = out[f"mask_{task}_{strategy}"] = ablation_mask(
                get(task), data.catalog, pred, bands, task, p, seed, strategy)
            shp = out[f"shapley_{task}_{strategy}"] = shapley_with_errors(
                get(task), data.catalog, pred, bands, task, p, seed, strategy)
            out["tables"][f"shapley_{task}_{strategy}"] = shp.to_frame().reset_index()
        out["tables"][f"ablation_{task}"] = ablation_table(masked, retrain)
        out["seconds"][f"ablation_{task}"] = time.perf_counter() - t0


def _run_pid(out: dict[str, Any]) -> None:
    p, cat, seed = out["params"], out["data"].catalog, out["seed"]
    t0, done = time.perf_counter(), {}
    caveats: dict[tuple[str, str, str], list[str]] = {}
    for target_name in TASKS.values():
        target = cat[target_name].to_numpy(float)
        for split in p.pid_splits:
            sources = pid_sources(cat, split)
            if sources is None:
                note = f"PID split '{split}' skipped: its colours need bands missing from the data."
                out["notes"] += [note] if note not in out["notes"] else []
                continue
            summ = out[f"pid_sources_{target_name}_{split}"] = reduce_sources(sources, target, int(p.pid_n_splits),
                                                                              seed)
            for measure in p.pid_measures:
                r, warns = pid_one(summ, target, measure, p, seed)
                if warns:
                    caveats.setdefault((target_name, split, warns[0]), []).append(measure)
                done[(target_name, split, measure)] = out[f"pid_{target_name}_{split}_{measure}"] = r
    out["pid"] = done
    out["notes"].extend(caveat_lines(caveats))
    table = pid_table(done)
    if table is not None:
        out["tables"]["pid"] = table
    out["seconds"]["pid"] = time.perf_counter() - t0
