"""Pure steps of the ``band_utilization`` study: (data, two-input photo-z estimator, parameters) -> tables.

The steps answer which of the bands (u g r i z W1-W4 on the mock universe) a photo-z network taking
``(images, magnitudes)`` uses and what each is worth: its held-out accuracy (:func:`predictions`,
:func:`metrics_table`); what the trained network *relies on*, by masking a band's image channel and magnitude
together (:func:`ablation_mask`); what *information* a band carries, by refitting a photometry-only model
without it (:func:`ablation_retrain`); exact band Shapley values and pairwise interactions over all 2^B
masked subsets (:func:`all_subset_predictions`, :func:`shapley_from_predictions`); and integrated gradients
per band and input (:func:`attribution_table`). :func:`findings` turns the outputs into the report's lines.

None reads a config, touches a run context, writes a file (unless given a ``cache_dir``) or keeps state;
:func:`run_all` wires them without a runner and returns the dict the figure functions read, so the study
can be reused from a notebook on one's own arrays::

    from interpret.studies.band_utilization import Params, steps, figures
    out = steps.run_all(Params(fast=True, n_shapley=32), data=my_data, est=my_model, seed=0)
    fig = figures.fig_shapley(out)
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import interpret as ip
from interpret.exceptions import ConfigError

from ..._seeding import int_seed
from .._data import BandNames, StudyData, fit_subset, split_rows
from .._models import RefitHGB, RefitMLP
from .params import METRICS, Params

__all__ = ["METRICS", "as_study_data", "band_names", "inputs", "trainable", "reference_model",
           "held_out_split", "predictions", "subset_metrics", "metrics_table", "prediction_report", "subsets",
           "group_names", "ablation_mask", "ablation_retrain", "subset_table", "compare_table",
           "all_subset_predictions", "shapley_from_predictions", "shapley_table", "attribution_table",
           "findings", "run_all"]

# --- data and model ----------------------------------------------------------------------------------------
def as_study_data(data: Any) -> StudyData:
    """A :class:`~interpret.studies._data.StudyData` for ``data``: itself, or one built from anything with
    ``catalog`` (a magnitude column per band + ``redshift``), ``images`` ``(n, B, H, W)`` and ``bands`` (names,
    or a band set with ``.names``), such as a mock :class:`~interpret.mock.Universe`."""
    if isinstance(data, StudyData):
        return data
    return StudyData(catalog=data.catalog, bands=data.bands, images=data.images, source="user",
                     split=getattr(data, "split", None), name=getattr(data, "name", None) or "user data")


def band_names(data: Any) -> list[str]:
    """The band names in image-channel order; refuses data without cutouts or a magnitude column per band."""
    names = list(data.bands.names if hasattr(data.bands, "names") else data.bands or [])
    missing = [b for b in [*names, "redshift"] if b not in data.catalog]
    if data.images is None or not names or missing:
        raise ConfigError(f"band_utilization: needs image cutouts and a catalogue with one magnitude column per "
                          f"image band plus 'redshift'; missing {missing or 'images'}")
    values = data.catalog[[*names, "redshift"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values)
    if bad.any():
        cols = [f"{c} ({int(k)} rows)" for c, k in zip([*names, "redshift"], bad.sum(axis=0)) if k]
        rows = np.flatnonzero(bad.any(axis=1))
        raise ConfigError(f"band_utilization: the network takes every band of every galaxy, but the catalogue has "
                          f"missing or non-numeric values in {', '.join(cols)} (rows {', '.join(map(str, rows[:5]))}"
                          f"{', ...' if len(rows) > 5 else ''}); drop those rows, fill non-detections (e.g. with "
                          "the limiting magnitude), or leave the band out with [data] bands = [...]")
    return names


def inputs(data: Any, bands: list[str], rows: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, ...]:
    """The network's two inputs for ``rows``: cutouts ``(n, B, H, W)`` and magnitudes ``(n, B)``, float32."""
    mags = data.catalog[bands].to_numpy(np.float32)[rows]
    return np.asarray(data.images[rows], dtype=np.float32), mags


def trainable(data: Any) -> Any:
    """User data whose bands are a plain list -> the same data with a :class:`BandNames` container."""
    if hasattr(data.bands, "names"):
        return data
    return dataclasses.replace(data, bands=BandNames(list(data.bands)))


def reference_model(data: Any, params: Params, *, seed: int, num_threads: int = 1, progress: bool | None = False,
                    cache_dir: str | Path | None = None) -> Any:
    """The reference two-input photo-z network (image CNN + magnitude MLP) trained on ``data`` minus the
    user's test rows (``ip.mock.train_reference``; cached in ``cache_dir`` when one is given)."""
    return ip.mock.train_reference(trainable(fit_subset(data)), task="photoz", seed=seed, fast=bool(params.fast),
                                   n_epochs=int(params.n_epochs) or None, num_threads=num_threads,
                                   progress=progress, cache=cache_dir is not None, cache_dir=cache_dir)


def held_out_split(data: Any, seed: int) -> dict[str, np.ndarray]:
    """Held-out rows: the user's test rows (``[data] split``), else the reference split's."""
    test = split_rows(data, reference=(len(data), seed)).test
    return {"test": test, "train": np.setdiff1d(np.arange(len(data)), test)}


def predictions(est: Any, data: Any, bands: list[str], split: dict, p: Params, *, seed: int) -> dict[str, np.ndarray]:
    """Held-out z_phot, and the rows of the Shapley and attribution subsamples (seeded)."""
    test = split["test"]
    zp = np.asarray(est.predict(inputs(data, bands, test), batch_size=p.batch_size, progress=False),
                    float).reshape(-1)
    rng = np.random.default_rng([seed, 11])
    sub = lambda k: np.sort(rng.choice(len(test), min(int(k), len(test)), replace=False))  # noqa: E731
    return {"test": test, "z_phot": zp, "shapley_rows": sub(p.n_shapley),
            "attribution_rows": sub(p.n_attribution)}


# --- metrics -----------------------------------------------------------------------------------------------
def subset_metrics(pred: np.ndarray, z: np.ndarray, threshold: float) -> dict[str, np.ndarray]:
    """bias, sigma_NMAD, eta, RMSE for predictions ``(..., n)`` of truths ``(n,)``; vectorised over subsets."""
    dz = (pred - z) / (1 + z)
    med = np.median(dz, axis=-1, keepdims=True)
    return {"sigma_nmad": 1.4826 * np.median(np.abs(dz - med), axis=-1),
            "outlier_fraction": np.mean(np.abs(dz) > threshold, axis=-1),
            "bias": np.mean(dz, axis=-1), "rmse": np.sqrt(np.mean((pred - z) ** 2, axis=-1))}


def metrics_table(z_phot: np.ndarray, z: np.ndarray, p: Params) -> pd.DataFrame:
    """Held-out metrics of the network with 68 % bootstrap intervals."""
    rng = np.random.default_rng(0)
    boots = rng.integers(0, len(z), (int(p.n_boot), len(z)))
    point = subset_metrics(z_phot, z, p.outlier_threshold)
    draws = subset_metrics(z_phot[boots], z[boots], p.outlier_threshold)
    return pd.DataFrame([{"metric": m, "value": float(point[m]), "ci16": np.percentile(draws[m], 16),
                          "ci84": np.percentile(draws[m], 84), "n_test": len(z)} for m in METRICS])


def prediction_report(z_true: np.ndarray, z_phot: np.ndarray, *, threshold: float) -> Any:
    """The held-out z_phot-vs-z_true report (``ip.metrics.evaluate``) that the predictions panel draws."""
    return ip.metrics.evaluate(z_true, z_phot, redshift=True, threshold=threshold, quantity="redshift")


# --- ablation ----------------------------------------------------------------------------------------------
def subsets(bands: list[str], groups: Mapping[str, list[str]]) -> list[Any]:
    """Leave-one-out plus the named groups (as ``{"drop": [...]}``), skipping groups with unknown bands."""
    out: list[Any] = [{"drop": [b]} for b in bands]
    for bs in groups.values():
        if all(b in bands for b in bs) and len(bs) < len(bands):
            out.append({"drop": list(bs)})
    return out


def group_names(bands: list[str], groups: Mapping[str, list[str]]) -> dict[tuple[str, ...], str]:
    """Dropped-band tuple (band order) -> readable subset name ("no u", "no WISE", "no W1", ...)."""
    names = {(b,): f"no {b}" for b in bands}
    for name, bs in groups.items():
        if all(b in bands for b in bs):
            names[tuple(b for b in bands if b in bs)] = name.replace("_", " ")
    return names


def ablation_mask(est: Any, data: Any, bands: list[str], split: dict, p: Params, *, strategy: str, seed: int,
                  progress: bool | None = None) -> Any:
    """Masking ablation on the held-out split: image channel + magnitude of each band removed together."""
    test, train = split["test"], split["train"]
    return ip.ablation.band_ablation(
        est, inputs(data, bands, test), data.catalog["redshift"].to_numpy(float)[test], bands=bands,
        strategy=ip.ablation.Fill(strategy, reference=inputs(data, bands, train)), subsets=subsets(bands, p.groups),
        metrics=METRICS, metric_kwargs={"threshold": p.outlier_threshold}, redshift=True,
        batching=ip.ablation.Batching(batch_size=int(p.batch_size)), seed=seed, n_jobs=1, progress=progress)


def ablation_retrain(data: Any, bands: list[str], p: Params, *, seed: int, n_jobs: int | None = None,
                     progress: bool | None = None, num_threads: int = 1,
                     cache_dir: str | Path | None = None) -> Any:
    """Retrain-mode ablation: a photometry-only model refitted per subset, scored on a seeded held-out split.

    The refit is ``p.retrain_model``: "hgb" (scikit-learn HistGradientBoosting on magnitudes + adjacent
    colours) or "mlp" (the reference trainer, its fits cached in ``cache_dir`` when one is given). The user's
    test rows never enter it.
    """
    data = fit_subset(data)
    if p.retrain_model == "mlp":
        kw = {"fast": bool(p.fast), "n_epochs": int(p.retrain_epochs) or None, "progress": False,
              "num_threads": num_threads, "cache_dir": cache_dir}
        if cache_dir is None:
            kw["cache"] = False
        fit: Any = RefitMLP("photoz", trainable(data).bands, "redshift", kw)
    else:
        fit = RefitHGB("photoz", p.hgb_max_iter)
    return ip.ablation.band_ablation(
        None, data.catalog[bands].astype(float), data.catalog["redshift"].to_numpy(float), bands=bands,
        retrain=ip.ablation.RetrainSpec(fit, test_size=p.retrain_test_size), subsets=subsets(bands, p.groups),
        metrics=METRICS, metric_kwargs={"threshold": p.outlier_threshold}, redshift=True, seed=seed,
        n_jobs=n_jobs, progress=progress)    # the refit classes live in the package: workers import them


def subset_table(results: Mapping[str, Any], names: Mapping[tuple[str, ...], str]) -> pd.DataFrame:
    """Long table: one row per (mode, subset) with bias, sigma_NMAD, eta, RMSE and their changes."""
    rows = []
    for key, r in results.items():
        t = r.table.copy()
        t.insert(0, "mode", key)
        t.insert(1, "subset", [names.get(tuple(d), lab) if d else "all bands"
                                for d, lab in zip(t["dropped"], t["label"])])
        rows.append(t)
    out = pd.concat(rows, ignore_index=True)
    out["kept"] = out["kept"].map(" ".join)
    out["dropped"] = out["dropped"].map(" ".join)
    return out


def compare_table(masked: Any, retrained: Any, metric: str = "sigma_nmad") -> pd.DataFrame:
    """Masking beside retraining per subset (``ip.ablation.compare_modes``), band tuples joined by spaces."""
    cmp = ip.ablation.compare_modes(masked, retrained, metric)
    return cmp.reset_index().assign(kept=lambda f: f["kept"].map(" ".join),
                                    dropped=lambda f: f["dropped"].map(" ".join))


# --- exact Shapley from all 2^B masked subsets -------------------------------------------------------------
def all_subset_predictions(est: Any, data: Any, bands: list[str], split: dict, rows: np.ndarray, p: Params, *,
                           seed: int, progress: bool | None = None) -> dict[str, np.ndarray]:
    """Predictions ``(2^B, n)`` of every band subset (bit i of the row index = band i kept), masked."""
    from interpret.ablation.subsets import all_masks

    sel = split["test"][rows]
    x = ip.ablation.ModelInputs.from_x(inputs(data, bands, sel), func="band_utilization")
    layout = ip.ablation.resolve_layout(x, bands, func="band_utilization")
    ref = ip.ablation.ModelInputs.from_x(inputs(data, bands, split["train"]), func="band_utilization")
    filler = ip.ablation.get_strategy(p.shapley_strategy).fit(ref, layout, seed)
    masks = all_masks(len(bands))
    preds = ip.ablation.masked_predictions(est, x, layout, filler, masks, batch_size=int(p.batch_size),
                                           n_jobs=1, progress=progress)
    return {"predictions": preds.astype(np.float64), "z_true": data.catalog["redshift"].to_numpy(float)[sel],
            "rows": sel}


def shapley_from_predictions(sub: Mapping[str, np.ndarray], bands: list[str], metric: str, p: Params, *,
                             seed: int) -> Any:
    """Exact Shapley values + interactions of ``metric``; bootstrap standard errors over galaxies.

    The 2^B x n predictions are computed once (:func:`all_subset_predictions`), so resampling galaxies is
    free. The game is the decrease of the error metric: a positive value means the band helps.
    """
    from interpret.ablation import ShapleyResult, exact_interactions, exact_shapley

    preds, z = sub["predictions"], sub["z_true"]
    v = subset_metrics(preds, z, p.outlier_threshold)[metric]
    rng = np.random.default_rng([seed, 23])
    phis, inters = [], []
    for _ in range(int(p.n_boot)):
        b = rng.integers(0, len(z), len(z))
        vb = subset_metrics(preds[:, b], z[b], p.outlier_threshold)[metric]
        phis.append(exact_shapley(vb))
        inters.append(exact_interactions(vb))
    idx = pd.Index(bands, name="band")
    se = pd.Series(np.std(phis, axis=0, ddof=1), index=idx, name="se") if len(phis) > 1 else None
    ise = pd.DataFrame(np.std(inters, axis=0, ddof=1), index=idx, columns=bands) if len(inters) > 1 else None
    return ShapleyResult(
        values=pd.Series(-exact_shapley(v), index=idx, name=metric),
        interactions=pd.DataFrame(-exact_interactions(v), index=idx, columns=bands), v_all=float(v[-1]),
        v_none=float(v[0]), metric=metric, strategy=p.shapley_strategy, exact=True, standard_errors=se,
        interaction_standard_errors=ise, subset_values=pd.Series(v, name="value"),
        details={"n_boot": len(phis), "n_samples": len(z), "errors": "bootstrap over held-out galaxies"})


def shapley_table(results: Mapping[str, Any]) -> pd.DataFrame:
    """Long table of the Shapley values of every metric (``metric -> ShapleyResult``)."""
    return pd.concat([r.to_frame().assign(metric=m).reset_index() for m, r in results.items()],
                     ignore_index=True)


# --- attribution -------------------------------------------------------------------------------------------
def attribution_table(est: Any, data: Any, bands: list[str], split: dict, rows: np.ndarray, p: Params, *,
                      progress: bool | None = None) -> pd.DataFrame:
    """Integrated gradients per band: image-channel and magnitude shares of |attribution|, and signed sums.

    Baseline: zero-flux images and the training-mean magnitudes (zero magnitudes would be an impossibly
    bright galaxy).
    """
    sel = split["test"][rows]
    x = inputs(data, bands, sel)
    base = (np.zeros(x[0].shape[1:], np.float32), inputs(data, bands, split["train"])[1].mean(axis=0))
    a = ip.attribution.attribute(est, x, "integrated_gradients", baselines=base, n_steps=int(p.ig_steps),
                                 batch_size=16, progress=progress)
    img, mag = a.per_band(bands, input=0), a.per_band(bands, input=1)
    total = img["absolute"].sum() + mag["absolute"].sum()
    out = pd.DataFrame({"image_abs": img["absolute"], "magnitude_abs": mag["absolute"],
                        "image_signed": img["signed"], "magnitude_signed": mag["signed"]})
    out["image_share"] = out["image_abs"] / total
    out["magnitude_share"] = out["magnitude_abs"] / total
    out["share"] = out["image_share"] + out["magnitude_share"]
    gap = np.abs(np.asarray(a.output, float) - np.asarray(a.baseline_output, float)) \
        if a.baseline_output is not None else np.full(len(sel), np.nan)
    delta = np.abs(np.asarray(a.delta, float)) if a.delta is not None else np.full(len(sel), np.nan)
    out["n_galaxies"] = len(sel)
    out["completeness_rel"] = float(np.nanmedian(delta / np.maximum(gap, 1e-12)))
    return out.reset_index()


# --- findings ----------------------------------------------------------------------------------------------
def findings(out: Mapping[str, Any]) -> list[str]:
    """The report's lines from the step outputs (the keys :func:`run_all` returns): accuracy, Shapley,
    masking vs retraining, attribution."""
    p, bands, pred, data = out["params"], out["bands"], out["predictions"], out["data"]
    t = out["metrics"].set_index("metric")["value"]
    lines = [f"{len(data)} galaxies ({data.source}); bands {' '.join(bands)}; held-out n = "
             f"{len(pred['test'])}. Network: bias {t['bias']:+.4f}, sigma_NMAD {t['sigma_nmad']:.4f}, "
             f"eta {100 * t['outlier_fraction']:.1f} %, RMSE {t['rmse']:.3f}."]
    lines.extend(_shapley_notes(out["shapley"], bands, p))
    lines.extend(_ablation_notes(out["subset_metrics"], out["compare"], p))
    lines.append(_attribution_note(out["attribution"], out["shapley"][p.shapley_metrics[0]], p))
    return lines


def _shapley_notes(results: Mapping[str, Any], bands: list[str], p: Params) -> list[str]:
    out = []
    for metric in p.shapley_metrics:
        r = results[metric]
        order = r.values.sort_values(ascending=False).index[:3]
        top = ", ".join(f"{b} {r.values[b]:+.4f}±{r.standard_errors[b]:.4f}" for b in order)
        out.append(f"Exact Shapley ({metric}, {p.shapley_strategy} fill, {2 ** len(r.values)} subsets x "
                   f"{r.details['n_samples']} held-out galaxies; most useful first): {top}; "
                   f"v(all) = {r.v_all:.4f}, v(none) = {r.v_none:.4f}.")
    r = results[p.shapley_metrics[0]]
    harmful = r.values[r.values < 0]
    if len(harmful):
        out.append(f"Under the {p.shapley_strategy} fill, adding {', '.join(harmful.index)} *raises* "
                   f"{r.metric} on average (Shapley {', '.join(f'{v:+.4f}' for v in harmful)}): a real band next "
                   f"to mean-filled ones is an off-manifold input, so these values measure the network's "
                   f"reliance under interventions, not the information the band carries (compare retraining).")
    mat = r.interactions.to_numpy(float)
    iu = np.triu_indices(len(bands), 1)
    lo, hi = np.argmin(mat[iu]), np.argmax(mat[iu])
    pair = lambda k: f"{bands[iu[0][k]]}-{bands[iu[1][k]]} {mat[iu][k]:+.4f}"  # noqa: E731
    out.append(f"Pairwise interactions ({r.metric}): strongest synergy (negative: the pair lowers the error "
               f"more together) {pair(lo)}; strongest redundancy (positive) {pair(hi)}.")
    return out


def _ablation_notes(tab: pd.DataFrame, compare: Mapping[str, pd.DataFrame], p: Params) -> list[str]:
    out = []
    for strategy in p.strategies:
        cmp = compare[strategy].iloc[1:]
        names = tab[tab["mode"] == f"mask_{strategy}"].set_index("label")["subset"]
        cmp = cmp.assign(name=cmp["label"].map(names))
        worst = cmp.loc[cmp["delta_sigma_nmad_mask"].idxmax()]
        gap = (cmp["delta_sigma_nmad_mask"] - cmp["delta_sigma_nmad_retrain"])
        dis = cmp.loc[gap.idxmax()]
        why = ("the network leans on it although the other bands carry most of its information"
               if gap.max() > 0 else "retraining loses more than masking everywhere")
        out.append(f"Masking ({strategy}): '{worst['name']}' hurts most, delta sigma_NMAD "
                   f"{worst['delta_sigma_nmad_mask']:+.4f} (retrained photometry-only model: "
                   f"{worst['delta_sigma_nmad_retrain']:+.4f}). Largest mask-minus-retrain gap: '{dis['name']}' "
                   f"({dis['delta_sigma_nmad_mask']:+.4f} masked vs {dis['delta_sigma_nmad_retrain']:+.4f} "
                   f"retrained): {why}.")
        rev = cmp.loc[gap.idxmin()]
        if gap.min() < 0:
            out.append(f"Opposite direction ({strategy}): '{rev['name']}' costs less masked "
                       f"({rev['delta_sigma_nmad_mask']:+.4f}) than retrained ({rev['delta_sigma_nmad_retrain']:+.4f})"
                       f" - the fill {'reconstructs it from the kept bands' if strategy == 'inpaint' else 'barely matters'}"
                       f" and the network keeps the images of the other bands, which the photometry-only refit lacks.")
    full = tab[tab["dropped"] == ""].set_index("mode")
    groups = [g.replace("_", " ") for g in p.groups]
    rows = tab[tab["subset"].isin(groups)]
    txt = "; ".join(f"{s}: " + ", ".join(f"{m} {100 * v:.1f} %" for m, v in
                                         rows[rows["subset"] == s].set_index("mode")["outlier_fraction"].items())
                    for s in groups if s in set(rows["subset"]))
    base = ", ".join(f"{m} {100 * v:.1f} %" for m, v in full["outlier_fraction"].items())
    out.append(f"Outlier fraction eta with all bands: {base}. Mantis Shrimp-style groups: {txt}.")
    return out


def _attribution_note(attribution: pd.DataFrame, first: Any, p: Params) -> str:
    a = attribution.set_index("band")
    top = a["share"].sort_values(ascending=False)
    rho = pd.Series(a["share"]).rank().corr(first.values.rank())
    return (f"Integrated gradients ({int(a['n_galaxies'].iloc[0])} held-out galaxies, {p.ig_steps} "
            f"steps, median relative completeness error {a['completeness_rel'].iloc[0]:.2g}): "
            f"{', '.join(f'{b} {100 * v:.0f} %' for b, v in top.iloc[:3].items())} of |attribution|; image "
            f"channels {100 * a['image_share'].sum():.0f} %, magnitudes {100 * a['magnitude_share'].sum():.0f} %. "
            f"Rank correlation of the IG share with the Shapley usefulness: {rho:+.2f}.")


# --- everything --------------------------------------------------------------------------------------------
def run_all(params: Params, *, data: Any = None, est: Any = None, seed: int | np.random.Generator | None = None,
            n: int = 3000, n_jobs: int | None = None, progress: bool | None = None,
            cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Every step in order, without a runner; the dict holds what the figure functions read.

    Parameters
    ----------
    params : Params
        The study's parameters (:class:`interpret.studies.band_utilization.Params`).
    data : StudyData or Universe-like, optional
        ``catalog`` (one magnitude column per band + ``redshift``), ``images`` ``(n, B, H, W)`` and ``bands``;
        an optional ``split`` array (train / val / test) is honoured. Default: a mock universe of ``n``
        galaxies drawn with ``seed``.
    est : estimator, optional
        A two-input model taking ``(images, magnitudes)`` (anything ``ip.load_estimator`` wraps). Default:
        the reference network trained on ``data`` (:func:`reference_model`).
    seed : int, Generator or None, default None
        Seeds every step (None: fresh randomness; the int used is returned under ``"seed"``).
    n : int, default 3000
        Galaxies of the default mock universe.
    n_jobs : int, optional
        Workers of the retrain refits.
    progress : bool or None, default None
        Progress bars of the long steps.
    cache_dir : path, optional
        Where the reference network and MLP refits are cached (default: nothing is written).

    Returns
    -------
    dict
        ``params``, ``seed``, ``data``, ``bands``, ``split``, ``estimator``, ``predictions``, ``metrics``,
        ``prediction_report``, ``masking`` (strategy -> result), ``retrain``, ``modes``, ``subset_metrics``,
        ``compare`` (strategy -> table), ``all_subsets``, ``shapley`` (metric -> result), ``attribution``,
        ``tables`` (the report's tables by name) and ``notes``; the figure functions read the keys in
        :data:`interpret.studies.band_utilization.figures.NEEDS`.

    Examples
    --------
    The demo's setting on a fresh 1,000-galaxy mock universe (trains the reference network: about a minute):

    >>> from interpret.studies.band_utilization import Params, figures, steps
    >>> out = steps.run_all(Params(fast=True, n_shapley=48, n_boot=100), n=1000, seed=0)  # doctest: +SKIP
    >>> out["tables"]["subset_metrics"].groupby("mode").size()["retrain"]                  # doctest: +SKIP
    13
    >>> fig = figures.fig_shapley(out)                                                     # doctest: +SKIP
    """
    params.validate()
    seed = int_seed(seed)
    if data is None:
        u = ip.mock.make_universe(n=n, seed=seed, spectra=False, progress=progress)
        data = StudyData(catalog=u.catalog, bands=u.bands, images=u.images, wavelength=u.wavelength,
                         spectra=u.spectra, truth=u.truth, source="mock", universe=u, name="mock universe")
    data = as_study_data(data)
    bands = band_names(data)
    split = held_out_split(data, seed)
    if est is None:
        est = reference_model(data, params, seed=seed, num_threads=max(1, n_jobs or 1), progress=progress,
                              cache_dir=cache_dir)
    out: dict[str, Any] = {"params": params, "seed": seed, "data": data, "bands": bands, "split": split,
                           "estimator": est}
    pred = out["predictions"] = predictions(est, data, bands, split, params, seed=seed)
    z = data.catalog["redshift"].to_numpy(float)[pred["test"]]
    out["metrics"] = metrics_table(pred["z_phot"], z, params)
    out["prediction_report"] = prediction_report(z, pred["z_phot"], threshold=params.outlier_threshold)
    out["masking"] = {s: ablation_mask(est, data, bands, split, params, strategy=s, seed=seed, progress=progress)
                      for s in params.strategies}
    out["retrain"] = ablation_retrain(data, bands, params, seed=seed, n_jobs=n_jobs, progress=progress,
                                      num_threads=max(1, n_jobs or 1),
                                      cache_dir=None if cache_dir is None else Path(cache_dir) / "refits")
    results = {f"mask_{s}": r for s, r in out["masking"].items()} | {"retrain": out["retrain"]}
    out["modes"] = list(results)
    out["subset_metrics"] = subset_table(results, group_names(bands, params.groups))
    out["compare"] = {s: compare_table(out["masking"][s], out["retrain"]) for s in params.strategies}
    out["all_subsets"] = all_subset_predictions(est, data, bands, split, pred["shapley_rows"], params,
                                                seed=seed, progress=progress)
    out["shapley"] = {m: shapley_from_predictions(out["all_subsets"], bands, m, params, seed=seed)
                      for m in params.shapley_metrics}
    out["attribution"] = attribution_table(est, data, bands, split, pred["attribution_rows"], params,
                                          progress=progress)
    out["tables"] = {"metrics": out["metrics"], "subset_metrics": out["subset_metrics"],
                     **{f"compare_{s}": t for s, t in out["compare"].items()},
                     "shapley": shapley_table(out["shapley"]),
                     "interactions": out["shapley"][params.shapley_metrics[0]].interactions.reset_index(),
                     "attribution": out["attribution"]}
    out["notes"] = findings(out)
    return out
