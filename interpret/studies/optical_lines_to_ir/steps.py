"""Pure steps of the ``optical_lines_to_ir`` study: (spectra + catalogue, spectrum -> W1-W4 network,
parameters, seed) -> tables and result objects.

The steps answer, for each WISE output of a network that predicts W1-W4 from an optical spectrum: how close
to the photometric noise it is on held-out galaxies (:func:`predictions`, :func:`accuracy_table`); which
spectral pixels it uses, by integrated gradients (:func:`attribute_band`); which catalogue lines those pixels
belong to, above the neighbouring continuum and at each galaxy's redshift (:func:`band_lines`,
:func:`rest_frame_stack`, :func:`importance_matrix`); whether those lines are the ones that drive the band
(:func:`overlap_metrics`, :func:`overlap_table`); and whether the attributions are trustworthy (IG
completeness, :func:`completeness_table`; the cascading model-randomisation test, :func:`randomization`,
:func:`randomization_table`). :func:`findings` turns the tables into the report's sentences.

None reads a config, writes a file or keeps state: ``data`` is anything with ``catalog`` (a DataFrame, with
``redshift`` and the W1-W4 magnitudes), ``spectra`` (n, L), ``wavelength`` (L,), ``truth`` and ``split``
(:class:`interpret.studies._data.StudyData`, or :func:`load_data` for the mock universe); ``est`` is any
estimator whose first input is the spectra (and whose second, when named ``redshift``, the redshift).
:func:`run_all` runs every step in order and returns the dict the figure functions read.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...exceptions import BaselineWarning, ConfigError
from .._data import StudyData, fit_subset, split_rows
from .._models import baseline_notes
from .params import IR_BANDS, Params

__all__ = ["load_data", "load_model", "held_out_rows", "model_id", "output_names", "predictions",
           "accuracy_table", "takes_redshift", "output_target", "can_randomize", "randomization_note", "in_frame", "untested_lines", "grid_note", "model_inputs",
           "attribute_band", "band_lines", "rest_frame_stack",
           "completeness_table", "completeness_errors", "randomization", "randomization_table", "rank_auc",
           "average_precision", "overlap_metrics", "overlap_table", "truth_lines", "importance_matrix",
           "ImportanceMatrix", "findings", "run_all", "IR_BANDS"]


# --- data, model, predictions ------------------------------------------------------------------------------
def load_data(n: int = 3000, seed: int = 0, *, progress: bool | None = False) -> StudyData:
    """The mock universe's spectra and catalogue (no images) as the study's data (``n`` galaxies)."""
    from ... import mock

    u = mock.make_universe(n=n, seed=seed, images=False, progress=progress)
    return StudyData(catalog=u.catalog, bands=u.bands, images=u.images, wavelength=u.wavelength,
                     spectra=u.spectra, truth=u.truth, source="mock", universe=u, name="mock universe")


def load_model(data: Any, params: Params, seed: int, *, device: str = "cpu", num_threads: int = 1,
               progress: bool | None = False) -> Any:
    """The reference spectrum -> W1-W4 network (``RestFrameSpectrumNet``) fitted on every row of ``data`` but
    the user's test rows; the reference trainer holds out its own seeded split otherwise."""
    from ... import mock

    if data.spectra is None:
        raise ConfigError("optical_lines_to_ir: needs spectra ([data] spectra = ...) or the mock universe")
    return mock.train_reference(fit_subset(data), task="ir_from_spectra", seed=seed, device=device,
                                fast=bool(params.fast), n_epochs=int(params.n_epochs) or None,
                                num_threads=num_threads, progress=progress)


def in_frame(data: Any, params: Params) -> Any:
    """``data`` as the study reads it: with ``params.spectra_frame = "rest"`` (spectra already de-redshifted)
    the catalogue's ``redshift`` is set aside, so that neither the reference network nor the line windows
    shift the spectra a second time; the grid is then read as rest-frame wavelengths."""
    if params.spectra_frame != "rest" or "redshift" not in data.catalog:
        return data
    import dataclasses

    return dataclasses.replace(data, catalog=data.catalog.drop(columns=["redshift"]))


def _redshift(data: Any) -> np.ndarray | None:
    return data.catalog["redshift"].to_numpy(float) if "redshift" in data.catalog else None


def held_out_rows(data: Any, seed: int) -> np.ndarray:
    """Held-out rows: the user's test rows (``[data] split``), else the reference split's."""
    return split_rows(data, reference=(len(data), seed)).test


def model_id(est: Any) -> str:
    """Identity of the explained model for cache keys: a digest of its weights (never a file name or mtime)."""
    from ..._digest import digest_estimator

    return digest_estimator(est)


def output_names(est: Any) -> list[str]:
    """The network's output names (W1-W4 when it does not name them)."""
    return list(getattr(est, "output_names", None) or IR_BANDS)


def predictions(est: Any, data: Any, p: Params, seed: int) -> dict[str, np.ndarray]:
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
        rows.append({"band": band, "column": j, "n_test": int(ok.sum()), "bias": float(np.mean(resid[ok])),
                     "scatter": scatter,
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
        raise ConfigError("optical_lines_to_ir: the model takes redshifts but the catalogue has no 'redshift' "
                          "(params.spectra_frame = 'rest' sets it aside: rest-frame spectra need a model without "
                          "a redshift input)")
    return z[rows, None].astype(np.float32)


def _baseline(est: Any, data: Any, rows: np.ndarray, p: Params, seed: int) -> Any:
    """IG baseline of the spectra; a redshift input keeps its own value (attributions go to the spectrum only)."""
    if p.ig_baseline == "zeros":
        spec: Any = "zeros"
    else:
        train = np.setdiff1d(np.arange(len(data)), held_out_rows(data, seed))
        spec = np.asarray(data.spectra[train], np.float64).mean(axis=0).astype(np.float32)
    return (spec, _redshift_input(data, rows)) if takes_redshift(est) else spec


def output_target(est: Any, band: str) -> str | int:
    """The attribution target of output ``band``: its name when the model names its outputs, else its column
    in W1..W4 order (a TorchScript file or state dict loaded without ``[model] output_names``)."""
    if getattr(est, "output_names", None):
        return band
    return IR_BANDS.index(band)


def can_randomize(est: Any) -> bool:
    """Whether the model-randomisation test can re-draw the model's layers: a torch module that is not
    TorchScript (a scripted or traced module hides its submodules' parameters from re-initialisation)."""
    module = getattr(est, "module", None)
    if module is None:
        return False
    import torch

    return not isinstance(module, torch.jit.ScriptModule)


def randomization_note(est: Any, params: Params) -> str | None:
    """The report line when the randomisation test asked for cannot run on this model."""
    if not params.randomization_bands or can_randomize(est):
        return None
    return ("Model randomisation skipped: the model's layers cannot be re-drawn (not a torch module, or "
            "TorchScript); load it as a state dict + [model] factory to run it.")


def attribute_band(est: Any, data: Any, rows: np.ndarray, band: str, p: Params, seed: int,
                   progress: bool | None = None) -> Any:
    """Integrated gradients of output ``band`` per spectral pixel for the galaxies ``rows``."""
    from ...attribution import attribute

    x = model_inputs(est, data, rows)
    return attribute(est, x, "integrated_gradients", target=output_target(est, band),
                     baselines=_baseline(est, data, rows, p, seed),
                     n_steps=int(p.ig_steps), batch_size=int(p.batch_size), progress=progress)


def band_lines(values: np.ndarray, wavelength: np.ndarray, z: np.ndarray | None, p: Params,
               seed: int) -> pd.DataFrame:
    """Line-importance table of one band (windows at each galaxy's redshift when ``z`` is given)."""
    from ...attribution import line_importance

    kw = {"redshift": z, "frame": "observed"} if z is not None else {"frame": "rest"}
    return line_importance(values, wavelength, n_boot=int(p.n_boot), ci_level=float(p.ci),
                           continuum_width=float(p.continuum_width), min_coverage=float(p.min_coverage),
                           seed=seed, **kw)


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


@dataclass(frozen=True)
class ImportanceMatrix:
    """Line x band frames (lines sorted by rest wavelength): ``excess`` divided by each band's largest |excess|,
    the line's ``rank`` in the band, and whether it is ``significant`` (False where a band did not score it)."""

    excess: pd.DataFrame
    rank: pd.DataFrame
    significant: pd.DataFrame


def importance_matrix(tables: Mapping[str, pd.DataFrame]) -> ImportanceMatrix:
    """The bands' line-importance tables (:func:`band_lines`, by band) as one line x band matrix."""
    wl = pd.concat([t["wavelength"] for t in tables.values()]).groupby(level=0).first().sort_values()
    exc = pd.DataFrame({b: t["excess"] for b, t in tables.items()}).reindex(wl.index)
    norm = exc / exc.abs().max()
    rank = pd.DataFrame({b: t["rank"] for b, t in tables.items()}).reindex(wl.index)
    sig = pd.DataFrame({b: t["significant"] for b, t in tables.items()}).reindex(wl.index)
    return ImportanceMatrix(norm, rank, sig.fillna(False).astype(bool))


# --- sanity checks -----------------------------------------------------------------------------------------
def completeness_table(attrs: dict[str, Any], rtol: float) -> pd.DataFrame:
    """IG completeness per band: |sum a - (f(x) - f(baseline))| in magnitudes, relative, and pass rate."""
    from ...attribution import completeness_check

    rows = []
    for band, a in attrs.items():
        c = completeness_check(a, rtol=rtol, atol=1e-4)
        rows.append({"check": "IG completeness", "band": band, "n_galaxies": len(c.expected),
                     "n_steps": int(np.median(a.n_steps)) if a.n_steps is not None else np.nan,
                     "median_abs_gap_mag": float(np.median(np.abs(c.expected))),
                     "median_abs_delta_mag": float(np.median(np.abs(c.delta))),
                     "max_abs_delta_mag": float(np.max(np.abs(c.delta))),
                     "median_relative_error": float(np.median(c.relative_error)),
                     "fraction_passed": c.fraction_passed})
    return pd.DataFrame(rows)


def completeness_errors(attrs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per band, each galaxy's IG completeness error |sum a - (f(x) - f(baseline))| / |f(x) - f(baseline)|."""
    from ...attribution import completeness_check

    return {band: completeness_check(a).relative_error for band, a in attrs.items()}


def randomization(est: Any, data: Any, rows: np.ndarray, band: str, p: Params, seed: int) -> Any | None:
    """Cascading model-randomisation test (Adebayo et al. 2018, arXiv:1810.03292) of output ``band`` on
    ``rows``; None for a model without a plain torch module (:func:`can_randomize`)."""
    from ...attribution import randomization_test

    if not can_randomize(est):
        return None
    x = model_inputs(est, data, rows)
    with warnings.catch_warnings():     # randomised layers move f(baseline) by design: not news
        warnings.simplefilter("ignore", BaselineWarning)
        return randomization_test(est, x, "integrated_gradients", mode="cascading", target=output_target(est, band),
                                  seed=seed,
                                  progress=False, n_steps=int(p.randomization_steps),
                                  baselines=_baseline(est, data, rows, p, seed), batch_size=int(p.batch_size))


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


def overlap_table(tables: Mapping[str, pd.DataFrame], truth: Mapping[str, list[str]], p: Params,
                  seed: int) -> pd.DataFrame:
    """:func:`overlap_metrics` of every band that has truth lines, one row per band."""
    rows = [{"band": b, **overlap_metrics(t, truth[b], p.top_k, p.n_perm, seed)}
            for b, t in tables.items() if b in truth]
    return pd.DataFrame(rows)


def truth_lines(p: Params, data: Any) -> dict[str, list[str]]:
    """Expected lines per band: ``params.truth_lines`` when given, else the mock universe's planted truth."""
    given = {str(k): list(v) for k, v in p.truth_lines.items()}
    if given:
        return given
    return dict(getattr(data.truth, "ir_lines", {}) or {})


# --- findings ----------------------------------------------------------------------------------------------
def findings(data: Any, pred: dict, accuracy: pd.DataFrame, overlap: pd.DataFrame, sanity: pd.DataFrame,
             p: Params, lines: Mapping[str, pd.DataFrame] | None = None) -> list[str]:
    """The report's sentences: accuracy against the noise, agreement with the truth per band (the top lines of
    the ``lines`` tables of bands without expected lines), sanity checks."""
    notes = []
    if len(accuracy):
        txt = ", ".join(f"{r.band} {r.scatter:.3f} mag ({r.ratio:.2f}x noise {r.injected_noise:.3f})"
                        if np.isfinite(r.ratio) else f"{r.band} {r.scatter:.3f} mag"
                        for r in accuracy.itertuples())
        notes.append(f"{len(data)} galaxies ({data.source}), held-out n = {len(pred['test'])}. Spectrum -> WISE "
                     f"residual scatter: {txt}.")
    k = int(p.top_k)
    for r in overlap.itertuples():
        notes.append(
            f"{r.band}: top-{k} lines {r.top_k.replace(' ', ', ')} - {int(round(r.precision_at_k * r.k))}/{r.k} in "
            f"the planted truth (precision@{k} {r.precision_at_k:.2f} vs chance {r.chance:.2f}, recall@{k} "
            f"{r.recall_at_k:.2f}); rank AUC {r.auc:.2f} (permutation p = {r.auc_p_value:.3f}), R-precision "
            f"{r.r_precision:.2f}; {r.n_significant} of {r.n_lines} lines significant, precision "
            f"{r.precision_significant:.2f}, recall {r.recall_significant:.2f}.")
    notes.extend(untested_lines(lines or {}, overlap, k))
    if len(overlap):
        notes.append(f"Mean over bands: precision@{k} {overlap['precision_at_k'].mean():.2f} (chance "
                     f"{overlap['chance'].mean():.2f}), rank AUC {overlap['auc'].mean():.2f}.")
    comp = sanity[sanity["check"] == "IG completeness"]
    txt = ", ".join(f"{r.band} {r.median_relative_error:.1e} ({100 * r.fraction_passed:.0f} % pass)"
                    for r in comp.itertuples())
    notes.append(f"IG completeness, median relative error (rtol {p.completeness_rtol}): {txt}.")
    rnd = sanity[sanity["check"] != "IG completeness"]
    if len(rnd):
        txt = ", ".join(f"{r.band} signed Spearman {r.spearman_last_stage:+.2f} (|a|: {r.spearman_abs_last_stage:+.2f})"
                        for r in rnd.itertuples())
        ok = bool(rnd["passed_signed"].all())
        notes.append(f"Model randomisation (cascading, all {int(rnd['n_stages'].iloc[0])} layers re-drawn): "
                     f"{txt}; {'passed' if ok else 'FAILED'} (signed Spearman < 0.5).")
    return notes


def untested_lines(lines: Mapping[str, pd.DataFrame], overlap: pd.DataFrame, k: int) -> list[str]:
    """One line per band that has no expected lines (user data without ``params.truth_lines``): its top-k
    lines by importance, and how to compare them with what the user expects."""
    scored = set(overlap["band"]) if "band" in overlap else set()
    out = []
    for band, table in lines.items():
        if band in scored:
            continue
        sig = table["significant"].to_numpy(bool) if "significant" in table else np.zeros(len(table), bool)
        top = ", ".join(map(str, list(table.index)[:k])) or "none scored"
        out.append(f"{band}: top-{k} lines {top} ({int(sig.sum())} of {len(table)} lines significant); no expected "
                   f"lines to compare with: params.truth_lines = {{{band} = [...]}} scores the ranking against them.")
    return out


def grid_note(data: Any, est: Any) -> str | None:
    """A report line when the catalogue has redshifts but the model reads the spectra in the observed frame only
    (the reference trainer does so when the grid is not log-uniform: its rest-frame network shifts by whole
    log-wavelength pixels)."""
    if takes_redshift(est) or _redshift(data) is None:
        return None
    from ...mock.train import _log_step

    why = ("the wavelength grid is not log-uniform, so the reference network is the observed-frame one; resample "
           "to a log-lambda grid (SDSS: 1e-4 dex) to let it de-redshift"
           if _log_step(np.asarray(data.wavelength, float)) is None else "the model has no redshift input")
    return (f"The network reads the spectra in the observed frame ({why}); the line windows are still placed at "
            "each galaxy's redshift.")


# --- everything --------------------------------------------------------------------------------------------
def run_all(params: Params, *, data: Any = None, est: Any = None, n: int = 3000,
            seed: int | np.random.Generator | None = None, progress: bool | None = None) -> dict[str, Any]:
    """Every step in order, without a runner; the dict holds what the figure functions read (``figures.NEEDS``).

    Parameters
    ----------
    params : Params
        The study's parameters (validated here).
    data : StudyData, optional
        Spectra and catalogue (see the module docstring); default: the mock universe of ``n`` galaxies.
    est : estimator, optional
        The spectrum -> W1-W4 network; default: the reference network fitted on ``data``.
    n : int, default 3000
        Galaxies of the default mock universe.
    seed : int, Generator or None, default None
        Seeds the reference split (the held-out rows when ``data`` has no ``split``; pass the seed ``est`` was
        trained with), the attribution subsample, the bootstraps and permutations. None: fresh (recorded as
        ``outputs["seed"]``).
    progress : bool or None, default None
        Progress bars of training and integrated gradients.

    Returns
    -------
    dict
        ``data``, ``params``, ``seed``, ``bands``, ``truth``, ``predictions``, ``accuracy``, ``ig_<band>``,
        ``lines_<band>``, ``stack``, ``importance``, ``truth_overlap``, ``completeness``,
        ``randomization_bands``, ``randomization_<band>``, ``sanity`` and ``notes``.
    """
    params.validate()
    from ..._seeding import int_seed

    seed = int(int_seed(seed))
    data = in_frame(load_data(n, seed, progress=progress) if data is None else data, params)
    est = load_model(data, params, seed, progress=progress) if est is None else est
    bands, z = list(params.bands), _redshift(data)
    out: dict[str, Any] = {"data": data, "params": params, "seed": seed, "bands": bands,
                           "truth": truth_lines(params, data)}
    pred = out["predictions"] = predictions(est, data, params, seed)
    out["accuracy"] = accuracy_table(pred, data, output_names(est))
    rows, notes = pred["attribution_rows"], []
    with baseline_notes(notes, f"Attribution baseline ({params.ig_baseline} spectrum)"):
        attrs = {b: attribute_band(est, data, rows, b, params, seed, progress) for b in bands}
    zr = None if z is None else z[rows]
    for b in bands:
        out[f"ig_{b}"] = attrs[b]
        out[f"lines_{b}"] = band_lines(attrs[b].input_values(0), data.wavelength, zr, params, seed)
    out["stack"] = rest_frame_stack({b: attrs[b].input_values(0) for b in bands},
                                    np.asarray(data.spectra[rows], float), np.asarray(data.wavelength, float),
                                    zr, float(params.rest_step), float(params.rest_min_coverage))
    lines = {b: out[f"lines_{b}"] for b in bands}
    out["importance"] = importance_matrix(lines)
    out["truth_overlap"] = overlap_table(lines, out["truth"], params, seed)
    out["completeness"] = completeness_errors(attrs)
    tests = {b: randomization(est, data, pred["randomization_rows"], b, params, seed)
             for b in params.randomization_bands}
    tests = {b: t for b, t in tests.items() if t is not None}
    out.update({f"randomization_{b}": t for b, t in tests.items()}, randomization_bands=list(tests))
    out["sanity"] = pd.concat([completeness_table(attrs, float(params.completeness_rtol)),
                               randomization_table(tests)], ignore_index=True)
    out["notes"] = notes + findings(data, pred, out["accuracy"], out["truth_overlap"], out["sanity"], params,
                                    lines) + [n for n in [grid_note(data, est), randomization_note(est, params)] if n]
    return out
