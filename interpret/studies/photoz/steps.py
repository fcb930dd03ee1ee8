"""Pure steps of the ``photoz`` study: (data, estimator, parameters) -> tables and result objects.

None of these functions reads a config, writes a file or keeps state. :func:`run_all` runs them in the
study's order on a catalogue and an estimator you hold in a notebook and returns what the figure functions
(:mod:`interpret.studies.photoz.figures`) read; :func:`interpret.studies.photoz.compute` wires the same steps
for a config run and caches each output by content. :func:`findings` writes the report's lines from either.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..._seeding import legacy_seed
from ...exceptions import ConfigError
from .._data import Split, StudyData, fit_subset, split_rows
from .._models import plain_rmse, probe_predict
from .params import Params

__all__ = ["column_bands", "band_layout", "score", "attribution", "masking", "retrain_leave_one_out",
           "shapley", "colour_groups", "pid", "causal_frame", "causal", "baseline_check", "per_band", "load_data",
           "reference_estimator", "predict", "attribution_baseline", "attribution_rows", "pid_sources",
           "colour_pid", "causal_colours", "causal_problem", "causal_max_rows", "edge_attrs", "edge_table", "findings",
           "missing_inputs", "sentinel_note", "SENTINELS", "target_problem", "output_problem", "split_problem", "run_all", "REFERENCE_NAME", "MIN_TEST_ROWS", "MIN_FIT_ROWS"]

#: How the report names the reference model the study trains itself.
REFERENCE_NAME = "reference MLP on magnitudes"

_METRICS = ("bias", "sigma_nmad", "outlier_fraction", plain_rmse)
_METRIC_NAMES = ("bias", "sigma_nmad", "outlier_fraction", "rmse")


def column_bands(columns: Sequence[str], bands: Sequence[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Which bands each input column derives from: ``"g"`` -> (g,), a colour ``"g-r"`` -> (g, r).

    ``bands`` (optional, one entry per column) overrides the column names, e.g. ``["g", "r"]`` for columns
    ``["MAG_G", "MAG_R"]``. A ``bands`` list that names every column but has more entries (the bands a flux
    column was expanded into, ``fluxes = {FLUX = "{band}"}``, with ``columns`` a subset) leaves the column
    names as they are.
    """
    names = list(bands) if bands else list(columns)
    if len(names) != len(columns) and all(c in names for c in columns):
        names = list(columns)
    if len(names) != len(columns):
        raise ValueError(f"[data] bands has {len(names)} entries for {len(columns)} columns; give one band per "
                         "input column, in the same order (\"a-b\" for a colour)")
    return {c: tuple(n.split("-")) for c, n in zip(columns, names)}


def band_layout(col_bands: dict[str, tuple[str, ...]]) -> dict[str, list[tuple[int, int, int]]]:
    """Band -> every input column derived from it (removing a band removes all of them)."""
    layout: dict[str, list[tuple[int, int, int]]] = {}
    for j, bands in enumerate(col_bands.values()):
        for b in bands:
            layout.setdefault(b, []).append((0, 1, j))
    return layout


def score(y_true: np.ndarray, y_pred: np.ndarray, *, model: str, threshold: float = 0.15, n_boot: int = 200,
          ci_level: float = 0.68, seed: int) -> pd.DataFrame:
    """One row of photo-z metrics (dz/(1+z) forms) with bootstrap intervals over galaxies."""
    from ... import metrics

    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    funcs = {"bias": lambda t, p: metrics.bias(t, p, redshift=True),
             "sigma_nmad": lambda t, p: metrics.sigma_nmad(t, p, redshift=True),
             "outlier_fraction": lambda t, p: metrics.outlier_fraction(t, p, threshold=threshold, redshift=True),
             "rmse": lambda t, p: metrics.rmse(t, p)}
    rng = np.random.default_rng(seed)
    boots = [rng.integers(0, len(y_true), len(y_true)) for _ in range(n_boot)]
    lo, hi = 50 * (1 - ci_level), 50 * (1 + ci_level)
    row: dict[str, Any] = {"model": model, "n": len(y_true)}
    for name, f in funcs.items():
        row[name] = f(y_true, y_pred)
        draws = [f(y_true[b], y_pred[b]) for b in boots]
        row[f"{name}_lo"], row[f"{name}_hi"] = (np.percentile(draws, [lo, hi]) if boots else (np.nan, np.nan))
    return pd.DataFrame([row])


def baseline_check(estimator: Any, baseline: np.ndarray, y_train: np.ndarray) -> tuple[float, str | None]:
    """f(baseline), and a warning text when it lies outside the training targets' range."""
    f0 = float(np.asarray(estimator.predict(baseline[None, :].astype(np.float32), progress=False)).reshape(-1)[0])
    lo, hi = np.percentile(y_train, [0.5, 99.5])
    if not lo <= f0 <= hi:
        return f0, (f"f(baseline) = {f0:.3f} lies outside the central 99 % of the training redshifts "
                    f"[{lo:.3f}, {hi:.3f}]: attributions measure distances from an unphysical input; give "
                    "params.baseline = \"reference\" with baseline_values")
    return f0, None


def attribution(estimator: Any, x: np.ndarray, baseline: np.ndarray, col_bands: dict[str, tuple[str, ...]], *,
                n_steps: int = 32, seed: int) -> pd.DataFrame:
    """Integrated gradients (a differentiable model) or feature ablation (any model) from ``baseline``,
    summarised per input column: mean signed and mean absolute attribution, and share of the absolute total."""
    from ... import attribution as attr

    x = np.asarray(x, np.float32)
    base = np.broadcast_to(np.asarray(baseline, np.float32), x.shape).copy()
    if getattr(estimator, "module", None) is not None:
        a = attr.attribute(estimator, x, method="integrated_gradients", baselines=base, n_steps=n_steps,
                           progress=False, seed=seed)
        method = "integrated_gradients"
    else:
        a = attr.attribute(estimator, x, method="feature_ablation", baselines=base, progress=False, seed=seed)
        method = "feature_ablation"
    vals = np.asarray(a.values, float)
    absv = np.abs(vals).mean(axis=0)
    frame = pd.DataFrame({"column": list(col_bands), "bands": ["+".join(b) for b in col_bands.values()],
                          "mean": vals.mean(axis=0), "mean_abs": absv, "share": absv / absv.sum(),
                          "baseline": np.asarray(baseline, float)})
    frame.attrs["method"] = method
    return frame


def per_band(frame: pd.DataFrame) -> pd.DataFrame:
    """Column attributions summed to bands (a colour's share is split equally between its two bands)."""
    rows: dict[str, float] = {}
    for _, r in frame.iterrows():
        parts = r["bands"].split("+")
        for b in parts:
            rows[b] = rows.get(b, 0.0) + r["share"] / len(parts)
    return pd.Series(rows, name="share").rename_axis("band").to_frame()


def masking(estimator: Any, x_test: np.ndarray, y_test: np.ndarray, x_train: np.ndarray,
            layout: dict[str, Any], *, strategy: str, threshold: float, seed: int, n_jobs: int | None) -> Any:
    """Leave-one-band-out masking of the trained model on the test rows (fill statistics from training)."""
    from ...ablation import Fill, band_ablation

    return band_ablation(estimator, x_test, y_test, bands=list(layout), band_layout=layout,
                         strategy=Fill(strategy, reference=x_train), metrics=_METRICS, redshift=True,
                         metric_kwargs={"threshold": threshold}, seed=seed, n_jobs=n_jobs, progress=False)


def _retrain_one(fit: Any, frame_train: pd.DataFrame, y_train: np.ndarray, frame_test: pd.DataFrame,
                 y_test: np.ndarray, keep: list[str], threshold: float, seed: int) -> dict[str, float]:
    from ... import metrics

    model = fit(frame_train[keep], y_train, seed=legacy_seed(seed))
    pred = np.asarray(model.predict(frame_test[keep]), float)
    return {"sigma_nmad": metrics.sigma_nmad(y_test, pred, redshift=True),
            "outlier_fraction": metrics.outlier_fraction(y_test, pred, threshold=threshold, redshift=True),
            "bias": metrics.bias(y_test, pred, redshift=True), "rmse": metrics.rmse(y_test, pred)}


def retrain_leave_one_out(fit: Any, frame_train: pd.DataFrame, y_train: np.ndarray, frame_test: pd.DataFrame,
                          y_test: np.ndarray, col_bands: dict[str, tuple[str, ...]], *, threshold: float,
                          seed: int, n_jobs: int | None) -> pd.DataFrame:
    """Refit on the training rows without each band (every column derived from it), score on the test rows.

    Uses the caller's split exactly, so "held out" means the rows the user marked as test.
    """
    from ...parallel import parallel_map

    cols = list(col_bands)
    bands = list(dict.fromkeys(b for bs in col_bands.values() for b in bs))
    subsets = [("all bands", cols)] + [(f"-{b}", [c for c in cols if b not in col_bands[c]]) for b in bands]
    subsets = [(label, keep) for label, keep in subsets if keep]
    results = parallel_map(lambda lk: _retrain_one(fit, frame_train, y_train, frame_test, y_test, lk[1],
                                                   threshold, seed), subsets, n_jobs=n_jobs, progress=False)
    table = pd.DataFrame([{"label": label, "dropped": label.removeprefix("-") if label != "all bands" else "",
                           **res} for (label, _), res in zip(subsets, results)])
    for m in _METRIC_NAMES:
        table[f"delta_{m}"] = table[m] - table[m].iloc[0]
    return table


def shapley(estimator: Any, x_test: np.ndarray, y_test: np.ndarray, x_train: np.ndarray, layout: dict[str, Any],
            *, metric: str, strategy: str, threshold: float, n_boot: int, seed: int) -> Any:
    """Exact band Shapley values (positive = the band helps) on the test rows, with galaxy-bootstrap errors."""
    import dataclasses

    from ...ablation import Fill, ShapleySampling, band_shapley

    kw = {"threshold": threshold} if metric == "outlier_fraction" else {}

    def run(rows: np.ndarray) -> Any:
        return band_shapley(estimator, x_test[rows], y_test[rows], bands=list(layout), band_layout=layout,
                            metric=plain_rmse if metric == "rmse" else metric, metric_kwargs=kw, redshift=True,
                            strategy=Fill(strategy, reference=x_train), sampling=ShapleySampling(exact=True),
                            seed=seed, n_jobs=1, progress=False)

    rows = np.arange(len(y_test))
    full = run(rows)
    rng = np.random.default_rng([seed, 7])
    boots = [run(rng.integers(0, len(rows), len(rows))) for _ in range(n_boot)]
    if len(boots) < 2:
        return full
    vals = np.array([b.values.to_numpy() for b in boots])
    idx = full.values.index
    return dataclasses.replace(full, standard_errors=pd.Series(vals.std(axis=0, ddof=1), index=idx, name="se"),
                               details={**full.details, "n_boot": len(boots),
                                        "errors": "bootstrap over test galaxies"})


def colour_groups(columns: Sequence[str], catalog: pd.DataFrame, col_bands: dict[str, tuple[str, ...]]
                  ) -> dict[str, list[str]]:
    """Adjacent colours of the single-band inputs, split into a blue and a red half (PID sources)."""
    singles = [c for c in columns if len(col_bands[c]) == 1]
    names = [f"{a}-{b}" for a, b in zip(singles[:-1], singles[1:])]
    if len(names) < 2:
        return {}
    half = (len(names) + 1) // 2
    return {"blue": names[:half], "red": names[half:]}


def pid(target: np.ndarray, sources: dict[str, np.ndarray], *, measure: str, bins: int, n_boot: int,
        n_splits: int, seed: int) -> tuple[Any, list[str]]:
    """PID of the redshift between colour groups, each reduced to its cross-fitted E[z | group] first;
    estimation warnings are returned (for the report) instead of raised."""
    from threadpoolctl import threadpool_limits

    from ... import pid as ippid
    from ...exceptions import EstimationWarning
    from ...pid.discretize import reduce_source

    with threadpool_limits(1):
        summ = {k: reduce_source(v, target, method="regression", n_splits=n_splits,
                                    seed=legacy_seed(seed), name=k)[0]
                for k, v in sources.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        r = ippid.decompose(target, summ, measure=measure, bins=bins, resampling=ippid.Resampling(n_boot=n_boot),
                            seed=seed, n_jobs=1, progress=False)
    return r, [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]


def causal_frame(catalog: pd.DataFrame, rows: np.ndarray, target: str, pred: np.ndarray,
                 colour_names: Sequence[str], extra: Sequence[str] = ()) -> pd.DataFrame:
    """Test rows: target, colours, optional extra columns and the prediction (``z_pred``)."""
    from .._data import colours

    sub = catalog.iloc[rows].reset_index(drop=True)
    frame = pd.DataFrame({target: sub[target].to_numpy(float)})
    for c in extra:
        frame[c] = sub[c].to_numpy(float)
    frame = frame.join(colours(sub, list(colour_names)))
    frame["z_pred"] = np.asarray(pred, float)[rows]
    return frame


def causal(frame: pd.DataFrame, *, test: str, alpha: float, n_boot: int, seed: int, n_jobs: int | None,
           max_rows: int) -> pd.DataFrame:
    """PC edge frequencies over bootstraps, with tiers target -> photometry -> prediction."""
    from ... import causal as ipc

    if len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=legacy_seed(seed)).reset_index(drop=True)
    tiers = [[frame.columns[0]], [c for c in frame.columns[1:-1]], [frame.columns[-1]]]
    freq = ipc.edge_stability(frame, n_boot=n_boot, method="pc", test=test, alpha=alpha, background=tiers,
                              n_jobs=n_jobs, seed=seed, progress=False)
    freq.attrs.update(n_boot=n_boot, test=test, alpha=alpha, tiers=tiers, n_rows=len(frame))
    return freq


# --- data and the reference model --------------------------------------------------------------------------
def load_data(params: Params, *, n: int | None = None, seed: int) -> StudyData:
    """kcorrect's SDSS galaxies (``ip.datasets.sdss_sample()``): rows with finite magnitudes in
    ``params.bands`` and a redshift, every magnitude error below ``params.max_mag_err``; ``n`` of them drawn
    at random with ``seed`` when given."""
    from ...datasets import sdss_sample

    ds = sdss_sample()
    cat = ds.catalog
    cols = list(params.bands)
    ok = cat[[*cols, "redshift"]].notna().all(axis=1).to_numpy().copy()
    errs = [f"{b}_err" for b in cols if f"{b}_err" in cat]
    if errs:
        ok &= (cat[errs] < params.max_mag_err).all(axis=1).to_numpy()
    rows = np.flatnonzero(ok)
    if n is not None and n < rows.size:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))
    sample = cat.iloc[rows][[*cols, "redshift", *errs]].reset_index(drop=True).astype(float)
    return StudyData(catalog=sample, bands=ds.bands, source="sdss", name="SDSS (kcorrect sample)")


def reference_estimator(data: StudyData, columns: list[str], params: Params, *, seed: int, device: str = "cpu",
                        cache_dir: Any = None, progress: bool | None = False, target: str = "redshift") -> Any:
    """The reference photo-z MLP from the ``columns`` magnitudes to the ``target`` redshift column.

    Without a user split it is trained on the reference trainer's seeded split of ``data`` (its held-out rows
    are :func:`interpret.studies._data.split_rows`'s ``"reference"`` test rows); with one, on the rows the user
    did not mark as test (:func:`interpret.studies._data.fit_subset`), so the held-out metrics never see a
    galaxy the model was fitted on. Weights are cached in ``cache_dir`` (default: the per-user cache).
    """
    from ... import mock
    from ...datasets import Dataset

    cat = fit_subset(data).catalog
    if target != "redshift":        # the trainer fits the column named "redshift"
        if "redshift" in columns:
            raise ConfigError(f"photoz: the reference model predicts [data] target {target!r} but 'redshift' is "
                              "one of its input columns; rename that column or give your own [model]")
        cat = cat.drop(columns="redshift", errors="ignore").rename(columns={target: "redshift"})
    ds = Dataset(name="photoz", catalog=cat, bands=data.bands, source=data.source)
    return mock.train_reference(ds, task="photoz", bands=columns, seed=seed, fast=params.fast, progress=progress,
                                num_threads=1, device=device, cache_dir=cache_dir)


def predict(estimator: Any, x: np.ndarray) -> np.ndarray:
    """The estimator's redshift for every row of ``x``, as a flat float array."""
    return np.asarray(estimator.predict(x, progress=False), float).reshape(-1)


# --- attribution, PID and causal inputs --------------------------------------------------------------------
def attribution_baseline(x: np.ndarray, train: np.ndarray, params: Params) -> np.ndarray:
    """The attribution baseline: the training rows' mean input, or ``params.baseline_values``."""
    baseline = (np.asarray(params.baseline_values, float) if params.baseline == "reference"
                else x[train].mean(axis=0))
    if len(baseline) != x.shape[1]:
        raise ConfigError(f"photoz: params.baseline_values has {len(baseline)} values for {x.shape[1]} columns")
    return baseline


def attribution_rows(test: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A seeded random ``n`` of the test rows (all of them when fewer), in random order."""
    return test[np.random.default_rng(seed).permutation(len(test))[:n]]


def pid_sources(catalog: pd.DataFrame, columns: Sequence[str], col_bands: dict[str, tuple[str, ...]],
                rows: np.ndarray) -> tuple[dict[str, list[str]], dict[str, np.ndarray]] | None:
    """The blue and red colour groups (:func:`colour_groups`) and their values on ``rows``; None when the
    inputs hold fewer than three single-band magnitudes (two colours)."""
    from .._data import colours

    groups = colour_groups(columns, catalog, col_bands)
    if not groups:
        return None
    cols = colours(catalog.iloc[rows], [c for g in groups.values() for c in g])
    return groups, {k: cols[v].to_numpy(float) for k, v in groups.items()}


def colour_pid(z: np.ndarray, sources: dict[str, np.ndarray], params: Params, seed: int) -> Any:
    """:func:`pid` with ``params``; its estimation warnings go to ``details["warnings"]`` (kept in the cache)."""
    from dataclasses import replace

    r, warns = pid(z, sources, measure=params.pid_measure, bins=params.pid_bins, n_boot=params.pid_n_boot,
                   n_splits=params.pid_n_splits, seed=seed)
    return replace(r, details={**r.details, "warnings": warns})


def causal_colours(columns: Sequence[str], col_bands: dict[str, tuple[str, ...]]) -> list[str]:
    """Adjacent colours of the single-band inputs (the causal graph's photometry nodes)."""
    singles = [c for c in columns if len(col_bands[c]) == 1]
    return [f"{a}-{b}" for a, b in zip(singles[:-1], singles[1:])]


def causal_problem(frame: pd.DataFrame, test: str) -> str | None:
    """Why the causal search cannot run on ``frame`` (None when it can): a constant column (a model that
    predicts one value) or, for the linear Fisher-z test, perfectly collinear columns (a model that is linear
    in the colours makes its prediction one of their combinations). The report says so instead of failing."""
    from ...causal._data import check_data
    from ...exceptions import ValidationError

    try:
        check_data(frame.to_numpy(float), list(frame.columns), "discover", linear=test == "fisherz")
    except ValidationError as exc:
        reason = str(exc).removeprefix("discover(): ").split("; ")[0]
        return (f"Causal discovery skipped: on the test rows, {reason} (a model that predicts a constant, or "
                "is linear in the colours, leaves no conditional independence to test).")
    return None


def causal_max_rows(params: Params) -> int:
    """Rows per causal search: ``params.causal_max_rows``, at most 300 for the cubic-cost KCI test."""
    return min(params.causal_max_rows, 300) if params.causal_test == "kci" else params.causal_max_rows


def edge_attrs(frame: pd.DataFrame, params: Params) -> dict[str, Any]:
    """What the graph figure and the report read from the edge frequencies: settings, nodes and tiers."""
    return {"n_boot": params.causal_n_boot, "test": params.causal_test, "alpha": params.causal_alpha,
            "nodes": list(frame.columns),
            "tiers": [[frame.columns[0]], list(frame.columns[1:-1]), [frame.columns[-1]]]}


def edge_table(freq: pd.DataFrame) -> pd.DataFrame:
    """The edge frequencies as a table, with the adjacency frequency ``present``, most frequent first."""
    table = freq.reset_index()
    table.insert(2, "present", 1.0 - table["absent"])
    return table.sort_values("present", ascending=False)


# --- the report's findings ---------------------------------------------------------------------------------
_HOW = {"user": "the test rows of the user's split", "reference": "the reference model's held-out rows",
        "none": "all rows (training rows unknown)"}


def findings(out: Mapping[str, Any]) -> list[str]:
    """The report's lines from the step outputs (the keys :func:`run_all` returns), headline first: sample and
    split, accuracy, attribution, band Shapley values, the PID atoms, then what was skipped and the caveats."""
    p, data, split = out["params"], out["data"], out["split"]
    m = out["metrics"].iloc[0]
    lines = [f"{len(data)} galaxies, {data.name}; model: {out['model_name']}; scored on {int(m['n'])} rows, "
             f"{_HOW[split.origin]}."]
    lines += [t for t in (split.note, sentinel_note(data.catalog, out["columns"])) if t]
    lines.append(f"Accuracy: bias {m['bias']:+.4f}, σ_NMAD {m['sigma_nmad']:.4f} "
                 f"[{m['sigma_nmad_lo']:.4f}, {m['sigma_nmad_hi']:.4f}], η {100 * m['outlier_fraction']:.2f} %, "
                 f"RMSE {m['rmse']:.4f}.")
    attr = out["attribution"]
    base = "training-mean" if attr.attrs.get("baseline", p.baseline) == "train_mean" else "reference"
    bands = out["attribution_bands"]["share"].sort_values(ascending=False)
    lines.append(f"Attribution share by band ({attr.attrs['method'].replace('_', ' ')}, {base} baseline): "
                 + ", ".join(f"{b} {v:.0%}" for b, v in bands.items()) + ".")
    lines += [t for t in (out.get("baseline_warning"),) if t]
    s = out["shapley"].to_frame().reset_index().set_index("band")["value"].sort_values(ascending=False)
    lines.append(f"Band Shapley values ({p.shapley_metric}; positive = the band helps): "
                 + ", ".join(f"{b} {v:+.4f}" for b, v in s.items()) + ".")
    if p.retrain == "hgb" and not len(split.train):
        lines.append("Retrain ablation skipped: it needs training rows ([data] split with 'train' rows).")
    lines += _pid_lines(out.get("pid"), out.get("pid_groups"), p)
    if out.get("edge_stability") is None:
        lines.append(out.get("causal_skipped")
                     or "Causal discovery skipped: no colours can be formed from the input columns.")
    elif p.causal_test == "fisherz":
        lines.append("Causal discovery used the linear Fisher-z test while the model is non-linear: a missing "
                     "edge may be a non-linear dependence it cannot see (set params.causal_test = \"kci\" for a "
                     "kernel test on a subsample).")
    return lines


def _pid_lines(r: Any, groups: Any, p: Params) -> list[str]:
    if r is None:
        return ["PID skipped: it needs at least three single-band magnitude columns (two colours)."]
    lines = [f"PID ({p.pid_measure}) of the redshift from {' '.join(groups['blue'])} (blue) and "
             f"{' '.join(groups['red'])} (red) colours: I = {r.mutual_information:.3f} bits; redundancy "
             f"{r.redundancy:.3f}, unique blue {r.unique['blue']:.3f}, unique red {r.unique['red']:.3f}, "
             f"synergy {r.synergy:.3f}."]
    if r.details.get("warnings"):                      # after the numbers it qualifies
        lines.append(f"PID caveat ({p.pid_measure}): {r.details['warnings'][0]}")
    return lines


# --- everything --------------------------------------------------------------------------------------------
def run_all(params: Params, *, catalog: pd.DataFrame | None = None, columns: Sequence[str] | None = None,
            target: str = "redshift", est: Any = None, split: str | Sequence[str] | np.ndarray | None = None,
            bands: Sequence[str] | None = None, seed: int | np.random.Generator | None = None,
            n: int | None = None, n_jobs: int | None = None, progress: bool | None = None,
            cache_dir: Any = None) -> dict[str, Any]:
    """Every step of the study in order, on your catalogue and estimator, without a runner.

    Parameters
    ----------
    params : Params
        The study's parameters (:class:`interpret.studies.photoz.Params`; ``Params()`` for the defaults).
    catalog : pandas.DataFrame, optional
        One row per galaxy with the model's input columns and the target. Default: kcorrect's SDSS galaxies
        (:func:`load_data`: ``params.bands`` magnitudes, quality cut by ``params.max_mag_err``).
    columns : sequence of str, optional
        The estimator's input columns, in its input order (magnitudes, or colours named ``"a-b"``); required
        with ``catalog``.
    target : str, default "redshift"
        The catalogue's true-redshift column.
    est : estimator, optional
        Your trained photo-z model taking the ``columns`` as one ``(n, len(columns))`` float32 array: anything
        :func:`interpret.load_estimator` accepts (a torch module, a fitted scikit-learn regressor, ...).
        Default: the reference MLP (:func:`reference_estimator`) trained on the data, its weights cached in
        ``cache_dir`` (default: the per-user cache).
    split : str, sequence or None, default None
        ``"train"`` / ``"val"`` / ``"test"`` per row, or the name of the catalogue column holding them: every
        held-out number uses the test rows, the attribution baseline and the fill statistics the train rows.
        None: the reference model's seeded split when ``est`` is None, else every row is scored and the report
        says that the training rows are unknown.
    bands : sequence of str, optional
        The band of each input column (``"a-b"`` for a colour) when the column names are not band names.
    seed : int, Generator or None, default None
        Seeds the subsample, the reference training and every resampling (None: fresh; the int used is
        ``out["seed"]``).
    n : int, optional
        Galaxies drawn at random from the default sample (not with ``catalog``: subsample it yourself).
    n_jobs : int, optional
        Workers of the masking, the retrain refits and the causal bootstrap.
    progress : bool or None, default None
        Progress bar of the reference training.
    cache_dir : path, optional
        Where the reference MLP's weights are cached.

    Returns
    -------
    dict
        The step outputs under the keys the config run stores them (``data``, ``split``, ``predictions``,
        ``metrics``, ``attribution``, ``masking``, ``retrain``, ``shapley``, ``pid``, ``edge_stability``, ...;
        a skipped step's key holds None), ``tables`` (the run's ``tables/*.csv`` by name), ``notes`` (the
        report's findings, :func:`findings`) and ``seconds`` per step. The figure functions read the keys in
        :data:`interpret.studies.photoz.figures.NEEDS`.

    Examples
    --------
    >>> from interpret.studies.photoz import Params, figures, steps
    >>> out = steps.run_all(Params(fast=True), n=3000, seed=0)                       # doctest: +SKIP
    >>> out["tables"]["metrics"][["n", "bias", "sigma_nmad", "outlier_fraction"]]    # doctest: +SKIP
    >>> fig = figures.fig_shapley(out)                                               # doctest: +SKIP

    Your own model on your catalogue (``my_model`` takes the u g r i z magnitudes):

    >>> out = steps.run_all(Params(), catalog=df, columns=list("ugriz"), est=my_model,
    ...                     split="split", seed=0)                                    # doctest: +SKIP
    """
    from ... import load_estimator
    from ..._seeding import int_seed
    from .._models import RefitHGB

    params.validate()
    seed = int_seed(seed)
    data, columns = _notebook_data(params, catalog, columns, target, split, bands, n, seed)
    reference = est is None
    sp = split_rows(data, reference=(len(data), seed) if reference else None)
    problem = split_problem(sp, len(columns), reference=reference)
    if problem:
        raise ValueError(f"run_all(): 'split': {problem}")
    if reference:
        est, name = reference_estimator(data, columns, params, seed=seed, cache_dir=cache_dir,
                                        progress=progress, target=target), REFERENCE_NAME
    else:
        est, name = load_estimator(est), "user model"
        problem = output_problem(est, data.catalog[columns].to_numpy(np.float32), columns)
        if problem:
            raise ValueError(f"run_all(): 'est': {problem}")
    col_bands = column_bands(columns, bands)
    out: dict[str, Any] = {"params": params, "seed": seed, "data": data, "columns": columns, "target": target,
                           "split": sp, "model_name": name, "col_bands": col_bands, "estimator": est,
                           "tables": {}, "seconds": {}}
    t0 = time.perf_counter()
    x, y = data.catalog[columns].to_numpy(np.float32), data.catalog[target].to_numpy(float)
    pred = out["predictions"] = predict(est, x)
    out["metrics"] = out["tables"]["metrics"] = score(
        y[sp.test], pred[sp.test], model=name, threshold=params.outlier_threshold, n_boot=params.n_boot,
        ci_level=params.ci_level, seed=seed)
    out["seconds"]["predictions"] = time.perf_counter() - t0
    _run_attribution(out, x, y)
    _run_ablation(out, x, y, RefitHGB(), n_jobs=n_jobs)
    _run_pid(out)
    _run_causal(out, n_jobs=n_jobs)
    out["notes"] = findings(out)
    return out


def _notebook_data(params: Params, catalog: Any, columns: Any, target: str, split: Any, bands: Any,
                   n: int | None, seed: int) -> tuple[StudyData, list[str]]:
    """run_all's boundary: the default sample, or the user's catalogue checked and wrapped."""
    if catalog is None:
        if columns is not None or split is not None or bands is not None or target != "redshift":
            raise ValueError("run_all(): 'columns', 'target', 'split' and 'bands' describe your 'catalog'; "
                             "without one the study uses kcorrect's SDSS sample with params.bands")
        return load_data(params, n=n, seed=seed), list(params.bands)
    if not isinstance(catalog, pd.DataFrame):
        raise ValueError(f"run_all(): 'catalog' must be a pandas DataFrame or None; got {type(catalog).__name__}")
    if n is not None:
        raise ValueError("run_all(): 'n' subsamples the default sample only; pass a subsample as 'catalog'")
    if columns is None or isinstance(columns, str) or not len(columns):
        raise ValueError(f"run_all(): 'columns' must list the estimator's input columns in order; got {columns!r}")
    columns = list(columns)
    missing = [c for c in [*columns, target] if c not in catalog]
    if missing:
        raise ValueError(f"run_all(): 'catalog' lacks column(s) {missing} (the inputs and the target); it has "
                         f"{', '.join(map(str, list(catalog.columns)[:20]))}")
    problem = target_problem(catalog, target) or missing_inputs(catalog, columns)
    if problem:
        raise ValueError(f"run_all(): 'catalog': {problem}")
    labels = None if split is None else _split_labels(catalog, split)
    return StudyData(catalog=catalog.reset_index(drop=True), bands=list(bands) if bands else None, source="user",
                     split=labels, name="user catalogue"), columns


#: Fewest held-out rows the study runs on: fewer make its metrics noise, and its causal search needs
#: at least ten rows (three more than variables).
MIN_TEST_ROWS = 20
#: Fewest non-test rows the reference model is fitted on (the trainer's own minimum).
MIN_FIT_ROWS = 10


def split_problem(split: Split, n_columns: int, *, reference: bool, split_name: str = "the split",
                  own_model: str = "your own model") -> str | None:
    """What makes ``split`` too small for the study (None when nothing does): fewer test rows than
    ``max(MIN_TEST_ROWS, n_columns + 4)``, or, for the reference model (``reference``), fewer than
    :data:`MIN_FIT_ROWS` rows of the user's split left to fit it on. ``split_name`` and ``own_model`` name
    the split and the way to give a model where the caller's user gives them (a config or a notebook)."""
    need = max(MIN_TEST_ROWS, n_columns + 4)
    if len(split.test) < need:
        where, fix = {"user": (f"{split_name} marks", "mark more rows as 'test'"),
                      "reference": ("the reference model's seeded split holds out",
                                    f"give at least {math.ceil(need / 0.15)} galaxies (it holds out 15 %)"),
                      "none": ("the catalogue has", "give a larger catalogue")}[split.origin]
        k = len(split.test)
        return (f"{where} {k} test row{'s' if k != 1 else ''}; the held-out metrics, PID and causal search need "
                f"at least {need}; {fix}")
    fit = len(split.train) + len(split.val)
    if reference and split.origin == "user" and fit < MIN_FIT_ROWS:
        return (f"{split_name} leaves {fit} rows that are not 'test' to fit the reference model on (no model "
                f"given); it needs at least {MIN_FIT_ROWS}: mark more rows as 'train' or 'val', or give {own_model}")
    return None


def missing_inputs(catalog: pd.DataFrame, columns: Sequence[str]) -> str | None:
    """What is wrong with the input columns' values (None when nothing is): text, NaN or infinite values.

    Every step feeds the inputs to the estimator and to the masking fills, where a NaN magnitude would make
    predictions and fill statistics NaN; the fix belongs to the user, who knows what a missing band means."""
    text = _non_numeric(catalog, columns)
    if text:
        return f"input column(s) {text} are not numeric; list the model's numeric input columns"
    values = catalog[list(columns)].astype(float)
    for what, bad_of in (("missing values (NaN)", np.isnan), ("infinite values (inf)", np.isinf)):
        bad = values.apply(lambda c, f=bad_of: f(c.to_numpy())).astype(bool)
        counts = bad.sum()
        counts = counts[counts > 0]
        if counts.empty:
            continue
        rows = np.flatnonzero(bad.any(axis=1).to_numpy())
        shown = ", ".join(map(str, rows[:5])) + (" ..." if len(rows) > 5 else "")
        cols = ", ".join(f"{c} ({n})" for c, n in counts.items())
        return (f"input column(s) {cols} have {what} in {len(rows)} rows ({shown}); drop those rows or fill "
                "them as your model expects (e.g. a limiting magnitude for non-detections) first")
    return None


#: Values catalogues write for a non-detection or a failed measurement instead of a magnitude.
SENTINELS = (99.0, -99.0, 99.99, -99.99, 999.0, -999.0, 9999.0, -9999.0)


def sentinel_note(catalog: pd.DataFrame, columns: Sequence[str]) -> str | None:
    """A report line when input columns hold :data:`SENTINELS` (None when none do): finite, so nothing refuses
    them, but a model and the masking fills would take a flag for a magnitude."""
    values = catalog[list(columns)].to_numpy(float)
    flags = np.isin(values, SENTINELS)
    if not flags.any():
        return None
    counts = ", ".join(f"{c} ({n})" for c, n in zip(columns, flags.sum(axis=0)) if n)
    found = ", ".join(f"{v:g}" for v in np.unique(values[flags]))
    return (f"Input column(s) {counts} hold {found} in {int(flags.any(axis=1).sum())} rows, values catalogues "
            "use to flag non-detections: the model and the masking fills took them as magnitudes; drop or "
            "replace those rows if they are flags.")


def target_problem(catalog: pd.DataFrame, target: str) -> str | None:
    """What is wrong with the target column (None when nothing is): text, or NaN / infinite redshifts."""
    text = _non_numeric(catalog, [target])
    if text:
        return f"target column {text} is not numeric; name the true-redshift column"
    z = catalog[target].to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(z))
    if bad.size:
        shown = ", ".join(map(str, bad[:5])) + (" ..." if bad.size > 5 else "")
        return (f"target column {target!r} has missing or infinite values in {bad.size} rows ({shown}); drop those "
                "rows first")
    return None


def _non_numeric(catalog: pd.DataFrame, columns: Sequence[str]) -> str:
    """``"'name' (dtype, e.g. value)"`` for each column of ``columns`` that does not hold numbers."""
    out = []
    for c in columns:
        col = catalog[c]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            example = next((v for v in col if not isinstance(v, (int, float, np.number))), col.iloc[0])
            out.append(f"{c!r} ({col.dtype}, e.g. {example!r})")
    return ", ".join(out)


def output_problem(estimator: Any, x: np.ndarray, columns: Sequence[str]) -> str | None:
    """What keeps ``estimator`` from giving one redshift per row of ``x`` (None when nothing does): it fails on
    the columns (another number or order of inputs), or returns another number of values than rows."""
    probe = x[:2]
    error, shape = probe_predict(estimator, probe)
    if error:
        return (f"the model fails on the {len(columns)} input columns {list(columns)} ({error}); list its inputs, "
                "in its input order")
    if shape is not None:
        return (f"the model returns shape {shape[1:]} per galaxy (output {shape} for {len(probe)} rows); "
                "the study needs one redshift per galaxy, shape (n,) or (n, 1): wrap the model to return its "
                "point estimate")
    return None


def _split_labels(catalog: pd.DataFrame, split: Any) -> np.ndarray:
    from .._data import _SPLIT_VALUES

    if isinstance(split, str):
        if split not in catalog:
            raise ValueError(f"run_all(): 'split' names no column of 'catalog'; got {split!r}")
        values = catalog[split]
    elif len(split) != len(catalog):
        raise ValueError(f"run_all(): 'split' has {len(split)} labels for {len(catalog)} rows; give one "
                         "'train' / 'val' / 'test' label per row")
    else:
        values = split
    raw = pd.Series(np.asarray(values, dtype=object)).astype(str).str.strip().str.lower()
    mapped = raw.map(_SPLIT_VALUES)
    bad = sorted(set(raw[mapped.isna()]))
    if bad:
        raise ValueError(f"run_all(): 'split' must hold 'train', 'val' or 'test' per row; got {bad[:5]}")
    labels = mapped.to_numpy(dtype=object)
    if not (labels == "test").any():
        raise ValueError("run_all(): 'split' marks no row as 'test'; the held-out metrics need some")
    return labels


def _run_attribution(out: dict[str, Any], x: np.ndarray, y: np.ndarray) -> None:
    p, sp, est, seed = out["params"], out["split"], out["estimator"], out["seed"]
    t0 = time.perf_counter()
    train = sp.train if len(sp.train) else sp.test
    baseline = attribution_baseline(x, train, p)
    f0, out["baseline_warning"] = baseline_check(est, baseline, y[train])
    rows = attribution_rows(sp.test, p.n_attribution, seed)
    frame = out["attribution"] = attribution(est, x[rows], baseline, out["col_bands"], n_steps=p.ig_steps,
                                             seed=seed)
    frame.attrs.update(f_baseline=f0, n=len(rows), baseline=p.baseline)
    out["attribution_bands"] = per_band(frame)
    out["tables"].update(attribution_columns=frame, attribution_bands=out["attribution_bands"])
    out["seconds"]["attribution"] = time.perf_counter() - t0


def _run_ablation(out: dict[str, Any], x: np.ndarray, y: np.ndarray, fit: Any, *, n_jobs: int | None) -> None:
    p, sp, est, seed, tables = out["params"], out["split"], out["estimator"], out["seed"], out["tables"]
    test, train = sp.test, (sp.train if len(sp.train) else sp.test)
    layout = band_layout(out["col_bands"])
    t0 = time.perf_counter()
    out["masking"] = masking(est, x[test], y[test], x[train], layout, strategy=p.strategy,
                             threshold=p.outlier_threshold, seed=seed, n_jobs=n_jobs)
    tables["masking"] = out["masking"].table
    out["retrain"] = None
    if p.retrain == "hgb" and len(sp.train):
        frame = out["data"].catalog[out["columns"]].astype(float)
        out["retrain"] = tables["retrain"] = retrain_leave_one_out(
            fit, frame.iloc[sp.train], y[sp.train], frame.iloc[test], y[test], out["col_bands"],
            threshold=p.outlier_threshold, seed=seed, n_jobs=n_jobs)
    out["shapley"] = shapley(est, x[test], y[test], x[train], layout, metric=p.shapley_metric, strategy=p.strategy,
                             threshold=p.outlier_threshold, n_boot=p.n_boot_shapley, seed=seed)
    tables["shapley"] = out["shapley"].to_frame().reset_index()
    out["seconds"]["ablation"] = time.perf_counter() - t0


def _run_pid(out: dict[str, Any]) -> None:
    p, cat, rows = out["params"], out["data"].catalog, out["split"].test
    t0 = time.perf_counter()
    found = pid_sources(cat, out["columns"], out["col_bands"], rows)
    out["pid"] = out["pid_groups"] = None
    if found is not None:
        out["pid_groups"], sources = found
        out["pid"] = colour_pid(cat[out["target"]].to_numpy(float)[rows], sources, p, out["seed"])
        out["tables"]["pid"] = out["pid"].to_frame().reset_index()
    out["seconds"]["pid"] = time.perf_counter() - t0


def _run_causal(out: dict[str, Any], *, n_jobs: int | None) -> None:
    p, names = out["params"], causal_colours(out["columns"], out["col_bands"])
    out["edge_stability"] = None
    if not names:
        return
    t0 = time.perf_counter()
    frame = causal_frame(out["data"].catalog, out["split"].test, out["target"], out["predictions"], names)
    out["causal_skipped"] = causal_problem(frame, p.causal_test)
    if out["causal_skipped"]:
        return
    freq = out["edge_stability"] = causal(frame, test=p.causal_test, alpha=p.causal_alpha, n_boot=p.causal_n_boot,
                                          seed=out["seed"], n_jobs=n_jobs, max_rows=causal_max_rows(p))
    freq.attrs.update(edge_attrs(frame, p))
    out["tables"]["edge_stability"] = edge_table(freq)
    out["seconds"]["edge_stability"] = time.perf_counter() - t0
