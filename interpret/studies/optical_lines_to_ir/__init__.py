"""Which optical spectral lines predict the mid-infrared? Line importance of a spectrum -> W1-W4 network

After Jespersen et al., who predicted WISE W1-W4 photometry from SDSS optical spectra with a neural network and
asked which spectral features the network uses. On the mock universe a 1-D CNN (the reference
``ip.mock.train_reference(u, task="ir_from_spectra")``: observed-frame spectra 3800-9200 A plus the catalogue
redshift, which the network uses to shift each spectrum to the rest frame -> W1, W2, W3, W4 asinh AB
magnitudes) is trained, and for each WISE output (attributions go to the spectral pixels; the redshift keeps
its own value in the baseline):

1. **Accuracy**: residual scatter per band on the held-out 15 % (reference split) against the photometric noise
   injected into the W1-W4 magnitudes (``W*_err``): ratio 1 means the network is noise-limited.
2. **Attribution**: integrated gradients of that output per spectral pixel (zero-flux baseline by default) on a
   seeded held-out subsample; completeness (sum of attributions = f(x) - f(baseline)) checked per galaxy.
3. **Line importance**: ``ip.attribution.line_importance`` scores each catalogue feature by the |attribution| in
   its window above what the neighbouring continuum would put there, with each galaxy's windows placed at its
   redshift (``frame="observed"``), averaged over galaxies with a bootstrap interval.
4. **Comparison with the planted truth** ``u.truth.ir_lines`` (the lines whose physical drivers set each
   band's flux in the simulator: W1/W2 old stars + AGN hot dust -> absorption lines, D4000, [O III],
   [Ne III]; W3 PAH -> SFR and metallicity lines; W4 warm dust + AGN torus -> Balmer, [S II], [O III]...):
   precision and recall of the top-k lines and of the significant lines, R-precision, the rank AUC
   (probability that a truth line outranks a non-truth line) with a label-permutation p-value, and the
   chance level (fraction of truth lines among the scored ones).
5. **Sanity checks**: IG completeness per band and the cascading model-parameter randomisation test of
   Adebayo et al. (2018, arXiv:1810.03292): the attribution maps should decorrelate from the trained
   model's when its layers are re-drawn (signed Spearman, since a zero-baseline IG keeps the input's
   structure in |a|).

Caveat of the mock: every line correlates with every band through the galaxy population (mass, SFR and age
are correlated), so a network may legitimately use a "non-truth" line; the truth lists what *drives* a band,
not what merely predicts it.

Run on your own model and data (spectra on an observed-frame grid plus a catalogue with ``redshift``, and the
W1-W4 magnitudes for the accuracy table; without ``redshift`` the grid is taken as rest frame)::

    study = "optical_lines_to_ir"
    [data]
    catalog = "my_catalog.fits"      # redshift, W1..W4 (+ W1_err..W4_err) columns, one row per spectrum
    spectra = "my_spectra.fits"      # (n, L) flux + wavelength (interpret.data.write_spectra)
    [model]
    path = "my_spec2ir.pt"           # TorchScript, or state dict + factory; input (n, L) spectra
    output_names = ["W1", "W2", "W3", "W4"]
    # input_names = ["spectra", "redshift"]   # a model whose second input is the redshift, shape (n, 1)
    [params]
    truth_lines = {W3 = ["Halpha", "Hbeta"]}   # optional expected lines per band (default: the mock truth)
"""
from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

import interpret as ip
from interpret.exceptions import BaselineWarning, ConfigError

from .._data import fit_subset, note_unknown_split, split_rows, study_data
from .._models import baseline_notes, study_model
from .._models import panel as _panel
from .._params import StudyParams

log = logging.getLogger(__name__)

IR_BANDS = ("W1", "W2", "W3", "W4")
SMOOTH_A = 10.0   # boxcar (rest-frame Angstrom) applied to the drawn attribution curve

#: The [data] keys this study reads (any other is refused). With ``split`` every held-out number uses the
#: user's test rows, and the network the study fits itself never sees them.
DATA_KEYS = frozenset({"catalog", "spectra", "target", "bands", "split", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})


@dataclass(frozen=True)
class Params(StudyParams):
    """Parameters of the optical_lines_to_ir study (the config's ``[params]`` table)."""

    fast: bool = False  # few-epoch training (demo / tests)
    n_epochs: int = 0  # spectrum-net epochs (0: trainer default, 30; fast: 6)
    bands: tuple[str, ...] = ('W1', 'W2', 'W3', 'W4')  # WISE outputs explained (subset of W1..W4)
    n_attribution: int = 200  # held-out galaxies attributed
    ig_steps: int = 32  # integrated-gradients nodes
    ig_baseline: str = 'zeros'  # IG reference spectrum: "zeros" (no light) or "mean" (training mean)
    batch_size: int = 32  # galaxies per IG chunk
    n_boot: int = 500  # bootstrap resamples of galaxies for the line-importance intervals
    ci: float = 0.9  # confidence level of those intervals
    continuum_width: float = 30.0  # rest-frame width (A) of each continuum side band
    min_coverage: float = 0.1  # score a line only if >= this fraction of galaxies cover its window
    top_k: int = 5  # top-k lines compared with the truth
    n_perm: int = 2000  # label permutations for the AUC p-value
    truth_lines: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # {band: [lines]} expected lines (default: the mock universe's truth)
    completeness_rtol: float = 0.05  # IG completeness tolerance relative to |f(x) - f(baseline)|
    randomization_bands: tuple[str, ...] = ('W1', 'W3')  # outputs given the model-randomisation test ([] to skip)
    n_randomization: int = 16  # galaxies of the randomisation test
    randomization_steps: int = 16  # IG nodes in the randomisation test
    rest_step: float = 2.0  # rest-frame grid step (A) of the stacked spectrum / attribution
    rest_min_coverage: float = 0.25  # stacked grid kept where >= this fraction of the galaxies have data


# --- data, model, predictions ------------------------------------------------------------------------------
def _check_params(p: dict[str, Any]) -> None:
    bad = [b for b in [*p.bands, *p.randomization_bands] if b not in IR_BANDS]
    if bad or not p.bands:
        raise ConfigError(f"optical_lines_to_ir: params.bands / randomization_bands must be non-empty subsets of "
                          f"{list(IR_BANDS)}; got {bad or p.bands}")
    if p.ig_baseline not in ("zeros", "mean"):
        raise ConfigError(f"optical_lines_to_ir: params.ig_baseline must be 'zeros' or 'mean'; got "
                          f"{p.ig_baseline!r}")
    if not isinstance(p.truth_lines, Mapping):
        raise ConfigError("optical_lines_to_ir: params.truth_lines must be a table {band = [line names]}")
    for lines in p.truth_lines.values():
        for line in lines:
            ip.data.lines.get_line(line)     # unknown names raise with the valid list


def _redshift(data: Any) -> np.ndarray | None:
    return data.catalog["redshift"].to_numpy(float) if "redshift" in data.catalog else None


def spectrum_model(ctx: Any, data: Any) -> Any:
    """The user's model from ``[model]``, else the reference spectrum -> W1-W4 network (cached)."""
    if data.spectra is None:
        raise ConfigError("optical_lines_to_ir: needs spectra ([data] spectra = ...) or the mock universe")
    epochs = int(ctx.params.n_epochs) or None
    return study_model(ctx, data if ctx.config.get("model") else fit_subset(data), "ir_from_spectra",
                       n_epochs=epochs, num_threads=max(1, int(ctx.config["jobs"])))


def held_out_rows(data: Any, seed: int) -> np.ndarray:
    """Held-out rows: the user's test rows (``[data] split``), else the reference split's."""
    return split_rows(data, reference=(len(data), seed)).test


def model_id(ctx: Any, est: Any) -> str:
    """Identity of the explained model for cache keys: a digest of its weights (never a file name or mtime)."""
    from ..._digest import digest_estimator

    return digest_estimator(est)


def predictions(est: Any, data: Any, p: dict, seed: int) -> dict[str, np.ndarray]:
    """Held-out predictions (n_test, 4) and the seeded attribution / randomisation subsamples (test rows)."""
    test = held_out_rows(data, seed)
    pred = np.asarray(est.predict(model_inputs(est, data, test), batch_size=256, progress=False),
                      float).reshape(len(test), -1)
    rng = np.random.default_rng([seed, 29])
    attr = np.sort(rng.choice(test, min(int(p.n_attribution), len(test)), replace=False))
    rand = np.sort(rng.choice(attr, min(int(p.n_randomization), len(attr)), replace=False))
    return {"test": test, "pred": pred, "attribution_rows": attr, "randomization_rows": rand}


def accuracy_table(pred: dict, data: Any, names: list[str]) -> pd.DataFrame:
    """Held-out residual scatter per band (mag) against the injected noise (rms of ``<band>_err``)."""
    rows = []
    for j, band in enumerate(names):
        if band not in data.catalog:
            continue
        truth = data.catalog[band].to_numpy(float)[pred["test"]]
        resid = pred["pred"][:, j] - truth
        ok = np.isfinite(resid)
        err = f"{band}_err"
        noise = float(np.sqrt(np.mean(data.catalog[err].to_numpy(float)[pred["test"]][ok] ** 2))) \
            if err in data.catalog else np.nan
        scatter = float(np.std(resid[ok]))
        rows.append({"band": band, "column": j, "n_test": int(ok.sum()), "bias": float(np.mean(resid[ok])), "scatter": scatter,
                     "sigma_nmad": float(1.4826 * np.median(np.abs(resid[ok] - np.median(resid[ok])))),
                     "injected_noise": noise, "ratio": scatter / noise if noise > 0 else np.nan,
                     "truth_std": float(np.std(truth[ok]))})
    return pd.DataFrame(rows)


# --- attribution and line importance -----------------------------------------------------------------------
def takes_redshift(est: Any) -> bool:
    """Whether the model's second input is the redshift (the reference :class:`RestFrameSpectrumNet`)."""
    return "redshift" in tuple(getattr(est, "input_names", None) or ())


def model_inputs(est: Any, data: Any, rows: np.ndarray) -> Any:
    """The model's inputs for ``rows``: the spectra, plus the catalogue redshifts (n, 1) when it takes them."""
    x = np.asarray(data.spectra[rows], np.float32)
    return (x, _redshift_input(data, rows)) if takes_redshift(est) else x


def _redshift_input(data: Any, rows: np.ndarray) -> np.ndarray:
    """The catalogue redshifts of ``rows`` as a model input, shape (n, 1)."""
    z = _redshift(data)
    if z is None:
        raise ConfigError("optical_lines_to_ir: the model takes redshifts but the catalogue has no 'redshift'")
    return z[rows, None].astype(np.float32)


def _baseline(est: Any, data: Any, rows: np.ndarray, p: dict, seed: int) -> Any:
    """IG baseline of the spectra; a redshift input keeps its own value (attributions go to the spectrum only)."""
    if p.ig_baseline == "zeros":
        spec: Any = "zeros"
    else:
        train = np.setdiff1d(np.arange(len(data)), held_out_rows(data, seed))
        spec = np.asarray(data.spectra[train], np.float64).mean(axis=0).astype(np.float32)
    return (spec, _redshift_input(data, rows)) if takes_redshift(est) else spec


def attribute_band(est: Any, data: Any, rows: np.ndarray, band: str, p: dict, seed: int, progress: Any) -> Any:
    """Integrated gradients of output ``band`` per spectral pixel for the galaxies ``rows``."""
    x = model_inputs(est, data, rows)
    return ip.attribution.attribute(est, x, "integrated_gradients", target=band,
                                    baselines=_baseline(est, data, rows, p, seed),
                                    n_steps=int(p.ig_steps), batch_size=int(p.batch_size), progress=progress)


def band_lines(values: np.ndarray, wavelength: np.ndarray, z: np.ndarray | None, p: dict, seed: int) -> pd.DataFrame:
    """Line-importance table of one band (windows at each galaxy's redshift when ``z`` is given)."""
    kw = {"redshift": z, "frame": "observed"} if z is not None else {"frame": "rest"}
    return ip.attribution.line_importance(values, wavelength, n_boot=int(p.n_boot), ci_level=float(p.ci),
                                          continuum_width=float(p.continuum_width),
                                          min_coverage=float(p.min_coverage), seed=seed, **kw)


def rest_frame_stack(attributions: dict[str, np.ndarray], spectra: np.ndarray, wavelength: np.ndarray,
                     z: np.ndarray | None, step: float, min_fraction: float = 0.1) -> dict[str, np.ndarray]:
    """Stack spectra and |attribution| on a common rest-frame grid.

    Each galaxy's |attribution| is normalised to unit sum and turned into a density per rest-frame Angstrom;
    each spectrum is divided by its median flux. Returns ``wavelength`` (rest, A), ``coverage`` (galaxies per
    pixel), ``spectrum`` (median normalised flux) and ``att_<band>`` (mean fraction of |attribution| per A),
    trimmed to pixels covered by at least ``min_fraction`` of the galaxies (and >= 2).
    """
    n = len(spectra)
    z = np.zeros(n) if z is None else np.asarray(z, float)
    lo, hi = wavelength[0] / (1 + z.max()), wavelength[-1] / (1 + z.min())
    grid = np.arange(lo, hi, float(step))
    dlam = np.gradient(wavelength)
    spec = np.full((n, grid.size), np.nan)
    att = {b: np.full((n, grid.size), np.nan) for b in attributions}
    for i in range(n):
        rest = wavelength / (1 + z[i])
        norm = np.median(spectra[i])
        norm = norm if norm > 0 else (np.mean(np.abs(spectra[i])) or 1.0)
        spec[i] = np.interp(grid, rest, spectra[i] / norm, left=np.nan, right=np.nan)
        for b, v in attributions.items():
            a = np.abs(v[i]) / max(float(np.abs(v[i]).sum()), 1e-30)
            att[b][i] = np.interp(grid, rest, a * (1 + z[i]) / dlam, left=np.nan, right=np.nan)
    cover = np.isfinite(spec).sum(axis=0)
    keep = cover >= max(2, int(np.ceil(min_fraction * n)))
    out = {"wavelength": grid[keep], "coverage": cover[keep].astype(float),
           "spectrum": np.nanmedian(spec[:, keep], axis=0)}
    out.update({f"att_{b}": np.nanmean(a[:, keep], axis=0) for b, a in att.items()})
    return out


def completeness_table(attrs: dict[str, Any], rtol: float) -> pd.DataFrame:
    """IG completeness per band: |sum a - (f(x) - f(baseline))| in magnitudes, relative, and pass rate."""
    rows = []
    for band, a in attrs.items():
        c = ip.attribution.completeness_check(a, rtol=rtol, atol=1e-4)
        rows.append({"check": "IG completeness", "band": band, "n_galaxies": len(c.expected),
                     "n_steps": int(np.median(a.n_steps)) if a.n_steps is not None else np.nan,
                     "median_abs_gap_mag": float(np.median(np.abs(c.expected))),
                     "median_abs_delta_mag": float(np.median(np.abs(c.delta))),
                     "max_abs_delta_mag": float(np.max(np.abs(c.delta))),
                     "median_relative_error": float(np.median(c.relative_error)),
                     "fraction_passed": c.fraction_passed})
    return pd.DataFrame(rows)


def randomization_table(tests: dict[str, Any], threshold: float = 0.5) -> pd.DataFrame:
    """Cascading randomisation: similarity to the trained model's maps after all layers are re-drawn."""
    rows = []
    for band, r in tests.items():
        s = r.scores
        rows.append({"check": "model randomisation (cascading)", "band": band, "n_stages": len(s),
                     "spearman_first_stage": float(s["spearman"].iloc[0]),
                     "spearman_last_stage": float(s["spearman"].iloc[-1]),
                     "spearman_abs_last_stage": float(s["spearman_abs"].iloc[-1]),
                     "ssim_last_stage": float(s["ssim"].iloc[-1]),
                     "passed_signed": r.passed(threshold, metric="spearman"),
                     "passed_abs": r.passed(threshold, metric="spearman_abs")})
    return pd.DataFrame(rows)


# --- comparison with the truth -----------------------------------------------------------------------------
def rank_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a randomly chosen positive outranks a negative (ties count 1/2); nan without both."""
    pos, neg = scores[labels], scores[~labels]
    if pos.size == 0 or neg.size == 0:
        return np.nan
    diff = pos[:, None] - neg[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


def average_precision(labels_ranked: np.ndarray) -> float:
    """Average precision of a ranking (labels in rank order)."""
    hits = np.cumsum(labels_ranked)
    if hits[-1] == 0:
        return np.nan
    prec = hits / np.arange(1, labels_ranked.size + 1)
    return float(np.sum(prec * labels_ranked) / hits[-1])


def overlap_metrics(table: pd.DataFrame, truth: list[str], k: int, n_perm: int, seed: int) -> dict[str, Any]:
    """Agreement of a line-importance ranking (``table`` sorted by excess) with a set of truth lines."""
    names = list(table.index)
    labels = np.array([n in set(truth) for n in names])
    excess = table["excess"].to_numpy(float)
    n_true, k = int(labels.sum()), min(int(k), len(names))
    sig = table["significant"].to_numpy(bool)
    auc = rank_auc(excess, labels)
    rng = np.random.default_rng([seed, 31])
    perm = [rank_auc(excess, rng.permutation(labels)) for _ in range(int(n_perm))] if n_true else []
    p_value = (1 + sum(a >= auc for a in perm)) / (1 + len(perm)) if perm else np.nan
    return {"n_lines": len(names), "n_truth": n_true, "chance": n_true / len(names) if names else np.nan,
            "k": k, "top_k": " ".join(names[:k]), "precision_at_k": float(labels[:k].mean()) if k else np.nan,
            "recall_at_k": float(labels[:k].sum() / n_true) if n_true else np.nan,
            "r_precision": float(labels[:n_true].mean()) if n_true else np.nan,
            "n_significant": int(sig.sum()),
            "precision_significant": float(labels[sig].mean()) if sig.any() else np.nan,
            "recall_significant": float((labels & sig).sum() / n_true) if n_true else np.nan,
            "auc": auc, "auc_p_value": p_value, "average_precision": average_precision(labels) if n_true else np.nan,
            "truth_missing": " ".join(sorted(set(truth) - set(names)))}


def truth_lines(ctx: Any, data: Any) -> dict[str, list[str]]:
    """Expected lines per band: ``params.truth_lines`` when given, else the mock universe's planted truth."""
    given = {str(k): list(v) for k, v in ctx.params.truth_lines.items()}
    if given:
        return given
    return dict(getattr(data.truth, "ir_lines", {}) or {})


# --- compute -----------------------------------------------------------------------------------------------
def compute(ctx: Any) -> None:
    """Train (or load) the network, then accuracy, IG per band, line importance, truth overlap, sanity checks."""
    p = ctx.params
    _check_params(p)
    data = study_data(ctx, 3000, images=False)
    note_unknown_split(ctx, data)
    bands = list(p.bands)
    z = _redshift(data)
    ctx.store.update(data=data, bands=bands, truth=truth_lines(ctx, data))
    with ctx.timed("model"):
        est = spectrum_model(ctx, data)
    base = {"seed": ctx.seed, "n": ctx.config["n"], "fast": p.fast, "n_epochs": p.n_epochs,
            "data": ctx.config.get("data"), "model": ctx.config.get("model"), "model_id": model_id(ctx, est)}
    names = list(getattr(est, "output_names", None) or IR_BANDS)
    sample = {k: getattr(p, k) for k in ("n_attribution", "n_randomization")}
    pred = ctx.cached("predictions", {**base, **sample}, lambda: predictions(est, data, p, ctx.seed))
    ctx.add_table("accuracy", accuracy_table(pred, data, names))
    ig_key = {**base, **sample, **{k: getattr(p, k) for k in ("ig_steps", "ig_baseline")}}
    with baseline_notes(ctx.notes, f"Attribution baseline ({p.ig_baseline} spectrum)"):
        attrs = {b: ctx.cached(f"ig_{b}", {**ig_key, "band": b},
                               lambda b=b: attribute_band(est, data, pred["attribution_rows"], b, p, ctx.seed,
                                                          ctx.progress)) for b in bands}
    zr = None if z is None else z[pred["attribution_rows"]]
    li_key = {**ig_key, **{k: getattr(p, k) for k in ("n_boot", "ci", "continuum_width", "min_coverage")}}
    for b in bands:
        table = ctx.cached(f"lines_{b}", {**li_key, "band": b},
                           lambda b=b: band_lines(attrs[b].input_values(0), data.wavelength, zr, p, ctx.seed))
        ctx.add_table(f"lines_{b}", table.reset_index())
    ctx.cached("stack", {**ig_key, "bands": bands, "step": p.rest_step, "cover": p.rest_min_coverage},
               lambda: rest_frame_stack({b: attrs[b].input_values(0) for b in bands},
                                        np.asarray(data.spectra[pred["attribution_rows"]], float),
                                        np.asarray(data.wavelength, float), zr, float(p.rest_step),
                                        float(p.rest_min_coverage)))
    _overlap(ctx, bands)
    _sanity(ctx, est, data, pred, attrs, base)
    _notes(ctx, bands)


def _overlap(ctx: Any, bands: list[str]) -> None:
    p, truth = ctx.params, ctx.load("truth")
    rows = [{"band": b, **overlap_metrics(ctx.load(f"lines_{b}"), truth[b], p.top_k, p.n_perm, ctx.seed)}
            for b in bands if b in truth]
    ctx.add_table("truth_overlap", pd.DataFrame(rows))


def _sanity(ctx: Any, est: Any, data: Any, pred: dict, attrs: dict, base: dict) -> None:
    p = ctx.params
    comp = completeness_table(attrs, float(p.completeness_rtol))
    tests = {}
    x = model_inputs(est, data, pred["randomization_rows"])
    for b in p.randomization_bands:
        if getattr(est, "module", None) is None:
            break
        key = {**base, "band": b, "n_galaxies": len(pred["randomization_rows"]), "steps": p.randomization_steps,
               "baseline": p.ig_baseline}
        with warnings.catch_warnings():     # randomised layers move f(baseline) by design: not news
            warnings.simplefilter("ignore", BaselineWarning)
            tests[b] = ctx.cached(f"randomization_{b}", key, lambda b=b: ip.attribution.randomization_test(
                est, x, "integrated_gradients", mode="cascading", target=b, seed=ctx.seed, progress=False,
                n_steps=int(p.randomization_steps),
                baselines=_baseline(est, data, pred["randomization_rows"], p, ctx.seed),
                batch_size=int(p.batch_size)))
    ctx.store["randomization_bands"] = list(tests)
    ctx.add_table("sanity", pd.concat([comp, randomization_table(tests)], ignore_index=True))


# --- findings ----------------------------------------------------------------------------------------------
def _notes(ctx: Any, bands: list[str]) -> None:
    data, acc = ctx.load("data"), ctx.tables["accuracy"]
    pred = ctx.load("predictions")
    if len(acc):
        txt = ", ".join(f"{r.band} {r.scatter:.3f} mag ({r.ratio:.2f}x noise {r.injected_noise:.3f})"
                        if np.isfinite(r.ratio) else f"{r.band} {r.scatter:.3f} mag" for r in acc.itertuples())
        ctx.notes.append(f"{len(data)} galaxies ({data.source}), held-out n = {len(pred['test'])}. Spectrum -> WISE "
                         f"residual scatter: {txt}.")
    ov = ctx.tables["truth_overlap"]
    k = int(ctx.params.top_k)
    for r in ov.itertuples():
        ctx.notes.append(
            f"{r.band}: top-{k} lines {r.top_k.replace(' ', ', ')} - {int(round(r.precision_at_k * r.k))}/{r.k} in "
            f"the planted truth (precision@{k} {r.precision_at_k:.2f} vs chance {r.chance:.2f}, recall@{k} "
            f"{r.recall_at_k:.2f}); rank AUC {r.auc:.2f} (permutation p = {r.auc_p_value:.3f}), R-precision "
            f"{r.r_precision:.2f}; {r.n_significant} of {r.n_lines} lines significant, precision "
            f"{r.precision_significant:.2f}, recall {r.recall_significant:.2f}.")
    if len(ov):
        ctx.notes.append(f"Mean over bands: precision@{k} {ov['precision_at_k'].mean():.2f} (chance "
                         f"{ov['chance'].mean():.2f}), rank AUC {ov['auc'].mean():.2f}.")
    s = ctx.tables["sanity"]
    comp = s[s["check"] == "IG completeness"]
    txt = ", ".join(f"{r.band} {r.median_relative_error:.1e} ({100 * r.fraction_passed:.0f} % pass)"
                    for r in comp.itertuples())
    ctx.notes.append(f"IG completeness, median relative error (rtol {ctx.params.completeness_rtol}): {txt}.")
    rnd = s[s["check"] != "IG completeness"]
    if len(rnd):
        txt = ", ".join(f"{r.band} signed Spearman {r.spearman_last_stage:+.2f} (|a|: {r.spearman_abs_last_stage:+.2f})"
                        for r in rnd.itertuples())
        ok = bool(rnd["passed_signed"].all())
        ctx.notes.append(f"Model randomisation (cascading, all {int(rnd['n_stages'].iloc[0])} layers re-drawn): "
                         f"{txt}; {'passed' if ok else 'FAILED'} (signed Spearman < 0.5).")


# --- figures -----------------------------------------------------------------------------------------------

def fig_accuracy(ctx: Any) -> Any:
    """Held-out predicted vs catalogue (observed, noisy) W1-W4 magnitudes with residual scatter and the
    injected-noise ratio."""
    import matplotlib.pyplot as plt

    from interpret.plots._style import PAGE_WIDTH, PALETTE

    data, pred, acc = ctx.load("data"), ctx.load("predictions"), ctx.tables["accuracy"]
    fig, axes = plt.subplots(1, 4, figsize=(PAGE_WIDTH, 2.2), layout="constrained", squeeze=False)
    for k, ax in enumerate(axes[0]):
        if k >= len(acc):
            ax.set_axis_off()
            continue
        r = acc.iloc[k]
        j = int(r["column"])
        t = data.catalog[r["band"]].to_numpy(float)[pred["test"]]
        yp = pred["pred"][:, j]
        lo, hi = np.nanpercentile(np.r_[t, yp], [0.5, 99.5])
        if t.size > 1000:
            ax.hexbin(t, yp, gridsize=35, bins="log", mincnt=1, cmap="Blues", extent=(lo, hi, lo, hi))
        else:
            ax.scatter(t, yp, s=4, color=PALETTE["blue"], alpha=0.6, lw=0)
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.7)
        ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel=f"catalogue {r['band']} [AB mag]")
        ax.set_aspect("equal")
        ratio = f"\n= {r['ratio']:.2f}x noise" if np.isfinite(r["ratio"]) else ""
        ax.text(0.04, 0.96, f"σ = {r['scatter']:.3f} mag{ratio}", transform=ax.transAxes, va="top", fontsize=7)
        if k == 0:
            ax.set_ylabel("predicted [AB mag]")
    fig.suptitle(f"Spectrum → WISE network, held-out galaxies (n = {len(pred['test'])})", fontsize=9)
    return fig


def _lines_figure(ctx: Any, band: str) -> Any:
    import matplotlib.pyplot as plt

    from interpret.plots._style import PAGE_WIDTH, PALETTE

    if band not in ctx.load("bands"):
        fig, ax = plt.subplots(figsize=(3.5, 1.0))
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"{band} not analysed (params.bands)", ha="center", va="center")
        return fig
    table, stack = ctx.load(f"lines_{band}"), ctx.load("stack")
    truth = set(ctx.load("truth").get(band, []))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(PAGE_WIDTH, 4.9), layout="constrained",
                                   gridspec_kw={"height_ratios": [1.15, 1]})
    smooth = max(1, int(round(SMOOTH_A / float(ctx.params.rest_step))))
    att = np.convolve(stack[f"att_{band}"], np.ones(smooth) / smooth, mode="same")   # display only
    ip.plots.attribution.plot_line_importance({band: table}, stack["wavelength"], stack["spectrum"],
                                              attributions={band: att}, top=5, axes=[ax1])
    for txt in [t for t in ax1.texts if t.get_text() == band]:   # the band is named in the title instead
        txt.remove()
    ax1.set_xlabel(r"rest-frame wavelength [$\mathrm{\AA}$]")
    ax1.set_ylabel("median flux / median")
    ax1.set_title(f"{band}: stacked spectrum (black) and mean |IG attribution| per Å (blue, {SMOOTH_A:.0f} Å "
                  f"boxcar); windows shaded by importance; {table['n_galaxies'].max()} held-out galaxies",
                  loc="left", fontsize=7)
    _panel(ax1, "a")
    x = np.arange(len(table))
    col = [PALETTE["vermillion"] if n in truth else PALETTE["skyblue"] for n in table.index]
    err = np.vstack([table["excess"] - table["ci_low"], table["ci_high"] - table["excess"]]).clip(min=0)
    ax2.bar(x, 100 * table["excess"], yerr=100 * err, color=col, edgecolor="0.3", lw=0.4, capsize=1.5,
            error_kw={"lw": 0.6})
    ax2.axhline(0, color="k", lw=0.6)
    for i, sig in enumerate(table["significant"]):
        if sig:
            ax2.text(i, 100 * table["ci_high"].iloc[i], "*", ha="center", va="bottom", fontsize=8)
    ax2.set_xticks(x, list(table["label"]), rotation=60, ha="right", fontsize=7)
    ax2.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax2.set_xlim(-0.6, len(x) - 0.4)
    ax2.set_ylabel("excess |attribution|\n[% of galaxy total]")
    handles = [plt.Rectangle((0, 0), 1, 1, color=PALETTE["vermillion"]),
               plt.Rectangle((0, 0), 1, 1, color=PALETTE["skyblue"])]
    ci = int(round(100 * ctx.params.ci))
    ax2.legend([*handles, plt.Line2D([], [], color="k", lw=0.8, marker="_")],
               [f"planted truth for {band}", "not in truth", f"{ci} % bootstrap CI (*: significant)"],
               loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, fontsize=7, borderaxespad=0.2)
    _panel(ax2, "b")
    return fig


def fig_lines_W1(ctx: Any) -> Any:
    """W1 (3.4 um): stacked rest-frame spectrum with line windows shaded by importance; line excess vs truth."""
    return _lines_figure(ctx, "W1")


def fig_lines_W2(ctx: Any) -> Any:
    """W2 (4.6 um): as fig_lines_W1."""
    return _lines_figure(ctx, "W2")


def fig_lines_W3(ctx: Any) -> Any:
    """W3 (12 um): as fig_lines_W1."""
    return _lines_figure(ctx, "W3")


def fig_lines_W4(ctx: Any) -> Any:
    """W4 (22 um): as fig_lines_W1."""
    return _lines_figure(ctx, "W4")


def importance_matrix(ctx: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(excess normalised per band, rank, significant) line x band frames, lines sorted by wavelength."""
    bands = ctx.load("bands")
    tabs = {b: ctx.load(f"lines_{b}") for b in bands}
    wl = pd.concat([t["wavelength"] for t in tabs.values()]).groupby(level=0).first().sort_values()
    exc = pd.DataFrame({b: t["excess"] for b, t in tabs.items()}).reindex(wl.index)
    norm = exc / exc.abs().max()
    rank = pd.DataFrame({b: t["rank"] for b, t in tabs.items()}).reindex(wl.index)
    sig = pd.DataFrame({b: t["significant"] for b, t in tabs.items()}).reindex(wl.index)
    return norm, rank, sig.fillna(False).astype(bool)


def fig_summary(ctx: Any) -> Any:
    """Line x band importance heatmap (excess / band maximum) with the planted truth boxed and ranks written."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    norm, rank, sig = importance_matrix(ctx)
    truth, bands = ctx.load("truth"), list(norm.columns)
    labels = {n: ip.data.lines.get_line(n).label or n for n in norm.index}
    fig, ax = plt.subplots(figsize=(3.5, 0.2 * len(norm) + 1.3), layout="constrained")
    im = ax.imshow(norm.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    for i, line in enumerate(norm.index):
        for j, b in enumerate(bands):
            if np.isfinite(rank.iloc[i, j]):
                v = norm.iloc[i, j]
                ax.text(j, i, f"{int(rank.iloc[i, j])}{'*' if sig.iloc[i, j] else ''}", ha="center",
                        va="center", fontsize=6, color="white" if abs(v) > 0.6 else "black")
            if line in truth.get(b, []):
                ax.add_patch(Rectangle((j - 0.46, i - 0.44), 0.92, 0.88, fill=False, ec="k", lw=1.1))
    ax.set_xticks(range(len(bands)), bands)
    ax.set_yticks(range(len(norm)), [labels[n] for n in norm.index], fontsize=7)
    ax.tick_params(which="minor", left=False, right=False, top=False, bottom=False)
    ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False)
    fig.colorbar(im, ax=ax, shrink=0.6, label="excess |attribution| / band max")
    ax.set_title("number: rank in band; *: significant; box: planted truth", fontsize=7, loc="left")
    return fig


def fig_overlap(ctx: Any) -> Any:
    """Agreement with the planted truth per band: precision / recall of the top-k lines, AUC, chance level."""
    import matplotlib.pyplot as plt

    from interpret.plots._style import color_cycle

    ov = ctx.tables["truth_overlap"]
    fig, ax = plt.subplots(figsize=(3.5, 2.6), layout="constrained")
    if not len(ov):
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no truth lines (user data without params.truth_lines)", ha="center", va="center")
        return fig
    k = int(ctx.params.top_k)
    cols = [("precision_at_k", f"precision@{k}"), ("recall_at_k", f"recall@{k}"),
            ("precision_significant", "precision (signif.)"), ("auc", "rank AUC")]
    x = np.arange(len(ov))
    w = 0.8 / len(cols)
    for i, ((c, lab), color) in enumerate(zip(cols, color_cycle())):
        ax.bar(x + (i - (len(cols) - 1) / 2) * w, ov[c].fillna(0), w, color=color, label=lab)
    for xi, ch in zip(x, ov["chance"]):
        ax.plot([xi - 0.45, xi + 0.45], [ch, ch], color="k", lw=1.0, ls="--")
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":", label="chance AUC")
    ax.plot([], [], color="k", lw=1.0, ls="--", label="chance precision")
    ax.set_xticks(x, list(ov["band"]))
    ax.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax.set(ylim=(0, 1.05), ylabel="score (planted truth)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=6.5, handlelength=1.2,
              columnspacing=0.8)
    return fig


def fig_sanity(ctx: Any) -> Any:
    """IG completeness error per band and the cascading model-randomisation curves."""
    import matplotlib.pyplot as plt

    from interpret.plots._style import PAGE_WIDTH, color_cycle

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.6), layout="constrained")
    for b, color in zip(ctx.load("bands"), color_cycle()):
        c = ip.attribution.completeness_check(ctx.load(f"ig_{b}"))
        rel = np.sort(np.maximum(c.relative_error, 1e-8))
        ax1.step(rel, np.arange(1, rel.size + 1) / rel.size, where="post", color=color, label=b)
    ax1.axvline(ctx.params.completeness_rtol, color="k", ls="--", lw=0.7, label="tolerance")
    ax1.set(xscale="log", xlabel="|Σ a − (f(x) − f(baseline))| / |f(x) − f(baseline)|",
            ylabel="cumulative fraction of galaxies")
    ax1.legend(fontsize=7, loc="upper left")
    _panel(ax1, "a")
    rb = ctx.store.get("randomization_bands", [])
    for b, color in zip(rb, color_cycle()):
        s = ctx.load(f"randomization_{b}").scores
        st = np.arange(1, len(s) + 1)
        ax2.plot(st, s["spearman"], "-o", ms=3, color=color, label=f"{b} signed")
        ax2.plot(st, s["spearman_abs"], "--s", ms=2.5, color=color, alpha=0.7, label=f"{b} |a|")
    if rb:
        s = ctx.load(f"randomization_{rb[0]}").scores
        ax2.set_xticks(np.arange(1, len(s) + 1), [str(n) for n in s["layer"]], rotation=60, ha="right",
                       fontsize=6)
        ax2.tick_params(axis="x", which="minor", bottom=False, top=False)
        ax2.legend(fontsize=6.5, ncol=2)
    ax2.axhline(0.5, color="k", ls=":", lw=0.7)
    ax2.set(ylabel="Spearman ρ vs trained model", xlabel="layers re-drawn (cascading, output → input)")
    _panel(ax2, "b")
    return fig


FIGURES = [fig_accuracy, fig_lines_W1, fig_lines_W2, fig_lines_W3, fig_lines_W4, fig_summary, fig_overlap,
           fig_sanity]
