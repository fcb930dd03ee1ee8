"""Band utilization of a photo-z network: which of u g r i z W1-W4 does it use, and what is each band worth?

After Engel et al. (2025), "Mantis Shrimp: exploring photometric band utilization in computer vision
networks for photometric redshift estimation", arXiv:2501.09112 (GALEX + Pan-STARRS + unWISE cutouts).
On the mock universe (9 bands u g r i z W1 W2 W3 W4; cutouts (n, 9, 32, 32) + asinh magnitudes) the
reference photo-z network (``ip.mock.train_reference(u, task="photoz")``: an image CNN branch and a
magnitude MLP branch, the PICZL / Mantis Shrimp two-input design) is probed four ways:

1. **Masking** (what the trained network *relies on*): a band's image channel *and* its magnitude are
   removed together (one :class:`~interpret.ablation.BandLayout` entry spans both inputs) and filled with
   several strategies (``mean``: training-set mean image/magnitude; ``inpaint``: the conditional mean
   given the kept bands). Subsets: leave-one-out plus Mantis Shrimp's groups (no u - the UV band standing
   in for GALEX -, no WISE, neither).
2. **Retraining** (what *information* a band carries): a photometry-only model (sklearn
   HistGradientBoosting on magnitudes + adjacent colours, or the reference MLP trainer) refitted, seeded,
   for every subset; side by side with masking (``ip.ablation.compare_modes``). Retraining the CNN itself
   per subset is out of scope here (minutes per fit on a CPU).
3. **Exact band Shapley values** over all 2^9 = 512 band subsets (masked with the mean fill) and the
   pairwise Shapley interaction indices, for sigma_NMAD, the outlier fraction eta and the RMSE; errors
   from a bootstrap over galaxies (the 512 x n predictions are computed once; resampling is free).
   512 forward passes per galaxy make this the expensive step: it runs on a held-out *subsample*
   (``n_shapley`` galaxies, 150 by default, 64 in the demo).
4. **Attribution**: integrated gradients of the network on a held-out subsample (zero-flux image baseline,
   training-mean magnitudes), summed per band and per input (image channel vs magnitude).

Outputs: bias, sigma_NMAD and eta (|dz|/(1+z) > 0.15) per subset and mode (table + figure), the
z_phot-vs-z_true panel, Shapley bars, the interaction heatmap and the per-band attribution.

Run on your own model and data (a two-input model taking ``(images, magnitudes)`` with the magnitude
columns in band order; the ``[model]`` block is optional - without it the reference network is trained)::

    study = "band_utilization"
    [data]
    catalog = "my_catalog.fits"          # one AB magnitude column per band + "redshift"
    images = "my_cutouts.h5"             # (n, B, H, W) with band names (interpret.data.write_cutouts)
    [model]
    path = "my_photoz.pt"                # TorchScript, or a state dict + factory:
    factory = "interpret.mock.models:ImageCatalogNet"
    factory_kwargs = {n_bands = 5, n_mags = 5, image_size = 32}
    input_names = ["image", "magnitudes"]
    [params]
    groups = {no_WISE = ["W1", "W2", "W3", "W4"]}   # groups naming bands you lack are skipped

Galaxies are split with the reference split (``ip.mock.reference_split``, 70/15/15 %): masking, Shapley
and attribution use the held-out 15 % (fill statistics from the training 70 %). Retraining uses its own
seeded 75/25 % split of all galaxies (``retrain_test_size``), so its "all bands" row is the photometry-only
model's own baseline and the ``delta_`` columns compare like with like.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

import interpret as ip
from interpret.exceptions import ConfigError

from .._data import BandNames, fit_subset, note_unknown_split, split_rows, study_data
from .._models import RefitHGB, RefitMLP, baseline_notes, study_model
from .._models import panel as _panel
from .._params import StudyParams

log = logging.getLogger(__name__)

#: The [data] keys this study reads (any other is refused). With ``split`` every held-out number uses the
#: user's test rows, and the models the study fits itself never see them.
DATA_KEYS = frozenset({"catalog", "images", "target", "bands", "split", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the band_utilization study (the config's ``[params]`` table)."""

    fast: bool = False  # few-epoch training (demo / tests)
    n_epochs: int = 0  # CNN epochs (0: trainer default, 40, or 6 with fast)
    strategies: tuple[str, ...] = ('mean', 'inpaint')  # masking fills compared (interpret.ablation.STRATEGIES)
    groups: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({'no_u': ['u'], 'no_WISE': ['W1', 'W2', 'W3', 'W4'], 'no_u_no_WISE': ['u', 'W1', 'W2', 'W3', 'W4'], 'no_W3_W4': ['W3', 'W4']}))
    retrain_model: str = 'hgb'  # photometry-only refit: "hgb" (sklearn) or "mlp" (reference trainer)
    retrain_test_size: float = 0.25  # held-out fraction of retrain mode
    retrain_epochs: int = 0  # MLP refit epochs (0: trainer default; fast: 18)
    hgb_max_iter: int = 300  # boosting iterations of the HGB refit
    shapley_strategy: str = 'mean'  # fill of the exact Shapley game
    shapley_metrics: tuple[str, ...] = ('sigma_nmad', 'outlier_fraction', 'rmse')
    n_shapley: int = 150  # held-out galaxies of the 512-subset Shapley game
    n_boot: int = 200  # galaxy bootstrap resamples (Shapley errors, metric intervals)
    n_attribution: int = 100  # held-out galaxies attributed with integrated gradients
    ig_steps: int = 32  # integration nodes of integrated gradients
    outlier_threshold: float = 0.15  # |dz|/(1+z) defining an outlier (eta)
    batch_size: int = 512  # rows per forward pass
METRICS = ("sigma_nmad", "outlier_fraction", "bias", "rmse")
LABELS = {"sigma_nmad": r"$\sigma_\mathrm{NMAD}$", "outlier_fraction": r"$\eta$ (outlier fraction)",
          "bias": r"bias $\langle\Delta z/(1+z)\rangle$", "rmse": "RMSE (redshift)"}


# --- data and model ----------------------------------------------------------------------------------------
def _band_names(data: Any) -> list[str]:
    names = list(data.bands.names if hasattr(data.bands, "names") else data.bands or [])
    missing = [b for b in [*names, "redshift"] if b not in data.catalog]
    if data.images is None or not names or missing:
        raise ConfigError(f"band_utilization: needs image cutouts and a catalogue with one magnitude column per "
                          f"image band plus 'redshift'; missing {missing or 'images'}")
    return names


def _inputs(data: Any, bands: list[str], rows: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, ...]:
    mags = data.catalog[bands].to_numpy(np.float32)[rows]
    return np.asarray(data.images[rows], dtype=np.float32), mags


def _trainable(data: Any) -> Any:
    """User data whose bands are a plain list -> the same data with a :class:`BandNames` container."""
    if hasattr(data.bands, "names"):
        return data
    return dataclasses.replace(data, bands=BandNames(list(data.bands)))


def photoz_model(ctx: Any, data: Any) -> Any:
    """The user's model from ``[model]``, else the reference two-input photo-z network (cached)."""
    epochs = int(ctx.params.n_epochs) or None
    return study_model(ctx, _trainable(fit_subset(data)) if not ctx.config.get("model") else data, "photoz",
                       n_epochs=epochs, num_threads=max(1, int(ctx.config["jobs"])))


def _split(data: Any, seed: int) -> dict[str, np.ndarray]:
    """Held-out rows: the user's test rows (``[data] split``), else the reference split's."""
    test = split_rows(data, reference=(len(data), seed)).test
    return {"test": test, "train": np.setdiff1d(np.arange(len(data)), test)}


def predictions(est: Any, data: Any, bands: list[str], split: dict, p: dict, seed: int) -> dict[str, np.ndarray]:
    """Held-out z_phot, and the rows of the Shapley and attribution subsamples (seeded)."""
    test = split["test"]
    zp = np.asarray(est.predict(_inputs(data, bands, test), batch_size=p.batch_size, progress=False),
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


def metrics_table(z_phot: np.ndarray, z: np.ndarray, p: dict) -> pd.DataFrame:
    """Held-out metrics of the network with 68 % bootstrap intervals."""
    rng = np.random.default_rng(0)
    boots = rng.integers(0, len(z), (int(p.n_boot), len(z)))
    point = subset_metrics(z_phot, z, p.outlier_threshold)
    draws = subset_metrics(z_phot[boots], z[boots], p.outlier_threshold)
    return pd.DataFrame([{"metric": m, "value": float(point[m]), "ci16": np.percentile(draws[m], 16),
                          "ci84": np.percentile(draws[m], 84), "n_test": len(z)} for m in METRICS])


# --- ablation ----------------------------------------------------------------------------------------------
def subsets(bands: list[str], groups: dict[str, list[str]]) -> list[Any]:
    """Leave-one-out plus the named groups (as ``{"drop": [...]}``), skipping groups with unknown bands."""
    out: list[Any] = [{"drop": [b]} for b in bands]
    for bs in groups.values():
        if all(b in bands for b in bs) and len(bs) < len(bands):
            out.append({"drop": list(bs)})
    return out


def group_names(bands: list[str], groups: dict[str, list[str]]) -> dict[tuple[str, ...], str]:
    """Dropped-band tuple (band order) -> readable subset name ("no u", "no WISE", "no W1", ...)."""
    names = {(b,): f"no {b}" for b in bands}
    for name, bs in groups.items():
        if all(b in bands for b in bs):
            names[tuple(b for b in bands if b in bs)] = name.replace("_", " ")
    return names


def ablation_mask(est: Any, data: Any, bands: list[str], split: dict, strategy: str, p: dict, seed: int,
                  progress: Any) -> Any:
    """Masking ablation on the held-out split: image channel + magnitude of each band removed together."""
    test, train = split["test"], split["train"]
    return ip.ablation.band_ablation(
        est, _inputs(data, bands, test), data.catalog["redshift"].to_numpy(float)[test], bands=bands,
        strategy=ip.ablation.Fill(strategy, reference=_inputs(data, bands, train)), subsets=subsets(bands, p.groups),
        metrics=METRICS, metric_kwargs={"threshold": p.outlier_threshold}, redshift=True,
        batching=ip.ablation.Batching(batch_size=int(p.batch_size)), seed=seed, n_jobs=1, progress=progress)


def ablation_retrain(ctx: Any, data: Any, bands: list[str]) -> Any:
    """Retrain-mode ablation: a photometry-only model refitted per subset, scored on a seeded held-out split."""
    p = ctx.params
    data = fit_subset(data)               # never the user's test rows
    if p.retrain_model == "mlp":
        kw = {"fast": bool(p.fast), "n_epochs": int(p.retrain_epochs) or None, "progress": False,
              "num_threads": max(1, int(ctx.config["jobs"])), "cache_dir": ctx.cache_dir / "refits"}
        fit: Any = RefitMLP("photoz", _trainable(data).bands, "redshift", kw)
    else:
        fit = RefitHGB("photoz", p.hgb_max_iter)
    return ip.ablation.band_ablation(
        None, data.catalog[bands].astype(float), data.catalog["redshift"].to_numpy(float), bands=bands,
        retrain=ip.ablation.RetrainSpec(fit, test_size=p.retrain_test_size), subsets=subsets(bands, p.groups),
        metrics=METRICS, metric_kwargs={"threshold": p.outlier_threshold}, redshift=True, seed=ctx.seed,
        n_jobs=ctx.jobs, progress=ctx.progress)    # the refit classes live in the package: workers import them


def subset_table(results: dict[str, Any], names: dict[tuple[str, ...], str]) -> pd.DataFrame:
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


# --- exact Shapley from all 512 masked subsets -------------------------------------------------------------
def all_subset_predictions(est: Any, data: Any, bands: list[str], split: dict, rows: np.ndarray, p: dict,
                           seed: int, progress: Any) -> dict[str, np.ndarray]:
    """Predictions ``(2^B, n)`` of every band subset (bit i of the row index = band i kept), masked."""
    from interpret.ablation.subsets import all_masks

    sel = split["test"][rows]
    inputs = ip.ablation.ModelInputs.from_x(_inputs(data, bands, sel), func="band_utilization")
    layout = ip.ablation.resolve_layout(inputs, bands, func="band_utilization")
    ref = ip.ablation.ModelInputs.from_x(_inputs(data, bands, split["train"]), func="band_utilization")
    filler = ip.ablation.get_strategy(p.shapley_strategy).fit(ref, layout, seed)
    masks = all_masks(len(bands))
    preds = ip.ablation.masked_predictions(est, inputs, layout, filler, masks, batch_size=int(p.batch_size),
                                           n_jobs=1, progress=progress)
    return {"predictions": preds.astype(np.float64), "z_true": data.catalog["redshift"].to_numpy(float)[sel],
            "rows": sel}


def shapley_from_predictions(sub: dict[str, np.ndarray], bands: list[str], metric: str, p: dict,
                             seed: int) -> Any:
    """Exact Shapley values + interactions of ``metric``; bootstrap standard errors over galaxies."""
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
    # error metrics: the game is the decrease of the error, so a positive value means the band helps
    return ShapleyResult(
        values=pd.Series(-exact_shapley(v), index=idx, name=metric),
        interactions=pd.DataFrame(-exact_interactions(v), index=idx, columns=bands), v_all=float(v[-1]),
        v_none=float(v[0]), metric=metric, strategy=p.shapley_strategy, exact=True, standard_errors=se,
        interaction_standard_errors=ise, subset_values=pd.Series(v, name="value"),
        details={"n_boot": len(phis), "n_samples": len(z), "errors": "bootstrap over held-out galaxies"})


# --- attribution -------------------------------------------------------------------------------------------
def attribution_table(est: Any, data: Any, bands: list[str], split: dict, rows: np.ndarray, p: dict,
                      progress: Any) -> pd.DataFrame:
    """Integrated gradients per band: image-channel and magnitude shares of |attribution|, and signed sums."""
    sel = split["test"][rows]
    x = _inputs(data, bands, sel)
    base = (np.zeros(x[0].shape[1:], np.float32), _inputs(data, bands, split["train"])[1].mean(axis=0))
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


# --- compute -----------------------------------------------------------------------------------------------
def _check_params(p: dict[str, Any]) -> None:
    if p.retrain_model not in ("hgb", "mlp"):
        raise ConfigError(f"band_utilization: params.retrain_model must be 'hgb' or 'mlp'; got "
                          f"{p.retrain_model!r}")
    bad = [s for s in [*p.strategies, p.shapley_strategy] if s not in ip.ablation.STRATEGIES]
    if bad:
        raise ConfigError(f"band_utilization: unknown fill strategies {bad}; valid ones are "
                          f"{sorted(ip.ablation.STRATEGIES)}")
    bad = [m for m in p.shapley_metrics if m not in METRICS]
    if bad or not p.shapley_metrics:
        raise ConfigError(f"band_utilization: params.shapley_metrics must be a non-empty subset of "
                          f"{list(METRICS)}; got {p.shapley_metrics}")
    if not isinstance(p.groups, Mapping):
        raise ConfigError("band_utilization: params.groups must be a table {name = [bands dropped]}")


def compute(ctx: Any) -> None:
    """Train (or load) the network, then masking + retrain ablation, exact Shapley and attribution (cached)."""
    p = ctx.params
    _check_params(p)
    data = study_data(ctx, 3000, spectra=False)
    bands = _band_names(data)
    ctx.store.update(data=data, bands=bands)
    split = _split(data, ctx.seed)
    note_unknown_split(ctx, data)
    base = {"seed": ctx.seed, "n": ctx.config["n"], "fast": p.fast, "n_epochs": p.n_epochs,
            "data": ctx.config.get("data"), "model": ctx.config.get("model"), "bands": bands}
    with ctx.timed("model"):
        est = photoz_model(ctx, data)
    ctx.store["estimator"] = est
    z = data.catalog["redshift"].to_numpy(float)
    sample = {k: getattr(p, k) for k in ("n_shapley", "n_attribution", "batch_size")}
    pred = ctx.cached("predictions", {**base, **sample}, lambda: predictions(est, data, bands, split, p, ctx.seed))
    ctx.add_table("metrics", metrics_table(pred["z_phot"], z[pred["test"]], p))
    _ablation_steps(ctx, est, data, bands, split, base)
    sub = ctx.cached("all_subsets", {**base, **sample, "strategy": p.shapley_strategy},
                     lambda: all_subset_predictions(est, data, bands, split, pred["shapley_rows"], p, ctx.seed,
                                                    ctx.progress))
    shap_rows = []
    for metric in p.shapley_metrics:
        key = {**base, **sample, "strategy": p.shapley_strategy, "metric": metric, "n_boot": p.n_boot,
               "threshold": p.outlier_threshold}
        r = ctx.cached(f"shapley_{metric}", key, lambda m=metric: shapley_from_predictions(sub, bands, m, p,
                                                                                          ctx.seed))
        shap_rows.append(r.to_frame().assign(metric=metric).reset_index())
    ctx.add_table("shapley", pd.concat(shap_rows, ignore_index=True))
    first = ctx.load(f"shapley_{p.shapley_metrics[0]}")
    ctx.add_table("interactions", first.interactions.reset_index())
    with baseline_notes(ctx.notes, "Attribution baseline (training-mean magnitudes, zero-flux images)"):
        attr = ctx.cached("attribution", {**base, **sample, "ig_steps": p.ig_steps},
                          lambda: attribution_table(est, data, bands, split, pred["attribution_rows"], p,
                                                    ctx.progress))
    ctx.add_table("attribution", attr)
    _notes(ctx, bands, pred)


def _ablation_steps(ctx: Any, est: Any, data: Any, bands: list[str], split: dict, base: dict) -> None:
    p = ctx.params
    key = {**base, "groups": p.groups, "threshold": p.outlier_threshold}
    results = {}
    for strategy in p.strategies:
        results[f"mask_{strategy}"] = ctx.cached(
            f"mask_{strategy}", {**key, "strategy": strategy},
            lambda s=strategy: ablation_mask(est, data, bands, split, s, p, ctx.seed, ctx.progress))
    results["retrain"] = ctx.cached(
        "retrain", {**key, "model": p.retrain_model, "test_size": p.retrain_test_size,
                    "epochs": p.retrain_epochs, "max_iter": p.hgb_max_iter}, lambda: ablation_retrain(ctx, data, bands))
    ctx.store["modes"] = list(results)
    ctx.add_table("subset_metrics", subset_table(results, group_names(bands, p.groups)))
    for strategy in p.strategies:
        cmp = ip.ablation.compare_modes(results[f"mask_{strategy}"], results["retrain"], "sigma_nmad")
        ctx.add_table(f"compare_{strategy}", cmp.reset_index().assign(kept=lambda f: f["kept"].map(" ".join),
                                                                    dropped=lambda f: f["dropped"].map(" ".join)))


# --- findings ----------------------------------------------------------------------------------------------
def _notes(ctx: Any, bands: list[str], pred: dict) -> None:
    t = ctx.tables["metrics"].set_index("metric")["value"]
    data = ctx.load("data")
    ctx.notes.append(f"{len(data)} galaxies ({data.source}); bands {' '.join(bands)}; held-out n = "
                     f"{len(pred['test'])}. Network: bias {t['bias']:+.4f}, sigma_NMAD {t['sigma_nmad']:.4f}, "
                     f"eta {100 * t['outlier_fraction']:.1f} %, RMSE {t['rmse']:.3f}.")
    ctx.notes.extend(_shapley_notes(ctx, bands))
    ctx.notes.extend(_ablation_notes(ctx))
    ctx.notes.append(_attribution_note(ctx, bands))


def _shapley_notes(ctx: Any, bands: list[str]) -> list[str]:
    p, out = ctx.params, []
    for metric in p.shapley_metrics:
        r = ctx.load(f"shapley_{metric}")
        order = r.values.sort_values(ascending=False).index[:3]
        top = ", ".join(f"{b} {r.values[b]:+.4f}±{r.standard_errors[b]:.4f}" for b in order)
        out.append(f"Exact Shapley ({metric}, {p.shapley_strategy} fill, 512 subsets x "
                   f"{r.details['n_samples']} held-out galaxies; most useful first): {top}; "
                   f"v(all) = {r.v_all:.4f}, v(none) = {r.v_none:.4f}.")
    r = ctx.load(f"shapley_{p.shapley_metrics[0]}")
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


def _ablation_notes(ctx: Any) -> list[str]:
    p, out = ctx.params, []
    tab = ctx.tables["subset_metrics"]
    for strategy in p.strategies:
        cmp = ctx.tables[f"compare_{strategy}"].iloc[1:]
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


def _attribution_note(ctx: Any, bands: list[str]) -> str:
    a = ctx.tables["attribution"].set_index("band")
    top = a["share"].sort_values(ascending=False)
    shap = ctx.load(f"shapley_{ctx.params.shapley_metrics[0]}").values
    rho = pd.Series(a["share"]).rank().corr(shap.rank())
    return (f"Integrated gradients ({int(a['n_galaxies'].iloc[0])} held-out galaxies, {ctx.params.ig_steps} "
            f"steps, median relative completeness error {a['completeness_rel'].iloc[0]:.2g}): "
            f"{', '.join(f'{b} {100 * v:.0f} %' for b, v in top.iloc[:3].items())} of |attribution|; image "
            f"channels {100 * a['image_share'].sum():.0f} %, magnitudes {100 * a['magnitude_share'].sum():.0f} %. "
            f"Rank correlation of the IG share with the Shapley usefulness: {rho:+.2f}.")


# --- figures -----------------------------------------------------------------------------------------------
def _figure(ncols: int, width: float, height: float, **kw: Any) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height), layout="constrained", squeeze=False, **kw)
    return fig, axes[0]



def fig_predictions(ctx: Any) -> Any:
    """Held-out z_phot against z_true of the photo-z network, with bias, sigma_NMAD and eta."""
    pred, data = ctx.load("predictions"), ctx.load("data")
    z = data.catalog["redshift"].to_numpy(float)[pred["test"]]
    rep = ip.metrics.evaluate(z, pred["z_phot"], redshift=True, threshold=ctx.params.outlier_threshold,
                              quantity="redshift")
    fig, axes = _figure(1, 3.5, 3.5)
    ip.plots.metrics.plot_predictions(rep, ax=axes[0])
    axes[0].set(xlabel=r"true redshift $z_\mathrm{true}$", ylabel=r"photometric redshift $z_\mathrm{phot}$")
    axes[0].set_title("CNN + magnitudes, all 9 bands (held out)", loc="left")
    return fig


def fig_ablation(ctx: Any) -> Any:
    """Masking (each fill) beside retraining: change of sigma_NMAD without each band or band group."""
    from matplotlib.ticker import MaxNLocator

    from interpret.plots._style import PAGE_WIDTH

    strategies = ctx.params.strategies
    retrain = ctx.load("retrain")
    n_rows = len(retrain.table) - 1
    fig, axes = _figure(len(strategies), PAGE_WIDTH if len(strategies) > 1 else 3.6, 0.26 * n_rows + 1.6,
                        sharey=True)
    for k, (ax, strategy) in enumerate(zip(axes, strategies)):
        ip.plots.ablation.plot_ablation_comparison(ctx.load(f"mask_{strategy}"), retrain, "sigma_nmad", ax=ax)
        ax.set_xlabel(r"$\Delta\sigma_\mathrm{NMAD}$ vs. all bands (dimensionless)")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        _panel(ax, "abcd"[k])
    names = ctx.tables["subset_metrics"].drop_duplicates("label").set_index("label")["subset"]
    axes[0].set_yticks(axes[0].get_yticks(), [names.get(t.get_text(), t.get_text())
                                              for t in axes[0].get_yticklabels()])
    return fig


def fig_subset_metrics(ctx: Any) -> Any:
    """bias, sigma_NMAD and eta per band subset, for every masking fill and for retraining."""
    from interpret.plots._style import PAGE_WIDTH, color_cycle

    tab = ctx.tables["subset_metrics"]
    order = list(dict.fromkeys(tab["subset"]))
    fig, axes = _figure(3, PAGE_WIDTH, 0.22 * len(order) + 1.5, sharey=True)
    markers = dict(zip(ctx.store["modes"], "osD^v"))
    colors = dict(zip(ctx.store["modes"], color_cycle()))
    pos = {s: len(order) - 1 - i for i, s in enumerate(order)}
    for k, (ax, metric) in enumerate(zip(axes, ("bias", "sigma_nmad", "outlier_fraction"))):
        for j, (mode, grp) in enumerate(tab.groupby("mode", sort=False)):
            y = np.array([pos[s] for s in grp["subset"]]) + 0.22 * (j - (len(markers) - 1) / 2)
            ax.scatter(grp[metric], y, marker=markers[mode], color=colors[mode], s=14, label=_mode_label(mode),
                       zorder=3)
        if metric == "bias":
            ax.axvline(0, color="k", lw=0.6)
        ax.set_xlabel(LABELS[metric])
        ax.grid(axis="y", color="0.9", lw=0.5)
        _panel(ax, "abc"[k])
    axes[0].set_yticks(list(pos.values()), list(pos.keys()))
    axes[0].tick_params(axis="y", which="minor", left=False, right=False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(markers), handletextpad=0.2)
    return fig


def _mode_label(mode: str) -> str:
    return f"masked ({mode.removeprefix('mask_')})" if mode.startswith("mask_") else "retrained (photometry)"


def fig_shapley(ctx: Any) -> Any:
    """Exact band Shapley values (decrease of each error metric) with bootstrap errors."""
    from interpret.plots._style import PAGE_WIDTH

    metrics = ctx.params.shapley_metrics
    fig, axes = _figure(len(metrics), PAGE_WIDTH if len(metrics) > 1 else 3.5, 2.6)
    for k, (ax, metric) in enumerate(zip(axes, metrics)):
        r = ctx.load(f"shapley_{metric}")
        ip.plots.ablation.plot_shapley(r, ax=ax)
        unit = " (redshift)" if metric == "rmse" else ""
        ax.set_ylabel(f"Shapley value: decrease of\n{ip.plots.ablation._metric_label(metric)}{unit} (> 0: helps)")
        ax.set_title(f"Σ = v(none) − v(all) = {r.v_none - r.v_all:.3g}\n±1σ: {r.details['n_boot']} bootstraps",
                     loc="left", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        _panel(ax, "abc"[k])
    fig.suptitle(f"Exact band Shapley values ({ctx.params.shapley_strategy} fill, 512 subsets, "
                 f"{ctx.load(f'shapley_{metrics[0]}').details['n_samples']} held-out galaxies)", fontsize=8)
    return fig


def fig_interactions(ctx: Any) -> Any:
    """Pairwise Shapley interaction indices of the bands (first Shapley metric)."""
    r = ctx.load(f"shapley_{ctx.params.shapley_metrics[0]}")
    fig, axes = _figure(1, 4.6, 3.9)
    ax = axes[0]
    ip.plots.ablation.plot_interactions(r, ax=ax, annotate=False)
    mat = r.interactions.to_numpy(float)
    vmax = float(np.nanmax(np.abs(mat))) or 1.0
    for i, j in zip(*np.nonzero(np.isfinite(mat))):
        ax.text(j, i, f"{1e3 * mat[i, j]:.3g}", ha="center", va="center", fontsize=5.5,
                color="white" if abs(mat[i, j]) > 0.6 * vmax else "black")
    ax.set_title(f"Pairwise Shapley interactions ({ip.plots.ablation._metric_label(r.metric)}; cells "
                 "$\\times 10^3$);\nnegative: the pair lowers the error more together", loc="left", fontsize=8)
    return fig


def fig_attribution(ctx: Any) -> Any:
    """Per-band share of |integrated gradients| (image channel vs magnitude) beside the Shapley share."""
    from interpret.plots._style import PALETTE

    a = ctx.tables["attribution"].set_index("band")
    shap = ctx.load(f"shapley_{ctx.params.shapley_metrics[0]}").values
    shap_share = shap.clip(lower=0) / shap.clip(lower=0).sum()
    fig, axes = _figure(1, 3.6, 2.8)
    ax, x = axes[0], np.arange(len(a))
    ax.bar(x - 0.2, a["image_share"], 0.38, color=PALETTE["blue"], label="IG: image channel")
    ax.bar(x - 0.2, a["magnitude_share"], 0.38, bottom=a["image_share"], color=PALETTE["skyblue"],
           label="IG: magnitude")
    ax.bar(x + 0.2, shap_share.reindex(a.index).to_numpy(), 0.38, color=PALETTE["orange"],
           label=f"Shapley ({ip.plots.ablation._metric_label(shap.name)} decrease; < 0 shown as 0)")
    ax.set_xticks(x, list(a.index))
    ax.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax.set_ylabel("share of total (per band)")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=1, fontsize=6.5, handlelength=1.0)
    ax.text(0.98, 0.97, f"IG on {int(a['n_galaxies'].iloc[0])} held-out galaxies", transform=ax.transAxes,
            ha="right", va="top", fontsize=6.5)
    return fig


FIGURES = [fig_predictions, fig_ablation, fig_subset_metrics, fig_shapley, fig_interactions, fig_attribution]
