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
    pixel_scale = 0.262               # arcsec / pixel of the cutouts (effective-radius apertures)
"""
from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import interpret as ip
from interpret.exceptions import ConfigError, EstimationWarning

from .._data import colours as colour_frame
from .._data import fit_subset, note_unknown_split, study_data
from .._models import baseline_notes, study_model
from .._models import panel as _panel
from .._params import StudyParams

log = logging.getLogger(__name__)

#: The [data] keys this study reads (any other is refused). It has no train/val/test split key yet: it
#: scores its models on the reference split.
DATA_KEYS = frozenset({"catalog", "images", "target", "bands", "split", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the stellar_mass study (the config's ``[params]`` table)."""

    fast: bool = False  # few-epoch CNN training (demo / tests)
    n_epochs: int = 20  # CNN epochs (0: trainer default, 40; ignored when fast)
    bands: str = 'sdss'  # mock image bands (anything ip.data.bands.get_bandset accepts)
    pixel_scale: float = 0.396  # mock pixel scale (arcsec); SDSS's
    image_size: int = 32  # mock cutout side (pixels)
    redshift_range: tuple[float, ...] = (0.02, 0.4)  # mock redshifts (optical sources at z ~ 0.5+ are a few pixels across)
    phot_model: str = 'hgb'  # photometry-only model: "hgb" (sklearn) or "mlp" (reference PhotometryMLP)
    phot_redshift: bool = True  # the photometry model gets the spec-z (the CNN does not)
    mass_outlier_dex: float = 0.3  # |Delta log M| defining a catastrophic outlier
    n_boot_metrics: int = 200  # bootstrap resamples of the held-out metrics
    colours: tuple[str, ...] = ('u-g', 'g-r', 'r-i', 'i-z')
    magnitude: str = 'r'  # the magnitude node of the causal graph
    causal_methods: tuple[str, ...] = ('pc', 'fci')
    causal_test: str = 'fisherz'
    causal_alpha: float = 0.01
    causal_n_boot: int = 50
    min_edge_frequency: float = 0.5  # edges drawn in the graph figure
    pid_pairs: tuple[str, ...] = ('phot_vs_morph', 'colours_vs_morph', 'phot_vs_cnn')
    pid_measures: tuple[str, ...] = ('broja', 'mmi', 'wb')
    pid_bins: int = 8
    pid_n_boot: int = 100
    pid_ci_level: float = 0.9
    pid_n_splits: int = 5  # cross-fitting folds reducing a multi-column source to one variable
    pid_knn: bool = True  # also the kNN (binning-free) MMI decomposition of every pair
    knn_k: int = 5
    knn_scaling: str = 'standardize'  # kNN route scaling of each source ("standardize" or "whiten")
    pointwise_pair: str = 'phot_vs_cnn'  # per-galaxy neural PID of this pair ("" to skip)
    pointwise_classes: int = 10
    pointwise_folds: int = 5
    pointwise_epochs: int = 40
    pointwise_hidden: tuple[int, ...] = (32, 32)
    pointwise_batch: int = 64
    n_attribution: int = 100  # galaxies attributed with integrated gradients
    ig_steps: int = 32
    radial_bins: int = 8
    local_queries: tuple[str, ...] = ('sersic_n', 'r_eff_arcsec', 'axis_ratio', 'g-r')
    local_k: int = 50
    local_n_perm: int = 100
    local_alpha: float = 0.05
MORPH = ("sersic_n", "r_eff_arcsec")
PRED = {"cnn": "mass_cnn", "phot": "mass_phot"}
MODEL_LABEL = {"cnn": "image CNN", "phot": "photometry"}
PAIR_LABEL = {"phot_vs_morph": "photometry model vs morphology", "colours_vs_morph": "colours vs morphology",
              "phot_vs_cnn": "photometry model vs image CNN"}
#: What renders a mock cutout (beyond noise): every SED parameter, the bulge share and the light profile.
IMAGE_PARENTS = ("redshift", "log_mstar", "log_sfr", "age", "metallicity", "dust_av", "agn_frac", "bulge_frac",
                 "sersic_n", "r_eff", "axis_ratio", "position_angle")
LOG_COLUMNS = ("r_eff", "r_eff_arcsec")


# --- data and models ---------------------------------------------------------------------------------------
def load_data(ctx: Any) -> Any:
    """The user's files, else the seeded mock universe (no spectra) with the study's imaging setup."""
    p = ctx.params
    return study_data(ctx, 3000, bands=p.bands, pixel_scale=float(p.pixel_scale),
                      image_size=int(p.image_size), redshift_range=tuple(float(v) for v in p.redshift_range),
                      spectra=False)


def band_names(data: Any) -> list[str]:
    """Image band names; checks the catalogue holds what the study needs."""
    names = list(data.bands.names if hasattr(data.bands, "names") else data.bands or [])
    missing = [c for c in [*names, "redshift", "log_mstar"] if c not in data.catalog]
    if data.images is None or not names or missing:
        raise ConfigError(f"stellar_mass: needs image cutouts and a catalogue with 'log_mstar', 'redshift' and one "
                          f"magnitude column per image band; missing {missing or 'images'}")
    return names


def _trainable(data: Any) -> Any:
    if hasattr(data.bands, "names"):
        return data
    return dataclasses.replace(data, bands=ip.data.bands.get_bandset(list(data.bands)))


def cnn_model(ctx: Any, data: Any) -> Any:
    """The user's model from ``[model]``, else the reference image CNN (cached in the run folder)."""
    epochs = int(ctx.params.n_epochs) or None
    return study_model(ctx, data if ctx.config.get("model") else _trainable(fit_subset(data)), "stellar_mass",
                       n_epochs=None if ctx.params.fast else epochs, num_threads=max(1, int(ctx.config["jobs"])))


def splits(data: Any, seed: int) -> dict[str, np.ndarray]:
    """Train rows, held-out test rows and the analysis rows (validation + test): the user's split
    (``[data] split``) when given, else the reference split."""
    if data.split is not None:
        idx = np.arange(len(data))
        return {"train": idx[data.split == "train"], "test": idx[data.split == "test"],
                "analysis": idx[data.split != "train"]}
    s = ip.mock.reference_split(len(data), seed)
    return {"train": np.asarray(s.train), "test": np.asarray(s.test),
            "analysis": np.sort(np.concatenate([s.val, s.test]))}


def phot_features(cat: pd.DataFrame, bands: list[str], redshift: bool) -> np.ndarray:
    """Magnitudes, adjacent colours and (optionally) spec-z."""
    mags = cat[bands].to_numpy(float)
    cols = [mags, np.diff(mags, axis=1)] + ([cat[["redshift"]].to_numpy(float)] if redshift else [])
    return np.column_stack(cols)


def phot_predictions(ctx: Any, data: Any, bands: list[str], train: np.ndarray) -> np.ndarray:
    """Photometry-only stellar mass for every galaxy, fitted on the reference training rows."""
    p, cat = ctx.params, data.catalog
    if p.phot_model == "mlp":
        cols = [*bands, "redshift", "log_mstar"]
        fit_cat = fit_subset(data).catalog      # never the user's test rows
        ds = ip.datasets.Dataset(name="phot", catalog=fit_cat[cols].astype(float).reset_index(drop=True),
                                 bands=_trainable(data).bands, source="phot")
        est = ip.mock.train_reference(ds, task="stellar_mass", bands=bands, seed=ctx.seed, fast=bool(p.fast),
                                      progress=False, num_threads=1, cache_dir=ctx.cache_dir / "models")
        return np.asarray(est.predict(cat[[*bands, "redshift"]].to_numpy(np.float32), progress=False),
                          float).ravel()
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    x = phot_features(cat, bands, bool(p.phot_redshift))
    model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.1, random_state=ctx.seed)
    with threadpool_limits(1):
        model.fit(x[train], cat["log_mstar"].to_numpy(float)[train])
        return np.asarray(model.predict(x), float)


def predict_and_embed(est: Any, images: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
    """The network's predictions and its penultimate-layer features (input of its last Linear layer; None if
    unreachable), from one forward pass over ``images``."""
    import torch

    module = getattr(est, "module", None)
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)] if module is not None else []
    feats: list[np.ndarray] = []
    handle = None
    if linears:
        try:
            handle = linears[-1].register_forward_hook(
                lambda _m, inp, _o: feats.append(inp[0].detach().cpu().numpy()))
        except Exception as exc:   # noqa: BLE001 - e.g. TorchScript modules without hook support
            log.warning("stellar_mass: no embedding (%s)", exc)
    try:
        pred = np.asarray(est.predict(images, batch_size=batch_size, progress=False), float).reshape(-1)
    finally:
        if handle is not None:
            handle.remove()
    emb = np.concatenate(feats).astype(np.float64) if feats else None
    if emb is not None and len(emb) != len(pred):
        log.warning("stellar_mass: no embedding (%d feature rows for %d galaxies)", len(emb), len(pred))
        emb = None
    return pred, emb


def predictions(ctx: Any, est: Any, data: Any, bands: list[str]) -> dict[str, np.ndarray]:
    """Both models' masses for every galaxy, the split, and the CNN embedding of the analysis rows (taken
    during the prediction pass: one forward pass over the cutouts, the step's cost at survey size)."""
    sp = splits(data, ctx.seed)
    cnn, emb = predict_and_embed(est, np.asarray(data.images, np.float32))
    out = {**sp, "mass_cnn": cnn, "mass_phot": phot_predictions(ctx, data, bands, sp["train"])}
    if emb is not None:
        out["embedding"] = emb[sp["analysis"]]
    return out


# --- metrics -----------------------------------------------------------------------------------------------
def _mass_metrics(pred: np.ndarray, true: np.ndarray, thr: float) -> dict[str, float]:
    return {"scatter": float(np.std(pred - true)), "bias": ip.metrics.bias(true, pred),
            "sigma_nmad": ip.metrics.sigma_nmad(true, pred),
            "outlier_fraction": ip.metrics.outlier_fraction(true, pred, threshold=thr),
            "rmse": ip.metrics.rmse(true, pred)}


def metrics_table(cat: pd.DataFrame, pred: dict, p: dict, seed: int) -> pd.DataFrame:
    """Held-out (test split) metrics of both models in dex, with 68 % bootstrap intervals."""
    test = pred["test"]
    y = cat["log_mstar"].to_numpy(float)[test]
    rng = np.random.default_rng([seed, 3])
    boots = rng.integers(0, len(y), (int(p.n_boot_metrics), len(y)))
    rows = []
    for key, col in PRED.items():
        yp = pred[col][test]
        point = _mass_metrics(yp, y, p.mass_outlier_dex)
        draws = [_mass_metrics(yp[b], y[b], p.mass_outlier_dex) for b in boots]
        for m, v in point.items():
            d = [x[m] for x in draws]
            rows.append({"model": key, "metric": m, "value": v, "ci16": np.percentile(d, 16) if d else np.nan,
                         "ci84": np.percentile(d, 84) if d else np.nan, "n_test": len(y),
                         "unit": "fraction" if m == "outlier_fraction" else "dex"})
    return pd.DataFrame(rows)


# --- causal ------------------------------------------------------------------------------------------------
def causal_frame(cat: pd.DataFrame, pred: dict, p: dict) -> pd.DataFrame:
    """Analysis rows: redshift, intrinsic, observable and predicted columns (sizes as log10)."""
    sub = cat.iloc[pred["analysis"]].reset_index(drop=True)
    intrinsic = [c for c in ("log_mstar", "sersic_n", "r_eff") if c in sub]
    frame = sub[["redshift", *intrinsic]].astype(float).copy()
    frame = frame.join(colour_frame(sub, list(p.colours)))
    for c in (p.magnitude, "r_eff_arcsec"):
        if c in sub:
            frame[c] = sub[c].to_numpy(float)
    for c in LOG_COLUMNS:
        if c in frame:
            frame[c] = np.log10(np.clip(frame[c].to_numpy(), 1e-6, None))
    for col in PRED.values():
        frame[col] = pred[col][pred["analysis"]]
    return frame


def causal_tiers(frame: pd.DataFrame) -> list[list[str]]:
    """redshift -> intrinsic (mass, Sersic n, r_eff) -> observables -> predictions."""
    intrinsic = [c for c in ("log_mstar", "sersic_n", "r_eff") if c in frame]
    preds = list(PRED.values())
    return [["redshift"], intrinsic, [c for c in frame if c not in ("redshift", *intrinsic, *preds)], preds]


def augmented_truth(dag: Any, frame: pd.DataFrame, bands: list[str], phot_redshift: bool) -> Any:
    """The planted DAG plus the study's derived nodes (colours, the latent image, both predictions)."""
    g = dag.copy()
    for c in frame.columns:
        if "-" in c and c not in g:
            a, b = c.split("-")
            g.add_edges_from([(a, c), (b, c)])
    g.add_edges_from((parent, "__image__") for parent in IMAGE_PARENTS if parent in g)
    g.add_edge("__image__", PRED["cnn"])
    g.add_edges_from((b, PRED["phot"]) for b in [*bands, *(["redshift"] if phot_redshift else [])])
    return g


def _causal_steps(ctx: Any, frame: pd.DataFrame, base: dict) -> None:
    p, data = ctx.params, ctx.load("data")
    tiers = causal_tiers(frame)
    rows = []
    for method in p.causal_methods:
        key = {**base, **{k: getattr(p, k) for k in ("colours", "magnitude", "causal_test", "causal_alpha")},
               "method": method}
        kw = dict(method=method, test=p.causal_test, alpha=float(p.causal_alpha), background=tiers)
        freq = ctx.cached(f"stability_{method}", {**key, "n_boot": p.causal_n_boot}, lambda kw=kw: (
            ip.causal.edge_stability(frame, n_boot=int(p.causal_n_boot), n_jobs=int(ctx.config["jobs"]),
                                     seed=ctx.seed, progress=ctx.progress, **kw)))
        freq.attrs.update(n_boot=int(p.causal_n_boot), method=method, test=p.causal_test,
                          alpha=float(p.causal_alpha), nodes=list(frame.columns), tiers=tiers)
        ctx.store[f"stability_{method}"] = freq
        graph = ctx.cached(f"graph_{method}", key, lambda kw=kw: ip.causal.discover(frame, **kw))
        row = {"method": method, "n_samples": graph.n_samples, "n_edges": len(graph.edges)}
        if data.truth is not None:
            truth = augmented_truth(data.truth.dag, frame, ctx.store["bands"], bool(p.phot_redshift))
            cmp = graph.compare(truth)
            row.update({k: cmp[k] for k in ("shd", "missing", "extra", "misoriented", "precision", "recall")},
                       n_true_edges=len(cmp["reference"]))
            ctx.store[f"reference_{method}"] = cmp["reference"]
        rows.append(row)
        table = freq.reset_index()
        table.insert(2, "present", 1.0 - table["absent"])
        ctx.add_table(f"edge_stability_{method}", table.sort_values("present", ascending=False))
    ctx.add_table("causal_summary", pd.DataFrame(rows))


# --- PID ---------------------------------------------------------------------------------------------------
def pid_sources(cat: pd.DataFrame, pred: dict, pair: str, p: dict) -> dict[str, np.ndarray] | None:
    """Raw sources of one pair on the analysis rows (None when a column is missing)."""
    rows = pred["analysis"]
    sub = cat.iloc[rows]
    morph = [c for c in MORPH if c in sub]
    parts = {"phot": pred[PRED["phot"]][rows, None], "cnn": pred[PRED["cnn"]][rows, None],
             "colours": colour_frame(sub, list(p.colours)).to_numpy(float),
             "morph": np.column_stack([np.log10(np.clip(sub[c].to_numpy(float), 1e-6, None)) if c in LOG_COLUMNS
                                       else sub[c].to_numpy(float) for c in morph]) if morph else None}
    a, b = pair.split("_vs_")
    if parts[a] is None or parts[b] is None or parts[a].shape[1] == 0:
        return None
    return {a: parts[a], b: parts[b]}


def reduce_sources(sources: dict[str, np.ndarray], target: np.ndarray, n_splits: int, seed: int
                   ) -> dict[str, np.ndarray]:
    """Multi-column sources -> their cross-fitted regression summary E[target | source] (one variable)."""
    from threadpoolctl import threadpool_limits

    from interpret.pid.discretize import reduce_source

    out = {}
    with threadpool_limits(1):
        for name, x in sources.items():
            out[name] = (x[:, 0] if x.shape[1] == 1 else
                         reduce_source(x, target, n_splits=n_splits, seed=seed, name=name)[0])
    return out


def _quiet(fn: Any) -> tuple[Any, list[str]]:
    """Run ``fn``; estimation warnings are returned (for the notes) instead of raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        r = fn()
    return r, [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]


def _noted(ctx: Any, what: str, step: Any) -> Any:
    """Run a cached step; its first estimation warning becomes a report line. Outside the cache, so that a
    cache hit (which replays the step's warnings) reports the same line."""
    r, warns = _quiet(step)
    if warns:
        ctx.notes.append(f"{what}: {warns[0]}")
    return r


def _pid_steps(ctx: Any, cat: pd.DataFrame, pred: dict, base: dict) -> None:
    p = ctx.params
    target = cat["log_mstar"].to_numpy(float)[pred["analysis"]]
    rows, done = [], {}
    for pair in p.pid_pairs:
        sources = pid_sources(cat, pred, pair, p)
        if sources is None:
            ctx.notes.append(f"PID pair '{pair}' skipped: its columns are missing from the data.")
            continue
        key = {**base, "pair": pair, "colours": p.colours, "n_splits": p.pid_n_splits}
        summ = ctx.cached(f"pid_sources_{pair}", key,
                          lambda s=sources: reduce_sources(s, target, int(p.pid_n_splits), ctx.seed))
        for measure in p.pid_measures:
            pkey = {**key, "measure": measure, "bins": p.pid_bins, "n_boot": p.pid_n_boot,
                    "ci": p.pid_ci_level}
            done[(pair, measure)] = _noted(ctx, f"PID {measure}", lambda s=summ, m=measure, k=pkey,
                                           name=f"pid_{pair}_{measure}": ctx.cached(
                name, k, lambda: _pid_binned(ctx, s, target, m)))
        if p.pid_knn:     # on the same one-variable summaries, so only the binning differs
            kkey = {**key, "k": p.knn_k, "on": "summaries", "scaling": p.knn_scaling, "n_boot": p.pid_n_boot,
                    "ci": p.pid_ci_level}
            done[(pair, "knn")] = _noted(ctx, "PID knn", lambda s=summ, k=kkey, name=f"pid_{pair}_knn": ctx.cached(
                name, k, lambda: _pid_knn(ctx, s, target)))
        for (pr, m), r in done.items():
            if pr == pair:
                rows.append(r.to_frame().reset_index().assign(pair=pair, measure=m))
    ctx.store["pid"] = done
    if rows:
        ctx.add_table("pid", pd.concat(rows, ignore_index=True))


def _pid_binned(ctx: Any, summ: dict, target: np.ndarray, measure: str) -> Any:
    p = ctx.params
    resampling = ip.pid.Resampling(n_boot=int(p.pid_n_boot), ci_level=float(p.pid_ci_level))
    return ip.pid.decompose(target, summ, measure=measure, bins=int(p.pid_bins), resampling=resampling,
                            seed=ctx.seed, n_jobs=1, progress=False)


def _pid_knn(ctx: Any, sources: dict, target: np.ndarray) -> Any:
    p = ctx.params
    resampling = ip.pid.Resampling(n_boot=int(p.pid_n_boot), ci_level=float(p.pid_ci_level))
    return ip.pid.decompose(target, sources, method=ip.pid.KNN(k=int(p.knn_k), scaling=p.knn_scaling),
                            measure="mmi", resampling=resampling, seed=ctx.seed, n_jobs=1, progress=False)


def pointwise(ctx: Any, cat: pd.DataFrame, pred: dict) -> Any:
    """Per-galaxy neural MMI atoms of ``pointwise_pair`` about the true mass."""
    p = ctx.params
    sources = pid_sources(cat, pred, p.pointwise_pair, p)
    target = cat["log_mstar"].to_numpy(float)[pred["analysis"]]
    r, _ = _quiet(lambda: ip.pid.pointwise_decompose(
        target, sources, n_classes=int(p.pointwise_classes), n_folds=int(p.pointwise_folds),
        training=ip.pid.NeuralTraining(hidden=tuple(p.pointwise_hidden), epochs=int(p.pointwise_epochs),
                                       batch_size=int(p.pointwise_batch)), seed=ctx.seed,
        device=ctx.config["device"], n_jobs=1, progress=False))
    return r


# --- attribution and local dependence ----------------------------------------------------------------------
def attribution(ctx: Any, est: Any, data: Any, pred: dict) -> Any:
    """Integrated gradients (zero-flux baseline) of the CNN on a seeded subsample of the analysis rows."""
    p = ctx.params
    rows = attribution_rows(pred, p, ctx.seed)
    x = np.asarray(data.images[rows], np.float32)
    return ip.attribution.attribute(est, x, method="integrated_gradients", baselines="zeros",
                                    n_steps=int(p.ig_steps), batch_size=16, progress=ctx.progress)


def attribution_rows(pred: dict, p: dict, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 5])
    a = pred["analysis"]
    return np.sort(rng.choice(a, size=min(int(p.n_attribution), len(a)), replace=False))


RE_GRID = np.round(np.arange(0.25, 4.01, 0.25), 2)   # radii in units of the effective radius


def growth_curves(values: np.ndarray, images: np.ndarray, r_px: np.ndarray, grid: np.ndarray = RE_GRID
                  ) -> dict[str, np.ndarray]:
    """Per galaxy, the share of |attribution| and of the flux inside ``grid`` x R_e (shape (n, len(grid))).

    Fluxes are not clipped (pixel noise averages out; a faint galaxy's share can leave [0, 1]), so summarise
    across galaxies with the median.
    """
    h, w = values.shape[-2:]
    yy, xx = np.mgrid[0:h, 0:w]
    rr = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2)[None] / np.maximum(r_px, 1e-6)[:, None, None]
    att = np.abs(values).sum(1)
    light = images.sum(1)
    out = {"grid": np.asarray(grid, float)}
    for name, m in (("attribution", att), ("light", light)):
        tot = m.sum((1, 2))
        inside = np.stack([(m * (rr <= x)).sum((1, 2)) for x in grid], axis=1)
        out[name] = inside / np.where(tot != 0, tot, np.nan)[:, None]
    return out


def local_steps(ctx: Any, cat: pd.DataFrame, pred: dict) -> dict[str, Any]:
    """Neighbourhood dependence of true mass on each query among CNN-embedding neighbours, given redshift."""
    p = ctx.params
    emb = pred["embedding"]
    emb = (emb - emb.mean(0)) / np.where(emb.std(0) > 0, emb.std(0), 1.0)
    sub = cat.iloc[pred["analysis"]].reset_index(drop=True)
    queries = colour_frame(sub, [q for q in p.local_queries if "-" in q])
    out = {}
    for q in p.local_queries:
        vals = queries[q] if q in queries else (sub[q] if q in sub else None)
        if vals is None:
            continue
        v = np.log10(np.clip(vals.to_numpy(float), 1e-6, None)) if q in LOG_COLUMNS else vals.to_numpy(float)
        out[q], _ = _quiet(lambda v=v: ip.causal.local_dependence(
            emb, sub["log_mstar"].to_numpy(float), v, k=min(int(p.local_k), len(sub) - 1),
            condition=sub["redshift"].to_numpy(float), n_permutations=int(p.local_n_perm), seed=ctx.seed))
    return out


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


def _check_params(p: dict[str, Any]) -> None:
    if p.phot_model not in ("hgb", "mlp"):
        raise ConfigError(f"stellar_mass: params.phot_model must be 'hgb' or 'mlp'; got {p.phot_model!r}")
    bad = [x for x in [*p.pid_pairs, *([p.pointwise_pair] if p.pointwise_pair else [])]
           if x not in PAIR_LABEL]
    if bad:
        raise ConfigError(f"stellar_mass: unknown PID pair(s) {bad}; valid pairs are {sorted(PAIR_LABEL)}")


def _compute(ctx: Any) -> None:
    p = ctx.params
    _check_params(p)
    data = load_data(ctx)
    note_unknown_split(ctx, data)
    bands = band_names(data)
    ctx.store.update(data=data, bands=bands)
    base = {"seed": ctx.seed, "n": len(data), "data": ctx.config.get("data"), "model": ctx.config.get("model"),
            **{k: getattr(p, k) for k in ("fast", "n_epochs", "bands", "pixel_scale", "image_size", "redshift_range")}}
    est = None

    def get_est() -> Any:
        nonlocal est
        est = est if est is not None else cnn_model(ctx, data)
        return est

    pred = ctx.cached("predictions", {**base, "phot": p.phot_model, "phot_z": p.phot_redshift},
                      lambda: predictions(ctx, get_est(), data, bands))
    base = {**base, "phot": p.phot_model, "phot_z": p.phot_redshift}
    cat = data.catalog
    ctx.add_table("metrics", metrics_table(cat, pred, p, ctx.seed))
    _causal_steps(ctx, causal_frame(cat, pred, p), base)
    _pid_steps(ctx, cat, pred, base)
    if p.pointwise_pair and pid_sources(cat, pred, p.pointwise_pair, p) is not None:
        keys = ("pointwise_pair", "pointwise_classes", "pointwise_folds", "pointwise_epochs", "pointwise_hidden",
                "pointwise_batch")
        ctx.cached("pointwise", {**base, **{k: getattr(p, k) for k in keys}}, lambda: pointwise(ctx, cat, pred))
    # zero flux ("no light") is the physical reference of an image; the network never saw an empty cutout,
    # so f(baseline) lies outside the predictions: say so in the report instead of failing (outside the cache,
    # which replays the warning on a hit)
    with baseline_notes(ctx.notes, "Attribution baseline (zero flux)"):
        attr = ctx.cached("attribution", {**base, "n": p.n_attribution, "steps": p.ig_steps},
                          lambda: attribution(ctx, get_est(), data, pred))
    _attribution_tables(ctx, attr, data, pred, bands)
    if "embedding" in pred:
        keys = ("local_queries", "local_k", "local_n_perm")
        local = ctx.cached("local", {**base, **{k: getattr(p, k) for k in keys}},
                           lambda: _pack_local(local_steps(ctx, cat, pred)))
        ctx.store["local"] = _unpack_local(local)
        ctx.add_table("local_dependence", _local_table(ctx.store["local"], p.local_alpha))
    _notes(ctx, pred)


def _pack_local(res: dict[str, Any]) -> dict[str, np.ndarray]:
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


def _local_table(local: dict[str, Any], alpha: float) -> pd.DataFrame:
    return pd.DataFrame([{"query": q, "k": r.k, "n_trend": r.n_trend, "dataset_p_value": r.dataset_p_value,
                          "fraction_fdr_significant": float(np.mean(r.significant(alpha))),
                          "fraction_significant": r.fraction_significant(alpha),
                          "median_correlation": float(np.nanmedian(r.correlation)),
                          "median_efficiency": float(np.nanmedian(r.efficiency)),
                          "null_rate": alpha} for q, r in local.items()])


def _attribution_tables(ctx: Any, attr: Any, data: Any, pred: dict, bands: list[str]) -> None:
    p = ctx.params
    ctx.add_table("attribution_bands", attr.per_band(bands).reset_index())
    ctx.add_table("attribution_radial", attr.radial_profile(bands, n_bins=int(p.radial_bins)).reset_index())
    if "r_eff_arcsec" in data.catalog:
        rows = attribution_rows(pred, p, ctx.seed)
        r_px = data.catalog["r_eff_arcsec"].to_numpy(float)[rows] / float(p.pixel_scale)
        curves = growth_curves(np.asarray(attr.values), np.asarray(data.images[rows]), r_px)
        ctx.store["growth"] = curves
        q = {f"{name}_{k}": np.nanpercentile(curves[name], pct, axis=0) for name in ("attribution", "light")
             for k, pct in (("q25", 25), ("median", 50), ("q75", 75))}
        ctx.add_table("attribution_growth", pd.DataFrame({"r_over_re": curves["grid"], **q}))


# --- findings ----------------------------------------------------------------------------------------------
def _notes(ctx: Any, pred: dict) -> None:
    p, data = ctx.params, ctx.load("data")
    t = ctx.tables["metrics"].set_index(["model", "metric"])
    ctx.notes.insert(0, f"{len(data)} galaxies ({data.source}; bands {' '.join(ctx.store['bands'])}); held-out "
                        f"test n = {len(pred['test'])}; analyses on {len(pred['analysis'])} never-trained-on "
                        f"galaxies (validation + test).")
    for key in PRED:
        g = lambda m, k=key: t.loc[(k, m)]  # noqa: E731
        ctx.notes.append(f"{MODEL_LABEL[key]} (held out): scatter {g('scatter')['value']:.3f} dex "
                         f"[{g('scatter')['ci16']:.3f}, {g('scatter')['ci84']:.3f}], bias {g('bias')['value']:+.3f} "
                         f"dex, sigma_NMAD {g('sigma_nmad')['value']:.3f} dex, outliers (>"
                         f"{p.mass_outlier_dex} dex) {100 * g('outlier_fraction')['value']:.1f} %.")
    _causal_notes(ctx)
    _pid_notes(ctx)
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


# --- figures -----------------------------------------------------------------------------------------------
def _figure(ncols: int, nrows: int = 1, width: float | None = None, height: float = 3.0, **kw: Any
            ) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    from interpret.plots._style import PAGE_WIDTH

    fig, axes = plt.subplots(nrows, ncols, figsize=(width or PAGE_WIDTH, height), layout="constrained",
                             squeeze=False, **kw)
    return fig, axes



MASS_LABEL = r"$\log_{10}(M_*/\mathrm{M}_\odot)$"


def fig_predictions(ctx: Any) -> Any:
    """Held-out predicted vs true stellar mass of the image CNN and the photometry model."""
    cat, pred, p = ctx.load("data").catalog, ctx.load("predictions"), ctx.params
    test = pred["test"]
    y = cat["log_mstar"].to_numpy(float)[test]
    fig, axes = _figure(2, height=3.5)
    for ax, key, k in zip(axes[0], PRED, "ab"):
        rep = ip.metrics.evaluate(y, pred[PRED[key]][test], threshold=p.mass_outlier_dex,
                                  quantity="log M*")
        ip.plots.metrics.plot_predictions(rep, ax=ax)
        ax.set(xlabel=f"true {MASS_LABEL}", ylabel=f"{MODEL_LABEL[key]} {MASS_LABEL}")
        inputs = "u g r i z cutouts" if key == "cnn" else "magnitudes" + (" + spec-z" if p.phot_redshift else "")
        ax.set_title(f"{MODEL_LABEL[key]} ({inputs})", loc="left", pad=12)
        _panel(ax, k)
    return fig


def _rows_for(freq: pd.DataFrame) -> list[list[str]]:
    tiers = freq.attrs["tiers"]
    obs = tiers[2]
    half = (len(obs) + 1) // 2
    return [tiers[0], tiers[1], obs[:half], obs[half:], tiers[3]] if len(obs) > 4 else list(tiers)


def fig_causal_graphs(ctx: Any) -> Any:
    """PC and FCI graphs from bootstrap frequencies (modal mark of each pair, frequency on the edge)."""
    methods = ctx.params.causal_methods
    fig, axes = _figure(len(methods), height=4.2)
    s = ctx.tables["causal_summary"].set_index("method")
    for ax, method, k in zip(axes[0], methods, "abcd"):
        freq = ctx.load(f"stability_{method}")
        ip.plots.causal.plot_graph(freq, min_frequency=float(ctx.params.min_edge_frequency),
                                   tiers=_rows_for(freq), ax=ax)
        shd = f"; SHD to truth {int(s.loc[method, 'shd'])}" if "shd" in s else ""
        ax.set_title(f"{method.upper()} ({freq.attrs['test']}, α = {freq.attrs['alpha']}){shd}\nedges in ≥ "
                     f"{ctx.params.min_edge_frequency:.0%} of {freq.attrs['n_boot']} bootstraps; numbers: "
                     "frequency", loc="left", fontsize=7)
        _panel(ax, k)
    return fig


def fig_edge_stability(ctx: Any) -> Any:
    """Bootstrap frequency of each endpoint mark, PC beside FCI (pairs adjacent in >= 10 % of resamples)."""
    methods = ctx.params.causal_methods
    n = max(int(((1 - ctx.load(f"stability_{m}")["absent"]) >= 0.1).sum()) for m in methods)
    fig, axes = _figure(len(methods), height=0.2 * n + 1.4)
    for ax, method, k in zip(axes[0], methods, "abcd"):
        ip.plots.causal.plot_edge_stability(ctx.load(f"stability_{method}"), kind="bar", min_frequency=0.1, ax=ax)
        ax.tick_params(axis="y", labelsize=6)
        _panel(ax, k)
    return fig


def fig_pid(ctx: Any) -> Any:
    """PID of the true mass for each source pair: several measures (binned, bootstrap CIs) and kNN (bits)."""
    done = ctx.load("pid")
    pairs = [pr for pr in ctx.params.pid_pairs if any(k[0] == pr for k in done)]
    fig, axes = _figure(len(pairs), height=3.2, sharey=True)
    for j, (ax, pair) in enumerate(zip(axes[0], pairs)):
        res = {("kNN\n(MMI)" if m == "knn" else m): r for (pr, m), r in done.items() if pr == pair}
        ip.plots.pid.plot_measure_comparison(res, ax=ax)
        handles = ax.get_legend().legend_handles
        ax.get_legend().remove()
        a, b = PAIR_LABEL[pair].split(" vs ")
        ax.set_title(f"1 = {a}\n2 = {b}", loc="left", fontsize=7)
        ax.tick_params(axis="x", labelsize=6.5)
        ax.set_ylabel(f"information about true {MASS_LABEL} (bits)" if j == 0 else "")
        _panel(ax, "abcd"[j])
    lo, hi = axes[0, 0].get_ylim()
    axes[0, 0].set_ylim(lo, hi + 0.08 * (hi - lo))
    labels = ["redundancy", "unique to 1", "unique to 2", "synergy", "I(mass; 1, 2)"]
    fig.legend(handles, labels[:len(handles)], loc="outside lower center", ncol=len(handles), fontsize=7)
    return fig


def fig_pointwise(ctx: Any) -> Any:
    """Per-galaxy neural PID atoms (mean in bins of true mass), stacked."""
    from interpret.plots import pid_pointwise
    from interpret.plots._style import COLUMN_WIDTH

    cat, pred = ctx.load("data").catalog, ctx.load("predictions")
    fig, axes = _figure(1, width=COLUMN_WIDTH + 0.4, height=3.1)
    if "pointwise" not in ctx.store:
        axes[0, 0].text(0.5, 0.5, "pointwise PID not run", ha="center", transform=axes[0, 0].transAxes)
        return fig
    r = ctx.load("pointwise")
    mass = pd.Series(cat["log_mstar"].to_numpy(float)[pred["analysis"]], name="log_mstar")
    pid_pointwise.plot_pointwise_binned(r, mass, bins=6, label=f"true {MASS_LABEL}", ax=axes[0, 0])
    ax = axes[0, 0]
    ax.set_ylabel("mean information per galaxy (bits)")
    a, b = r.sources
    names = {f"{{{a}}}{{{b}}}": "redundancy", f"{{{a}}}": f"unique {a}", f"{{{b}}}": f"unique {b}",
             f"{{{a},{b}}}": "synergy", "joint I": "joint information"}
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, [names.get(x, x) for x in labels], ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.01),
              fontsize=6.5, handlelength=1.2, columnspacing=0.8,
              title=f"per-galaxy neural PID ({r.details.get('n_classes', '?')} mass classes, cross-fitted)",
              title_fontsize=6.5)
    return fig


def fig_attribution(ctx: Any) -> Any:
    """CNN integrated gradients: share per band, radial profile, and attribution vs light inside R_e."""
    from interpret.plots._style import PALETTE

    attr, bands = ctx.load("attribution"), ctx.store["bands"]
    has_ap = "attribution_growth" in ctx.tables
    fig, axes = _figure(3 if has_ap else 2, height=2.8)
    ip.plots.attribution.plot_band_bars(attr, bands, ax=axes[0, 0])
    lo = min(axes[0, 0].get_ylim()[0], -0.05)
    axes[0, 0].set_ylim(lo - 0.25 * (axes[0, 0].get_ylim()[1] - lo), None)
    axes[0, 0].legend(loc="lower right", fontsize=6.5)
    axes[0, 0].set_ylabel("share of the CNN's attribution")
    ip.plots.attribution.plot_radial_profiles(attr, bands, n_bins=int(ctx.params.radial_bins),
                                              pixel_scale=float(ctx.params.pixel_scale), ax=axes[0, 1])
    axes[0, 1].set_xlabel("radius from the centre (arcsec)")
    if has_ap:
        g, ax = ctx.tables["attribution_growth"], axes[0, 2]
        for name, colour, label in (("attribution", PALETTE["vermillion"], "|attribution|"),
                                    ("light", PALETTE["blue"], "light (flux)")):
            ax.fill_between(g["r_over_re"], g[f"{name}_q25"], g[f"{name}_q75"], color=colour, alpha=0.25, lw=0)
            ax.plot(g["r_over_re"], g[f"{name}_median"], "-o", ms=2.5, color=colour, label=label)
        ax.axvline(1.0, color="0.5", lw=0.6, ls=":")
        ax.set(xlim=(0, float(g["r_over_re"].max())), ylim=(0, 1.05), xlabel=r"radius / $R_e$",
               ylabel="share inside radius")
        ax.legend(loc="lower right", fontsize=6.5, title="median, 25-75 %", title_fontsize=6.5)
    for ax, k in zip(axes[0], "abc"):
        _panel(ax, k)
    return fig


def fig_local_dependence(ctx: Any) -> Any:
    """Neighbourhood correlation of true mass with each query in the CNN embedding (given redshift)."""
    local = ctx.store.get("local", {})
    fig, axes = _figure(max(len(local), 1), height=2.4, sharey=True)
    for j, (ax, (q, r)) in enumerate(zip(axes[0], local.items())):
        ip.plots.causal.plot_local_dependence(r, alpha=float(ctx.params.local_alpha), ax=ax)
        ax.set_title(f"{q}\ndataset-level p = {r.dataset_p_value:.2g}", fontsize=7.5)
        ax.set_xlabel("")
        ax.legend(loc="upper left", fontsize=6)
        if j:
            ax.set_ylabel("")
        _panel(ax, "abcdefg"[j])
    if not local:
        axes[0, 0].text(0.5, 0.5, "no embedding available", ha="center", transform=axes[0, 0].transAxes)
        return fig
    axes[0, 0].set_ylim(0, axes[0, 0].get_ylim()[1] * 1.3)
    first = next(iter(local.values()))
    trend = f" and a linear trend along {first.n_trend} embedding directions" if first.n_trend else ""
    fig.supxlabel(f"correlation of true mass with the query among {first.k} CNN-embedding neighbours, given "
                  f"redshift{trend}", fontsize=8)
    return fig


FIGURES = [fig_predictions, fig_causal_graphs, fig_edge_stability, fig_pid, fig_pointwise, fig_attribution,
           fig_local_dependence]
