"""Pure steps of the ``photoz`` study: (data, estimator, parameters) -> tables and result objects.

None of these functions reads a config, writes a file or keeps state; :func:`interpret.studies.photoz.compute`
wires them and caches each output by content.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["column_bands", "band_layout", "score", "attribution", "masking", "retrain_leave_one_out",
           "shapley", "colour_groups", "pid", "causal_frame", "causal", "baseline_check"]

_METRICS = ("bias", "sigma_nmad", "outlier_fraction", "rmse")


def column_bands(columns: Sequence[str], bands: Sequence[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Which bands each input column derives from: ``"g"`` -> (g,), a colour ``"g-r"`` -> (g, r).

    ``bands`` (optional, one entry per column) overrides the column names, e.g. ``["g", "r"]`` for columns
    ``["MAG_G", "MAG_R"]``.
    """
    names = list(bands) if bands else list(columns)
    if len(names) != len(columns):
        raise ValueError(f"[data] bands has {len(names)} entries but columns has {len(columns)}; give one band "
                         "(or 'a-b' for a colour) per input column")
    return {c: tuple(n.split("-")) for c, n in zip(columns, names)}


def band_layout(col_bands: dict[str, tuple[str, ...]]) -> dict[str, list[tuple[int, int, int]]]:
    """Band -> every input column derived from it (removing a band removes all of them)."""
    layout: dict[str, list[tuple[int, int, int]]] = {}
    for j, bands in enumerate(col_bands.values()):
        for b in bands:
            layout.setdefault(b, []).append((0, 1, j))
    return layout


def score(y_true: np.ndarray, y_pred: np.ndarray, *, model: str, threshold: float = 0.15, n_boot: int = 200,
          ci_level: float = 0.68, seed: int = 0) -> pd.DataFrame:
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
                n_steps: int = 32, seed: int = 0) -> pd.DataFrame:
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
                         strategy=Fill(strategy, reference=x_train), metrics=_METRICS, redshift=True, metric_kwargs={"threshold": threshold},
                         seed=seed, n_jobs=n_jobs, progress=False)


def _retrain_one(fit: Any, frame_train: pd.DataFrame, y_train: np.ndarray, frame_test: pd.DataFrame,
                 y_test: np.ndarray, keep: list[str], threshold: float, seed: int) -> dict[str, float]:
    from ... import metrics

    model = fit(frame_train[keep], y_train, seed=seed)
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
    for m in _METRICS:
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
                            metric=metric, metric_kwargs=kw, redshift=True,
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
        summ = {k: reduce_source(v, target, method="regression", n_splits=n_splits, seed=seed, name=k)[0]
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
        frame = frame.sample(max_rows, random_state=seed).reset_index(drop=True)
    tiers = [[frame.columns[0]], [c for c in frame.columns[1:-1]], [frame.columns[-1]]]
    freq = ipc.edge_stability(frame, n_boot=n_boot, method="pc", test=test, alpha=alpha, background=tiers,
                              n_jobs=n_jobs, seed=seed, progress=False)
    freq.attrs.update(n_boot=n_boot, test=test, alpha=alpha, tiers=tiers, n_rows=len(frame))
    return freq
