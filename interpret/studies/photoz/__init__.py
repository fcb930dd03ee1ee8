"""Photometric redshift from a catalogue: how accurate, from which bands, and why, for any model

The catalogue-only study: give it any photo-z estimator (TorchScript, a state dict with its factory,
scikit-learn via skops, Keras, ...) and any catalogue, and it answers, on the galaxies the model never saw:

1. **How accurate is it?** Bias, σ_NMAD, outlier fraction η (\\|Δz\\|/(1+z) > 0.15) and RMSE on the test
   rows of the user's split, with bootstrap intervals (``tables/metrics.csv``).
2. **Which inputs does it use?** Integrated gradients from the training-set mean (a physical baseline for
   magnitudes; feature ablation for models without gradients), per input column and per band.
3. **Which bands does it rely on, and which carry information?** Masking each band (every column derived
   from it) in the trained model, retraining without it (given a refit model), and exact band Shapley values
   over all band subsets (positive = the band helps).
4. **How is the information split?** Partial-information decomposition of the redshift between the blue and
   the red colours (redundant, unique, synergistic bits).
5. **Which conditional independences hold?** PC over redshift, colours and the prediction, as bootstrap
   edge frequencies.

Run on your own model::

    study = "photoz"
    [data]
    catalog = "my_catalog.parquet"
    columns = ["u", "g", "r", "i", "z"]    # the model's inputs, in order
    target = "redshift"
    split = "split"                        # train / val / test; held-out results use the test rows
    [model]
    path = "my_photoz.ts"
    name = "my photo-z MLP"

Without ``[data]`` and ``[model]`` it runs on kcorrect's real SDSS galaxies with a reference MLP it trains.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...exceptions import ConfigError
from .._data import StudyData, require_columns, split_rows, user_data
from .._models import RefitHGB, model_name, one_torch_thread, user_model
from .._params import StudyParams
from . import steps
from .figures import CAPTIONS, FIGURES

__all__ = ["Params", "compute", "FIGURES", "CAPTIONS", "DATA_KEYS", "TITLE"]

TITLE = "Photometric redshift from a catalogue: accuracy, inputs, bands and information"
#: The [data] keys this study reads (any other is refused).
DATA_KEYS = frozenset({"catalog", "columns", "target", "split", "bands", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the photoz study (``[params]``)."""

    bands: tuple[str, ...] = ("u", "g", "r", "i", "z")  # default data: SDSS magnitude columns = model inputs
    max_mag_err: float = 0.5          # default data: magnitude-error cut (mag)
    fast: bool = False                # default model: few-epoch reference MLP (demo / tests)
    outlier_threshold: float = 0.15   # |dz|/(1+z) of an outlier
    n_boot: int = 200                 # bootstrap resamples of the metric intervals
    ci_level: float = 0.68            # their level
    baseline: str = "train_mean"      # attribution baseline: "train_mean" or "reference" (baseline_values)
    baseline_values: tuple[float, ...] = ()   # one value per input column, for baseline = "reference"
    n_attribution: int = 1000         # test galaxies attributed
    ig_steps: int = 32                # integrated-gradients steps
    strategy: str = "mean"            # masking fill (interpret.ablation.STRATEGIES)
    retrain: str = "hgb"              # refit model of retrain ablation: "hgb" (scikit-learn) or "none"
    shapley_metric: str = "sigma_nmad"  # metric of the band Shapley values
    n_boot_shapley: int = 20          # galaxy bootstraps of the Shapley errors
    pid_measure: str = "broja"        # PID redundancy measure (interpret.pid.MEASURES)
    pid_bins: int = 8
    pid_n_boot: int = 50
    pid_n_splits: int = 5             # cross-fitting folds reducing a colour group to E[z | group]
    causal_test: str = "fisherz"      # "fisherz" (linear) or "kci" (non-linear, subsampled)
    causal_alpha: float = 0.01
    causal_n_boot: int = 50
    causal_max_rows: int = 2000       # rows per causal search (kci is cubic in the rows: keep it ~300)

    def validate(self) -> None:
        if self.baseline not in ("train_mean", "reference"):
            raise ConfigError(f"[params] baseline must be 'train_mean' or 'reference'; got {self.baseline!r}")
        if self.baseline == "reference" and not self.baseline_values:
            raise ConfigError("[params] baseline = 'reference' needs baseline_values (one per input column)")
        if self.retrain not in ("hgb", "none"):
            raise ConfigError(f"[params] retrain must be 'hgb' or 'none'; got {self.retrain!r}")
        if self.causal_test not in ("fisherz", "kci"):
            raise ConfigError(f"[params] causal_test must be 'fisherz' or 'kci'; got {self.causal_test!r}")


# --- data and model ----------------------------------------------------------------------------------------
def _data(ctx: Any) -> tuple[StudyData, list[str], str]:
    p, spec = ctx.params, ctx.config.get("data") or {}
    data = user_data(ctx)
    if data is not None:
        if "columns" not in spec:
            raise ConfigError("photoz: [data] needs 'columns' (the model's input columns, in order)")
        columns, target = list(spec["columns"]), spec.get("target", "redshift")
        require_columns(data.catalog, [*columns, target], "photoz", "the model inputs and the target")
        if (data.catalog[target].isna()).any():
            raise ConfigError(f"photoz: [data] target column {target!r} has missing values; drop those rows")
        return data, columns, target
    from ...datasets import sdss_sample

    ds = sdss_sample()
    cat = ds.catalog
    cols = list(p.bands)
    ok = cat[[*cols, "redshift"]].notna().all(axis=1).to_numpy().copy()
    errs = [f"{b}_err" for b in cols if f"{b}_err" in cat]
    if errs:
        ok &= (cat[errs] < p.max_mag_err).all(axis=1).to_numpy()
    rows = np.flatnonzero(ok)
    if ctx.config["n"] is not None and ctx.config["n"] < rows.size:
        rows = np.sort(np.random.default_rng(ctx.seed).choice(rows, size=ctx.config["n"], replace=False))
    sample = cat.iloc[rows][[*cols, "redshift", *errs]].reset_index(drop=True).astype(float)
    return StudyData(catalog=sample, bands=ds.bands, source="sdss", name="SDSS (kcorrect sample)"), cols, "redshift"


def _model(ctx: Any, data: StudyData, columns: list[str], target: str) -> tuple[Any, str]:
    est = user_model(ctx)
    if est is not None:
        return est, model_name(ctx, "user model")
    from ... import mock
    from ...datasets import Dataset

    ds = Dataset(name="photoz", catalog=data.catalog, bands=data.bands, source=data.source)
    est = mock.train_reference(ds, task="photoz", bands=columns, seed=ctx.seed, fast=ctx.params.fast,
                               progress=False, num_threads=1, device=ctx.config["device"],
                               cache_dir=ctx.cache_dir / "models")
    return est, "reference MLP on magnitudes"


# --- compute -----------------------------------------------------------------------------------------------
def compute(ctx: Any) -> None:
    """Load data and model, then metrics, attribution, ablation, Shapley, PID and causal steps (cached)."""
    with one_torch_thread():
        _compute(ctx)


def _compute(ctx: Any) -> None:
    p = ctx.params
    data, columns, target = _data(ctx)
    user = bool(ctx.config.get("model"))
    split = split_rows(data, reference=None if user else (len(data), ctx.seed))
    if split.note:
        ctx.notes.append(split.note)
    est, name = _model(ctx, data, columns, target)
    cat = data.catalog
    x = cat[columns].to_numpy(np.float32)
    y = cat[target].to_numpy(float)
    train = split.train if len(split.train) else split.test
    col_bands = steps.column_bands(columns, (ctx.config.get("data") or {}).get("bands"))
    layout = steps.band_layout(col_bands)
    ctx.store.update(data=data, columns=columns, target=target, split=split, model_name=name,
                     col_bands=col_bands)
    base = {"x": x, "y": y, "model": est, "test": split.test, "train": train}
    pred = ctx.cached("predictions", base, lambda: np.asarray(est.predict(x, progress=False), float).reshape(-1))
    metrics = steps.score(y[split.test], pred[split.test], model=name, threshold=p.outlier_threshold,
                          n_boot=p.n_boot, ci_level=p.ci_level, seed=ctx.seed)
    ctx.store["metrics"] = metrics
    ctx.add_table("metrics", metrics)
    _attribution_step(ctx, est, x, y, split, train, col_bands, base)
    _ablation_steps(ctx, est, cat, x, y, split, train, columns, col_bands, layout, base)
    _pid_step(ctx, cat, columns, target, col_bands, split)
    _causal_step(ctx, cat, columns, target, col_bands, pred, split, base)
    _notes(ctx, data, split, name)


def _attribution_step(ctx: Any, est: Any, x: np.ndarray, y: np.ndarray, split: Any, train: np.ndarray,
                      col_bands: dict, base: dict) -> None:
    p = ctx.params
    baseline = (np.asarray(p.baseline_values, float) if p.baseline == "reference" else x[train].mean(axis=0))
    if len(baseline) != x.shape[1]:
        raise ConfigError(f"photoz: params.baseline_values has {len(baseline)} values for {x.shape[1]} columns")
    f0, warn = steps.baseline_check(est, baseline, y[train])
    if warn:
        ctx.notes.append(warn)
    rows = split.test[np.random.default_rng(ctx.seed).permutation(len(split.test))[:p.n_attribution]]
    frame = ctx.cached("attribution", {**base, "rows": rows, "baseline": baseline, "steps": p.ig_steps},
                       lambda: steps.attribution(est, x[rows], baseline, col_bands, n_steps=p.ig_steps,
                                                 seed=ctx.seed))
    frame.attrs.update(f_baseline=f0, n=len(rows), baseline=p.baseline)
    ctx.store["attribution"] = frame
    ctx.add_table("attribution_columns", frame)
    ctx.add_table("attribution_bands", steps.per_band(frame))


def _ablation_steps(ctx: Any, est: Any, cat: pd.DataFrame, x: np.ndarray, y: np.ndarray, split: Any,
                    train: np.ndarray, columns: list[str], col_bands: dict, layout: dict, base: dict) -> None:
    p = ctx.params
    test = split.test
    key = {**base, "strategy": p.strategy, "threshold": p.outlier_threshold}
    masked = ctx.cached("masking", key, lambda: steps.masking(
        est, x[test], y[test], x[train], layout, strategy=p.strategy, threshold=p.outlier_threshold,
        seed=ctx.seed, n_jobs=ctx.jobs))
    ctx.add_table("masking", masked.table)
    if p.retrain == "hgb" and len(split.train):
        frame = cat[columns].astype(float)
        retrain = ctx.cached("retrain", {**key, "fit": "hgb"}, lambda: steps.retrain_leave_one_out(
            RefitHGB(), frame.iloc[split.train], y[split.train], frame.iloc[test], y[test], col_bands,
            threshold=p.outlier_threshold, seed=ctx.seed, n_jobs=ctx.jobs))
        ctx.add_table("retrain", retrain)
    elif p.retrain == "hgb":
        ctx.notes.append("Retrain ablation skipped: it needs training rows ([data] split with 'train' rows).")
    shp = ctx.cached("shapley", {**key, "metric": p.shapley_metric, "n_boot": p.n_boot_shapley},
                     lambda: steps.shapley(est, x[test], y[test], x[train], layout, metric=p.shapley_metric,
                                           strategy=p.strategy, threshold=p.outlier_threshold,
                                           n_boot=p.n_boot_shapley, seed=ctx.seed))
    ctx.add_table("shapley", shp.to_frame().reset_index())


def _pid_step(ctx: Any, cat: pd.DataFrame, columns: list[str], target: str, col_bands: dict, split: Any) -> None:
    from .._data import colours

    p = ctx.params
    groups = steps.colour_groups(columns, cat, col_bands)
    if not groups:
        ctx.notes.append("PID skipped: it needs at least three single-band magnitude columns (two colours).")
        return
    rows = split.test
    cols = colours(cat.iloc[rows], [c for g in groups.values() for c in g])
    sources = {k: cols[v].to_numpy(float) for k, v in groups.items()}
    z = cat[target].to_numpy(float)[rows]
    r = ctx.cached("pid", {"z": z, "sources": sources, "measure": p.pid_measure, "bins": p.pid_bins,
                                  "n_boot": p.pid_n_boot, "splits": p.pid_n_splits, "seed": ctx.seed},
                          lambda: _pid_pair(z, sources, p, ctx.seed))
    ctx.store["pid_groups"] = groups
    ctx.add_table("pid", r.to_frame().reset_index())
    if r.details.get("warnings"):
        ctx.notes.append(f"PID ({p.pid_measure}): {r.details['warnings'][0]}")
    ctx.notes.append(f"PID ({p.pid_measure}) of the redshift from {' '.join(groups['blue'])} (blue) and "
                     f"{' '.join(groups['red'])} (red) colours: I = {r.mutual_information:.3f} bits; redundancy "
                     f"{r.redundancy:.3f}, unique blue {r.unique['blue']:.3f}, unique red {r.unique['red']:.3f}, "
                     f"synergy {r.synergy:.3f}.")


def _pid_pair(z: np.ndarray, sources: dict, p: Params, seed: int) -> Any:
    from dataclasses import replace

    r, warns = steps.pid(z, sources, measure=p.pid_measure, bins=p.pid_bins, n_boot=p.pid_n_boot,
                         n_splits=p.pid_n_splits, seed=seed)
    return replace(r, details={**r.details, "warnings": warns})


def _causal_step(ctx: Any, cat: pd.DataFrame, columns: list[str], target: str, col_bands: dict,
                 pred: np.ndarray, split: Any, base: dict) -> None:
    p = ctx.params
    singles = [c for c in columns if len(col_bands[c]) == 1]
    names = [f"{a}-{b}" for a, b in zip(singles[:-1], singles[1:])]
    if not names:
        ctx.notes.append("Causal discovery skipped: no colours can be formed from the input columns.")
        return
    frame = steps.causal_frame(cat, split.test, target, pred, names)
    max_rows = min(p.causal_max_rows, 300) if p.causal_test == "kci" else p.causal_max_rows
    freq = ctx.cached("edge_stability", {"frame": frame, "test": p.causal_test, "alpha": p.causal_alpha,
                                         "n_boot": p.causal_n_boot, "max_rows": max_rows, "seed": ctx.seed},
                      lambda: steps.causal(frame, test=p.causal_test, alpha=p.causal_alpha,
                                           n_boot=p.causal_n_boot, seed=ctx.seed, n_jobs=ctx.jobs,
                                           max_rows=max_rows))
    freq.attrs.update(n_boot=p.causal_n_boot, test=p.causal_test, alpha=p.causal_alpha, nodes=list(frame.columns),
                      tiers=[[frame.columns[0]], list(frame.columns[1:-1]), [frame.columns[-1]]])
    ctx.store["edge_stability"] = freq
    table = freq.reset_index()
    table.insert(2, "present", 1.0 - table["absent"])
    ctx.add_table("edge_stability", table.sort_values("present", ascending=False))
    if p.causal_test == "fisherz":
        ctx.notes.append("Causal discovery used the linear Fisher-z test while the model is non-linear: a missing "
                         "edge may be a non-linear dependence it cannot see (set params.causal_test = \"kci\" for a "
                         "kernel test on a subsample).")


def _notes(ctx: Any, data: StudyData, split: Any, name: str) -> None:
    m = ctx.store["metrics"].iloc[0]
    how = {"user": "the test rows of the user's split", "reference": "the reference model's held-out rows",
           "none": "all rows (training rows unknown)"}[split.origin]
    ctx.notes.insert(0, f"{len(data)} galaxies ({data.name}); model: {name}; scored on {int(m['n'])} rows, {how}.")
    ctx.notes.append(f"Accuracy: bias {m['bias']:+.4f}, σ_NMAD {m['sigma_nmad']:.4f} "
                     f"[{m['sigma_nmad_lo']:.4f}, {m['sigma_nmad_hi']:.4f}], η {100 * m['outlier_fraction']:.2f} %, "
                     f"RMSE {m['rmse']:.4f}.")
    bands = ctx.tables["attribution_bands"]["share"].sort_values(ascending=False)
    ctx.notes.append("Attribution share by band (" + ctx.store["attribution"].attrs["method"].replace("_", " ")
                     + ", training-mean baseline): " + ", ".join(f"{b} {v:.0%}" for b, v in bands.items()) + ".")
    s = ctx.tables["shapley"].set_index("band")["value"].sort_values(ascending=False)
    ctx.notes.append(f"Band Shapley values ({ctx.params.shapley_metric}; positive = the band helps): "
                     + ", ".join(f"{b} {v:+.4f}" for b, v in s.items()) + ".")
