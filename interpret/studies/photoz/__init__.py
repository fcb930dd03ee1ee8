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

From a notebook, :func:`.steps.run_all` runs the same steps on a DataFrame and an estimator you hold and
returns a dict that every figure function of :mod:`.figures` draws from (``figures.NEEDS`` lists the keys
each reads). Science lives in :mod:`.steps` (pure functions), :mod:`.figures` (one function per figure,
reading step outputs only) and :mod:`.params`; this module is the config boundary (``[data]``, ``[model]``)
and the cached orchestration of a config run.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...exceptions import ConfigError
from .._data import StudyData, require_columns, split_rows, user_data
from .._models import RefitHGB, model_name, one_torch_thread, user_model
from . import figures, steps
from .figures import (
    CAPTIONS,
    FIGURES,
    NEEDS,
    fig_ablation,
    fig_attribution,
    fig_causal_graph,
    fig_pid,
    fig_predictions,
    fig_shapley,
)
from .params import Params

__all__ = ["Params", "compute", "FIGURES", "CAPTIONS", "NEEDS", "DATA_KEYS", "TITLE", "steps", "figures",
           "fig_predictions", "fig_attribution", "fig_ablation", "fig_shapley", "fig_pid", "fig_causal_graph"]

TITLE = "Photometric redshift from a catalogue: accuracy, inputs, bands and information"
#: The [data] keys this study reads (any other is refused).
DATA_KEYS = frozenset({"catalog", "columns", "target", "split", "bands", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})


# --- the config boundary: data and model -------------------------------------------------------------------
def _data(ctx: Any) -> tuple[StudyData, list[str], str]:
    spec = ctx.config.get("data") or {}
    data = user_data(ctx)
    if data is not None:
        if "columns" not in spec:
            raise ConfigError("photoz: [data] needs 'columns' (the model's input columns, in order)")
        columns, target = list(spec["columns"]), spec.get("target", "redshift")
        require_columns(data.catalog, [*columns, target], "photoz", "the model inputs and the target")
        problem = steps.target_problem(data.catalog, target) or steps.missing_inputs(data.catalog, columns)
        if problem:
            raise ConfigError(f"photoz: [data] {problem}")
        try:
            steps.column_bands(columns, spec.get("bands"))
        except ValueError as exc:
            raise ConfigError(f"photoz: {exc}") from None
        return data, columns, target
    return steps.load_data(ctx.params, n=ctx.config["n"], seed=ctx.seed), list(ctx.params.bands), "redshift"


def _model(ctx: Any, data: StudyData, columns: list[str], target: str) -> tuple[Any, str]:
    est = user_model(ctx)
    if est is not None:
        return est, model_name(ctx, "user model")
    return steps.reference_estimator(data, columns, ctx.params, seed=ctx.seed, device=ctx.config["device"],
                                     cache_dir=ctx.cache_dir / "models", target=target), steps.REFERENCE_NAME


# --- compute: the steps of steps.run_all, each cached by content -------------------------------------------
def compute(ctx: Any) -> None:
    """Load data and model, then metrics, attribution, ablation, Shapley, PID and causal steps (cached)."""
    with one_torch_thread():
        _compute(ctx)
    lines = steps.findings(ctx.store)
    n = ctx.config["n"]
    if n and ctx.config.get("data"):      # after the headline that counts the galaxies used
        lines.insert(1, f"n = {n} subsamples the default SDSS sample only: all {len(ctx.store['data'])} rows of "
                        "the [data] catalog are used (subsample the file to run on fewer).")
    ctx.notes.extend(lines)


def _compute(ctx: Any) -> None:
    p = ctx.params
    data, columns, target = _data(ctx)
    user = bool(ctx.config.get("model"))
    split = split_rows(data, reference=None if user else (len(data), ctx.seed))
    problem = steps.split_problem(split, len(columns), reference=not user, own_model="your own [model]",
                                  split_name=f"split column {(ctx.config.get('data') or {}).get('split')!r}")
    if problem:
        where = "[data]" if ctx.config.get("data") else f"n = {ctx.config['n']}:"
        raise ConfigError(f"photoz: {where} {problem}")
    est, name = _model(ctx, data, columns, target)
    x = data.catalog[columns].to_numpy(np.float32)
    problem = steps.output_problem(est, x, columns) if user else None
    if problem:
        raise ConfigError(f"photoz: [model] {name!r}: {problem}")
    y = data.catalog[target].to_numpy(float)
    col_bands = steps.column_bands(columns, (ctx.config.get("data") or {}).get("bands"))
    ctx.store.update(params=p, seed=ctx.seed, data=data, columns=columns, target=target, split=split,
                     model_name=name, col_bands=col_bands, estimator=est)
    base = {"x": x, "y": y, "model": est, "test": split.test,
            "train": split.train if len(split.train) else split.test}
    pred = ctx.cached("predictions", base, lambda: steps.predict(est, x))
    metrics = steps.score(y[split.test], pred[split.test], model=name, threshold=p.outlier_threshold,
                          n_boot=p.n_boot, ci_level=p.ci_level, seed=ctx.seed)
    ctx.store["metrics"] = metrics
    ctx.add_table("metrics", metrics)
    _attribution_step(ctx, x, y, base)
    _ablation_steps(ctx, x, y, base)
    _pid_step(ctx)
    _causal_step(ctx, pred)


def _attribution_step(ctx: Any, x: np.ndarray, y: np.ndarray, base: dict) -> None:
    p, est, train = ctx.params, ctx.store["estimator"], base["train"]
    baseline = steps.attribution_baseline(x, train, p)
    f0, ctx.store["baseline_warning"] = steps.baseline_check(est, baseline, y[train])
    rows = steps.attribution_rows(base["test"], p.n_attribution, ctx.seed)
    frame = ctx.cached("attribution", {**base, "rows": rows, "baseline": baseline, "steps": p.ig_steps},
                       lambda: steps.attribution(est, x[rows], baseline, ctx.store["col_bands"],
                                                 n_steps=p.ig_steps, seed=ctx.seed))
    frame.attrs.update(f_baseline=f0, n=len(rows), baseline=p.baseline)
    ctx.store["attribution_bands"] = steps.per_band(frame)
    ctx.add_table("attribution_columns", frame)
    ctx.add_table("attribution_bands", ctx.store["attribution_bands"])


def _ablation_steps(ctx: Any, x: np.ndarray, y: np.ndarray, base: dict) -> None:
    p, est, split, col_bands = ctx.params, ctx.store["estimator"], ctx.store["split"], ctx.store["col_bands"]
    test, train, layout = split.test, base["train"], steps.band_layout(col_bands)
    key = {**base, "strategy": p.strategy, "threshold": p.outlier_threshold}
    masked = ctx.cached("masking", key, lambda: steps.masking(
        est, x[test], y[test], x[train], layout, strategy=p.strategy, threshold=p.outlier_threshold,
        seed=ctx.seed, n_jobs=ctx.jobs))
    ctx.add_table("masking", masked.table)
    ctx.store["retrain"] = None
    if p.retrain == "hgb" and len(split.train):
        frame = ctx.store["data"].catalog[ctx.store["columns"]].astype(float)
        retrain = ctx.cached("retrain", {**key, "fit": "hgb"}, lambda: steps.retrain_leave_one_out(
            RefitHGB(), frame.iloc[split.train], y[split.train], frame.iloc[test], y[test], col_bands,
            threshold=p.outlier_threshold, seed=ctx.seed, n_jobs=ctx.jobs))
        ctx.add_table("retrain", retrain)
    shp = ctx.cached("shapley", {**key, "metric": p.shapley_metric, "n_boot": p.n_boot_shapley},
                     lambda: steps.shapley(est, x[test], y[test], x[train], layout, metric=p.shapley_metric,
                                           strategy=p.strategy, threshold=p.outlier_threshold,
                                           n_boot=p.n_boot_shapley, seed=ctx.seed))
    ctx.add_table("shapley", shp.to_frame().reset_index())


def _pid_step(ctx: Any) -> None:
    p, s = ctx.params, ctx.store
    rows = s["split"].test
    found = steps.pid_sources(s["data"].catalog, s["columns"], s["col_bands"], rows)
    s.update(pid=None, pid_groups=None)
    if found is None:
        return
    groups, sources = found
    z = s["data"].catalog[s["target"]].to_numpy(float)[rows]
    r = ctx.cached("pid", {"z": z, "sources": sources, "measure": p.pid_measure, "bins": p.pid_bins,
                           "n_boot": p.pid_n_boot, "splits": p.pid_n_splits, "seed": ctx.seed},
                   lambda: steps.colour_pid(z, sources, p, ctx.seed))
    s["pid_groups"] = groups
    ctx.add_table("pid", r.to_frame().reset_index())


def _causal_step(ctx: Any, pred: np.ndarray) -> None:
    p, s = ctx.params, ctx.store
    names = steps.causal_colours(s["columns"], s["col_bands"])
    s["edge_stability"] = None
    if not names:
        return
    frame = steps.causal_frame(s["data"].catalog, s["split"].test, s["target"], pred, names)
    s["causal_skipped"] = steps.causal_problem(frame, p.causal_test)
    if s["causal_skipped"]:
        return
    max_rows = steps.causal_max_rows(p)
    freq = ctx.cached("edge_stability", {"frame": frame, "test": p.causal_test, "alpha": p.causal_alpha,
                                         "n_boot": p.causal_n_boot, "max_rows": max_rows, "seed": ctx.seed},
                      lambda: steps.causal(frame, test=p.causal_test, alpha=p.causal_alpha,
                                           n_boot=p.causal_n_boot, seed=ctx.seed, n_jobs=ctx.jobs,
                                           max_rows=max_rows))
    freq.attrs.update(steps.edge_attrs(frame, p))
    ctx.add_table("edge_stability", steps.edge_table(freq))
