"""Pure steps of the ``stellar_mass`` study: (data, CNN, parameters, seed) -> tables and result objects.

After Zhang et al. (2025, arXiv:2509.23901). The steps ask, on a catalogue of galaxies with image cutouts:
how accurate an image CNN and a photometry-only model are on held-out galaxies (:func:`predictions`,
:func:`metrics_table`); which conditional independences hold between redshift, intrinsic mass and
morphology, the observables and both predictions (:func:`causal_frame`, :func:`edge_stability`,
:func:`discover`, compared with the planted truth through :func:`augmented_truth`); how the information
about the true mass is split between photometry and morphology or the image (:func:`pid_sources`,
:func:`reduce_sources`, :func:`pid_binned`, :func:`pid_knn`, :func:`pointwise`); where the CNN looks
(:func:`attribution`, :func:`attribution_tables`, :func:`growth_curves`); and whether its embedding still
holds morphology information about mass (:func:`local_dependence`).

None reads a config, touches a run context, writes a file (a cache folder is used only when the caller
passes one) or keeps state; :func:`run_all` runs them in order on a user's own arrays, without a runner, and
returns the dict that :mod:`.figures` draws from.
"""
from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import interpret as ip
from interpret._seeding import legacy_seed
from interpret.exceptions import ConfigError, EstimationWarning

from .._data import BandNames, StudyData, fit_subset
from .._data import colours as colour_frame
from .._models import baseline_notes
from .params import PAIR_LABEL, StellarMassParams

__all__ = ["band_names", "trainable", "mock_data", "train_cnn", "file_pixel_scale", "splits", "phot_features", "phot_predictions",
           "predict_and_embed", "predictions", "metrics_table", "causal_frame", "causal_note", "causal_tiers",
           "augmented_truth", "edge_stability", "annotate_stability", "discover", "causal_summary_row",
           "edge_table", "pid_sources", "skipped_pair_note", "skipped_notes", "reduce_sources", "pid_binned", "pid_knn", "pid_table", "pointwise",
           "attribution_rows", "attribution", "growth_curves", "attribution_tables", "local_dependence",
           "local_table", "caveat_lines", "run_all", "MORPH", "PRED", "MODEL_LABEL", "PAIR_LABEL", "IMAGE_PARENTS",
           "LOG_COLUMNS", "RE_GRID", "NO_EMBEDDING"]

log = logging.getLogger(__name__)

MORPH = ("sersic_n", "r_eff_arcsec")
PRED = {"cnn": "mass_cnn", "phot": "mass_phot"}
MODEL_LABEL = {"cnn": "image CNN", "phot": "photometry"}
#: What renders a mock cutout (beyond noise): every SED parameter, the bulge share and the light profile.
IMAGE_PARENTS = ("redshift", "log_mstar", "log_sfr", "age", "metallicity", "dust_av", "agn_frac", "bulge_frac",
                 "sersic_n", "r_eff", "axis_ratio", "position_angle")
LOG_COLUMNS = ("r_eff", "r_eff_arcsec")
#: The report line when the CNN's embedding cannot be read (local dependence needs it).
NO_EMBEDDING = ("Local dependence skipped: the model's embedding (the input of its last Linear layer) cannot be "
                "read from a TorchScript or non-torch model; load it as a state dict + [model] factory to run it.")
RE_GRID = np.round(np.arange(0.25, 4.01, 0.25), 2)   # radii in units of the effective radius


# --- data and models ---------------------------------------------------------------------------------------
def band_names(data: Any) -> list[str]:
    """Image band names; checks the catalogue holds what the study needs."""
    names = list(data.bands.names if hasattr(data.bands, "names") else data.bands or [])
    missing = [c for c in [*names, "redshift", "log_mstar"] if c not in data.catalog]
    if data.images is None or not names or missing:
        raise ConfigError(f"stellar_mass: needs image cutouts and a catalogue with 'log_mstar', 'redshift' and one "
                          f"magnitude column per image band; missing {missing or 'images'}")
    return names


def trainable(data: Any) -> Any:
    """``data`` with a band container the reference trainer can read: user data name their bands as a list,
    and a list is wrapped as plain names (not looked up in the filter registry, where "u" is ambiguous)."""
    if hasattr(data.bands, "names"):
        return data
    return dataclasses.replace(data, bands=BandNames(list(data.bands)))


def mock_data(params: StellarMassParams, *, n: int = 3000, seed: int = 0, progress: bool | None = None
              ) -> StudyData:
    """The seeded mock universe (in memory, no spectra) with the study's imaging setup, as study data."""
    u = ip.mock.make_universe(n=n, seed=seed, bands=params.bands, pixel_scale=float(params.pixel_scale),
                              image_size=int(params.image_size),
                              redshift_range=tuple(float(v) for v in params.redshift_range), spectra=False,
                              progress=progress)
    return StudyData(catalog=u.catalog, bands=u.bands, images=u.images, wavelength=u.wavelength,
                     spectra=u.spectra, truth=u.truth, source="mock", universe=u, name="mock universe")


def train_cnn(data: Any, params: StellarMassParams, *, seed: int = 0, device: str = "cpu",
              cache_dir: str | Path | None = None, num_threads: int = 1, progress: bool | None = None) -> Any:
    """The reference image CNN trained on ``data`` (never on the user's test rows); cached only in
    ``cache_dir`` when one is given."""
    epochs = int(params.n_epochs) or None
    return ip.mock.train_reference(trainable(fit_subset(data)), task="stellar_mass", seed=seed, device=device,
                                   cache=cache_dir is not None, cache_dir=cache_dir, progress=progress,
                                   fast=bool(params.fast), n_epochs=None if params.fast else epochs,
                                   num_threads=num_threads)


def file_pixel_scale(params: StellarMassParams, data: Any) -> tuple[StellarMassParams, str | None]:
    """The parameters with the cutout file's pixel scale, and a report line, when the file states one.

    ``params.pixel_scale`` (arcsec / pixel) turns ``r_eff_arcsec`` into the effective-radius apertures. Its
    default is SDSS's 0.396"; cutouts from another survey that record their scale (``PIXSCALE`` card, HDF5 /
    NPZ ``pixel_scale``) use it unless the parameter was set to something else, which then wins, with a note.
    """
    scale = (getattr(data, "meta", None) or {}).get("pixel_scale")
    if scale is None or np.isclose(float(scale), float(params.pixel_scale)):
        return params, None
    if np.isclose(float(params.pixel_scale), StellarMassParams.pixel_scale):
        return (dataclasses.replace(params, pixel_scale=float(scale)),
                f"Pixel scale {float(scale):g} arcsec/px from the cutout file (R_e apertures).")
    return params, (f"The cutout file gives a pixel scale of {float(scale):g} arcsec/px; params.pixel_scale = "
                    f"{float(params.pixel_scale):g} sets the R_e apertures.")


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


def phot_predictions(data: Any, bands: list[str], train: np.ndarray, params: StellarMassParams, *, seed: int,
                     cache_dir: str | Path | None = None) -> np.ndarray:
    """Photometry-only stellar mass for every galaxy, fitted on the training rows ``train``.

    ``params.phot_model = "hgb"`` fits scikit-learn's HistGradientBoosting on :func:`phot_features`;
    ``"mlp"`` trains the reference PhotometryMLP (on every row but the user's test rows; its weights are
    cached in ``cache_dir`` when one is given).
    """
    cat = data.catalog
    if params.phot_model == "mlp":
        cols = [*bands, "redshift", "log_mstar"]
        fit_cat = fit_subset(data).catalog      # never the user's test rows
        ds = ip.datasets.Dataset(name="phot", catalog=fit_cat[cols].astype(float).reset_index(drop=True),
                                 bands=trainable(data).bands, source="phot")
        est = ip.mock.train_reference(ds, task="stellar_mass", bands=bands, seed=seed, fast=bool(params.fast),
                                      progress=False, num_threads=1, cache=cache_dir is not None,
                                      cache_dir=cache_dir)
        return np.asarray(est.predict(cat[[*bands, "redshift"]].to_numpy(np.float32), progress=False),
                          float).ravel()
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    x = phot_features(cat, bands, bool(params.phot_redshift))
    model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.1, random_state=legacy_seed(seed))
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


def predictions(est: Any, data: Any, bands: list[str], params: StellarMassParams, *, seed: int,
                cache_dir: str | Path | None = None) -> dict[str, np.ndarray]:
    """Both models' masses for every galaxy, the split, and the CNN embedding of the analysis rows (taken
    during the prediction pass: one forward pass over the cutouts, the step's cost at survey size).

    Returns
    -------
    dict of numpy.ndarray
        ``train``, ``test``, ``analysis`` (row indices), ``mass_cnn``, ``mass_phot`` (log M*, every row) and,
        when the network's last Linear layer is reachable, ``embedding`` (analysis rows x features).
    """
    sp = splits(data, seed)
    cnn, emb = predict_and_embed(est, np.asarray(data.images, np.float32))
    out = {**sp, "mass_cnn": cnn,
           "mass_phot": phot_predictions(data, bands, sp["train"], params, seed=seed, cache_dir=cache_dir)}
    if emb is not None:
        out["embedding"] = emb[sp["analysis"]]
    return out


# --- metrics -----------------------------------------------------------------------------------------------
def _mass_metrics(pred: np.ndarray, true: np.ndarray, thr: float) -> dict[str, float]:
    return {"scatter": float(np.std(pred - true)), "bias": ip.metrics.bias(true, pred),
            "sigma_nmad": ip.metrics.sigma_nmad(true, pred),
            "outlier_fraction": ip.metrics.outlier_fraction(true, pred, threshold=thr),
            "rmse": ip.metrics.rmse(true, pred)}


def metrics_table(cat: pd.DataFrame, pred: dict, p: StellarMassParams, seed: int) -> pd.DataFrame:
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
def causal_frame(cat: pd.DataFrame, pred: dict, p: StellarMassParams) -> pd.DataFrame:
    """Analysis rows: redshift, intrinsic, observable and predicted columns (sizes as log10); rows with a
    non-finite value (a user catalogue's missing magnitude) are left out, as the CI tests cannot take them
    (:func:`causal_note` says how many)."""
    frame = _causal_columns(cat, pred, p)
    return frame[np.isfinite(frame.to_numpy(float)).all(axis=1)].reset_index(drop=True)


def causal_note(cat: pd.DataFrame, pred: dict, p: StellarMassParams) -> str | None:
    """The report line when :func:`causal_frame` leaves out rows with non-finite values, naming the columns."""
    frame = _causal_columns(cat, pred, p)
    bad = ~np.isfinite(frame.to_numpy(float))
    if not bad.any():
        return None
    cols = [f"{c} ({int(k)})" for c, k in zip(frame.columns, bad.sum(axis=0)) if k]
    return (f"Causal discovery uses the {int((~bad.any(axis=1)).sum())} of {len(frame)} analysis galaxies whose "
            f"columns are all finite; non-finite values in {', '.join(cols)}.")


def _causal_columns(cat: pd.DataFrame, pred: dict, p: StellarMassParams) -> pd.DataFrame:
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
    """redshift -> intrinsic (mass, Sersic n, r_eff) -> observables -> predictions.

    Examples
    --------
    >>> cols = ["redshift", "log_mstar", "sersic_n", "g-r", "r", "mass_cnn", "mass_phot"]
    >>> causal_tiers(pd.DataFrame(columns=cols))
    [['redshift'], ['log_mstar', 'sersic_n'], ['g-r', 'r'], ['mass_cnn', 'mass_phot']]
    """
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


def _search(method: str, p: StellarMassParams, frame: pd.DataFrame) -> dict[str, Any]:
    return dict(method=method, test=p.causal_test, alpha=float(p.causal_alpha), background=causal_tiers(frame))


def edge_stability(frame: pd.DataFrame, method: str, p: StellarMassParams, *, seed: int, n_jobs: int = 1,
                   progress: bool | None = None) -> pd.DataFrame:
    """Bootstrap frequency of each endpoint mark of ``method`` (PC or FCI) with the study's tiers
    (:func:`interpret.causal.edge_stability`); :func:`annotate_stability` adds what the figures read."""
    return ip.causal.edge_stability(frame, n_boot=int(p.causal_n_boot), n_jobs=n_jobs, seed=seed,
                                    progress=progress, **_search(method, p, frame))


def annotate_stability(freq: pd.DataFrame, frame: pd.DataFrame, method: str, p: StellarMassParams
                       ) -> pd.DataFrame:
    """``freq`` with the search settings, nodes and tiers in ``.attrs`` (the graph figures read them)."""
    freq.attrs.update(n_boot=int(p.causal_n_boot), method=method, test=p.causal_test,
                      alpha=float(p.causal_alpha), nodes=list(frame.columns), tiers=causal_tiers(frame))
    return freq


def discover(frame: pd.DataFrame, method: str, p: StellarMassParams) -> Any:
    """The ``method`` graph on the full analysis sample (:func:`interpret.causal.discover`)."""
    return ip.causal.discover(frame, **_search(method, p, frame))


def causal_summary_row(graph: Any, method: str, truth: Any = None) -> tuple[dict[str, Any], Any]:
    """One row of the causal summary (edges; with a planted ``truth`` DAG the SHD and its parts, adjacency
    precision and recall) and the reference edge list the graph was compared with (None without truth)."""
    row = {"method": method, "n_samples": graph.n_samples, "n_edges": len(graph.edges)}
    if truth is None:
        return row, None
    cmp = graph.compare(truth)
    row.update({k: cmp[k] for k in ("shd", "missing", "extra", "misoriented", "precision", "recall")},
               n_true_edges=len(cmp["reference"]))
    return row, cmp["reference"]


def edge_table(freq: pd.DataFrame) -> pd.DataFrame:
    """The report table of :func:`edge_stability`: a ``present`` column, most frequent pairs first."""
    table = freq.reset_index()
    table.insert(2, "present", 1.0 - table["absent"])
    return table.sort_values("present", ascending=False)


# --- PID ---------------------------------------------------------------------------------------------------
def pid_sources(cat: pd.DataFrame, pred: dict, pair: str, p: StellarMassParams) -> dict[str, np.ndarray] | None:
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


def skipped_pair_note(cat: pd.DataFrame, pair: str, p: StellarMassParams) -> str:
    """The report line of a PID pair that :func:`pid_sources` cannot build, naming the catalogue columns it needs."""
    need = []
    for part in pair.split("_vs_"):
        if part == "morph":
            need.append(f"{' or '.join(repr(c) for c in MORPH)} (morphology)")
        elif part == "colours":
            need.append(f"the magnitudes of the colours {list(p.colours)} (params.colours)")
    return f"PID pair '{pair}' skipped: the catalogue lacks {' and '.join(need)}."


def skipped_notes(cat: pd.DataFrame, p: StellarMassParams) -> list[str]:
    """Report lines for the analyses that a catalogue without the optional columns skips (growth curves in
    units of R_e, local-dependence queries); the PID pairs say so themselves (:func:`skipped_pair_note`)."""
    notes = []
    if "r_eff_arcsec" not in cat:
        notes.append("Attribution growth curves in units of R_e skipped: the catalogue has no 'r_eff_arcsec' "
                     "(effective radius in arcsec; with params.pixel_scale it sets the apertures).")
    colours = colour_frame(cat, [q for q in p.local_queries if "-" in q])
    absent = [q for q in p.local_queries if q not in colours and q not in cat]
    if absent:
        notes.append(f"Local dependence skipped for {absent}: not in the catalogue (params.local_queries).")
    return notes


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


def caveat_lines(caveats: Mapping[tuple[str, str], Sequence[str]]) -> list[str]:
    """Report lines of the PID estimation warnings: one per (pair, message), naming every measure it applies
    to (the binned measures share their binning, hence their sparse-bin warning)."""
    return [f"PID caveat, {PAIR_LABEL.get(pair, pair)} ({', '.join(measures)}): {message}"
            for (pair, message), measures in caveats.items()]


def _quiet(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``fn``; estimation warnings are returned (for the notes) instead of raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        r = fn()
    return r, [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]


def pid_binned(summ: dict[str, np.ndarray], target: np.ndarray, measure: str, p: StellarMassParams, *,
               seed: int) -> Any:
    """Binned PID of ``target`` from the one-variable summaries with redundancy ``measure`` (bootstrap CIs)."""
    resampling = ip.pid.Resampling(n_boot=int(p.pid_n_boot), ci_level=float(p.pid_ci_level))
    return ip.pid.decompose(target, summ, measure=measure, bins=int(p.pid_bins), resampling=resampling,
                            seed=seed, n_jobs=1, progress=False)


def pid_knn(summ: dict[str, np.ndarray], target: np.ndarray, p: StellarMassParams, *, seed: int) -> Any:
    """kNN (binning-free) MMI decomposition of ``target`` from the same one-variable summaries."""
    resampling = ip.pid.Resampling(n_boot=int(p.pid_n_boot), ci_level=float(p.pid_ci_level))
    return ip.pid.decompose(target, summ, method=ip.pid.KNN(k=int(p.knn_k), scaling=p.knn_scaling),
                            measure="mmi", resampling=resampling, seed=seed, n_jobs=1, progress=False)


def pid_table(done: dict[tuple[str, str], Any]) -> pd.DataFrame | None:
    """One table of every (pair, measure) decomposition in ``done`` (None when empty)."""
    rows = [r.to_frame().reset_index().assign(pair=pair, measure=m) for (pair, m), r in done.items()]
    return pd.concat(rows, ignore_index=True) if rows else None


def pointwise(cat: pd.DataFrame, pred: dict, p: StellarMassParams, *, seed: int, device: str = "cpu") -> Any:
    """Per-galaxy neural MMI atoms of ``pointwise_pair`` about the true mass."""
    sources = pid_sources(cat, pred, p.pointwise_pair, p)
    target = cat["log_mstar"].to_numpy(float)[pred["analysis"]]
    r, _ = _quiet(lambda: ip.pid.pointwise_decompose(
        target, sources, n_classes=int(p.pointwise_classes), n_folds=int(p.pointwise_folds),
        training=ip.pid.NeuralTraining(hidden=tuple(p.pointwise_hidden), epochs=int(p.pointwise_epochs),
                                       batch_size=int(p.pointwise_batch)), seed=seed,
        device=device, n_jobs=1, progress=False))
    return r


# --- attribution and local dependence ----------------------------------------------------------------------
def attribution_rows(pred: dict, p: StellarMassParams, seed: int) -> np.ndarray:
    """The seeded subsample of analysis rows that :func:`attribution` explains (sorted)."""
    rng = np.random.default_rng([seed, 5])
    a = pred["analysis"]
    return np.sort(rng.choice(a, size=min(int(p.n_attribution), len(a)), replace=False))


def attribution(est: Any, data: Any, pred: dict, p: StellarMassParams, *, seed: int,
                progress: bool | None = None) -> Any:
    """Integrated gradients (zero-flux baseline) of the CNN on a seeded subsample of the analysis rows."""
    rows = attribution_rows(pred, p, seed)
    x = np.asarray(data.images[rows], np.float32)
    return ip.attribution.attribute(est, x, method="integrated_gradients", baselines="zeros",
                                    n_steps=int(p.ig_steps), batch_size=16, progress=progress)


def growth_curves(values: np.ndarray, images: np.ndarray, r_px: np.ndarray, grid: np.ndarray = RE_GRID
                  ) -> dict[str, np.ndarray]:
    """Per galaxy, the share of |attribution| and of the flux inside ``grid`` x R_e (shape (n, len(grid))).

    Fluxes are not clipped (pixel noise averages out; a faint galaxy's share can leave [0, 1]), so summarise
    across galaxies with the median.

    Examples
    --------
    All attribution in the central pixel of a flat 9 x 9 image with R_e = 1 pixel:

    >>> values = np.zeros((1, 1, 9, 9)); values[0, 0, 4, 4] = 1.0
    >>> c = growth_curves(values, np.ones((1, 1, 9, 9)), np.array([1.0]), grid=np.array([1.0, 2.0]))
    >>> c["attribution"].tolist(), (c["light"] * 81).round(6).tolist()
    ([[1.0, 1.0]], [[5.0, 13.0]])
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


def _nan_quantile(values: np.ndarray, pct: float) -> np.ndarray:
    """Percentile over galaxies (axis 0) ignoring NaN; NaN, without a warning, where a column has no finite value
    (every galaxy's total is zero, e.g. all-zero attributions of a model that ignores its input)."""
    ok = np.isfinite(values).any(axis=0)
    out = np.full(values.shape[1], np.nan, dtype=values.dtype if values.dtype.kind == "f" else float)
    if ok.any():
        out[ok] = np.nanpercentile(values[:, ok], pct, axis=0)
    return out


def attribution_tables(attr: Any, data: Any, pred: dict, bands: list[str], p: StellarMassParams, *,
                       seed: int) -> dict[str, Any]:
    """Per-band shares and radial profiles of the attribution; with ``r_eff_arcsec`` in the catalogue also
    the growth curves of |attribution| and light in units of R_e (``growth``: per galaxy;
    ``attribution_growth``: their quartiles over galaxies)."""
    out: dict[str, Any] = {"attribution_bands": attr.per_band(bands).reset_index(),
                           "attribution_radial": attr.radial_profile(bands, n_bins=int(p.radial_bins)).reset_index()}
    if "r_eff_arcsec" in data.catalog:
        rows = attribution_rows(pred, p, seed)
        r_px = data.catalog["r_eff_arcsec"].to_numpy(float)[rows] / float(p.pixel_scale)
        curves = growth_curves(np.asarray(attr.values), np.asarray(data.images[rows]), r_px)
        q = {f"{name}_{k}": _nan_quantile(curves[name], pct) for name in ("attribution", "light")
             for k, pct in (("q25", 25), ("median", 50), ("q75", 75))}
        out["growth"] = curves
        out["attribution_growth"] = pd.DataFrame({"r_over_re": curves["grid"], **q})
    return out


def local_dependence(cat: pd.DataFrame, pred: dict, p: StellarMassParams, *, seed: int) -> dict[str, Any]:
    """Neighbourhood dependence of true mass on each query among CNN-embedding neighbours, given redshift
    (:func:`interpret.causal.local_dependence` on the z-scored embedding; query -> result)."""
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
            condition=sub["redshift"].to_numpy(float), n_permutations=int(p.local_n_perm), seed=seed))
    return out


def local_table(local: dict[str, Any], alpha: float) -> pd.DataFrame:
    """One row per query: dataset-level p-value, fraction of galaxies significant (raw and after FDR)."""
    return pd.DataFrame([{"query": q, "k": r.k, "n_trend": r.n_trend, "dataset_p_value": r.dataset_p_value,
                          "fraction_fdr_significant": float(np.mean(r.significant(alpha))),
                          "fraction_significant": r.fraction_significant(alpha),
                          "median_correlation": float(np.nanmedian(r.correlation)),
                          "median_efficiency": float(np.nanmedian(r.efficiency)),
                          "null_rate": alpha} for q, r in local.items()])


# --- everything -------------------------------------------------------------------------------------------
def run_all(params: StellarMassParams, *, data: Any = None, est: Any = None,
            seed: int | np.random.Generator | None = None, n: int = 3000, n_jobs: int | None = None,
            device: str = "cpu", progress: bool | None = None) -> dict[str, Any]:
    """Every step in order, without a runner; the dict holds what :mod:`.figures` reads.

    Parameters
    ----------
    params : StellarMassParams
        The study's parameters (validated here).
    data : StudyData-like, optional
        ``.catalog`` (``log_mstar``, ``redshift``, one magnitude per band; ``sersic_n``, ``r_eff_arcsec``
        enable the morphology analyses), ``.bands``, ``.images`` ``(n, B, H, W)``, ``.split`` (per-row
        "train"/"val"/"test", or None for the reference split) and ``.truth`` (a planted DAG, or None).
        Default: :func:`mock_data` with ``n`` galaxies.
    est : estimator, optional
        The image model (cutouts -> log M*). Default: :func:`train_cnn` on ``data`` (minutes).
    seed : int, Generator or None, default None
        Seeds the split, the models, bootstraps and permutations; None draws a fresh int, recorded in
        ``["seed"]``.
    n : int, default 3000
        Mock galaxies when ``data`` is None.
    n_jobs : int, optional
        Workers of the causal bootstraps (None: 1, or the enclosing ``joblib.parallel_config``).
    device : str, default "cpu"
        Torch device of the reference CNN and the pointwise PID network.
    progress : bool, optional
        Progress bars of the long loops.

    Returns
    -------
    dict
        ``params``, ``seed``, ``data``, ``bands``, ``predictions``, ``stability_<method>``,
        ``graph_<method>``, ``reference_<method>``, ``causal_summary``, ``pid`` ({(pair, measure): result}),
        ``pointwise``, ``attribution``, ``growth``, ``attribution_growth``, ``local`` (the keys each figure
        reads: ``figures.NEEDS``); ``tables`` (name -> the report's CSV tables) and ``notes`` (estimation
        and baseline warnings, one line each).
    """
    from ..._seeding import int_seed

    if seed is not None and not isinstance(seed, np.random.Generator) and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"run_all(): 'seed' must be a non-negative int, a numpy Generator or None; got {seed!r}")
    if data is None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 20):
        raise ValueError(f"run_all(): 'n' must be an int >= 20 (mock galaxies); got {n!r}")
    params.validate()
    seed = int(int_seed(seed))
    data = mock_data(params, n=n, seed=seed, progress=progress) if data is None else data
    bands = band_names(data)
    params, scale_note = file_pixel_scale(params, data)
    if est is None:
        est = train_cnn(data, params, seed=seed, device=device, progress=progress)
    out: dict[str, Any] = {"params": params, "seed": seed, "data": data, "bands": bands,
                           "notes": [scale_note] if scale_note else []}
    tables: dict[str, pd.DataFrame] = {}
    out["tables"] = tables
    cat = data.catalog
    pred = out["predictions"] = predictions(est, data, bands, params, seed=seed)
    tables["metrics"] = metrics_table(cat, pred, params, seed)
    out["notes"].extend(skipped_notes(cat, params))
    out["notes"].extend(n for n in [causal_note(cat, pred, params)] if n)
    _run_causal(out, cat, pred, n_jobs=1 if n_jobs is None else n_jobs, progress=progress)
    _run_pid(out, cat, pred)
    if params.pointwise_pair and pid_sources(cat, pred, params.pointwise_pair, params) is not None:
        out["pointwise"] = pointwise(cat, pred, params, seed=seed, device=device)
    with baseline_notes(out["notes"], "Attribution baseline (zero flux)"):
        out["attribution"] = attribution(est, data, pred, params, seed=seed, progress=progress)
    parts = attribution_tables(out["attribution"], data, pred, bands, params, seed=seed)
    out.update(parts)
    tables.update({k: v for k, v in parts.items() if isinstance(v, pd.DataFrame)})
    if "embedding" in pred:
        out["local"] = local_dependence(cat, pred, params, seed=seed)
        tables["local_dependence"] = local_table(out["local"], params.local_alpha)
    else:
        out["notes"].append(NO_EMBEDDING)
    return out


def _run_causal(out: dict[str, Any], cat: pd.DataFrame, pred: dict, *, n_jobs: int, progress: bool | None
                ) -> None:
    p, data, seed = out["params"], out["data"], out["seed"]
    frame = causal_frame(cat, pred, p)
    rows = []
    for method in p.causal_methods:
        freq = edge_stability(frame, method, p, seed=seed, n_jobs=n_jobs, progress=progress)
        out[f"stability_{method}"] = annotate_stability(freq, frame, method, p)
        out[f"graph_{method}"] = graph = discover(frame, method, p)
        truth = (None if getattr(data, "truth", None) is None
                 else augmented_truth(data.truth.dag, frame, out["bands"], bool(p.phot_redshift)))
        row, out[f"reference_{method}"] = causal_summary_row(graph, method, truth)
        rows.append(row)
        out["tables"][f"edge_stability_{method}"] = edge_table(freq)
    out["causal_summary"] = out["tables"]["causal_summary"] = pd.DataFrame(rows)


def _run_pid(out: dict[str, Any], cat: pd.DataFrame, pred: dict) -> None:
    p, seed, notes = out["params"], out["seed"], out["notes"]
    target = cat["log_mstar"].to_numpy(float)[pred["analysis"]]
    done: dict[tuple[str, str], Any] = {}
    caveats: dict[tuple[str, str], list[str]] = {}
    for pair in p.pid_pairs:
        sources = pid_sources(cat, pred, pair, p)
        if sources is None:
            notes.append(skipped_pair_note(cat, pair, p))
            continue
        summ = reduce_sources(sources, target, int(p.pid_n_splits), seed)
        for measure in p.pid_measures:
            done[(pair, measure)], warns = _quiet(lambda s=summ, m=measure: pid_binned(s, target, m, p, seed=seed))
            if warns:
                caveats.setdefault((pair, warns[0]), []).append(measure)
        if p.pid_knn:
            done[(pair, "knn")], warns = _quiet(lambda s=summ: pid_knn(s, target, p, seed=seed))
            if warns:
                caveats.setdefault((pair, warns[0]), []).append("knn")
    out["pid"] = done
    notes.extend(caveat_lines(caveats))
    table = pid_table(done)
    if table is not None:
        out["tables"]["pid"] = table
