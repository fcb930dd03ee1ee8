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

The science lives in :mod:`.steps` (pure functions; ``steps.run_all`` runs them on your own arrays without a
runner), :mod:`.figures` (one function per figure, reading step outputs only) and :mod:`.params`.

Run on your own model and data (spectra on an observed-frame grid plus a catalogue with ``redshift``, and the
W1-W4 magnitudes for the accuracy table; without ``redshift``, or with ``spectra_frame = "rest"`` for spectra
already de-redshifted, the grid is taken as rest frame and the network reads no redshift)::

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
    # spectra_frame = "rest"         # spectra already in the rest frame (the catalogue redshift is set aside)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._data import fit_subset, note_unknown_split, study_data
from .._models import baseline_notes, study_model, user_model_inputs
from . import figures as _figures
from . import steps
from .figures import (  # noqa: F401  (re-exported: the names scripts imported from this module)
    SMOOTH_A,
    fig_accuracy,
    fig_lines_W1,
    fig_lines_W2,
    fig_lines_W3,
    fig_lines_W4,
    fig_overlap,
    fig_sanity,
    fig_summary,
)
from .params import IR_BANDS, Params
from .steps import (  # noqa: F401  (re-exported, as above)
    accuracy_table,
    attribute_band,
    average_precision,
    band_lines,
    completeness_table,
    held_out_rows,
    model_inputs,
    overlap_metrics,
    predictions,
    randomization_table,
    rank_auc,
    rest_frame_stack,
    takes_redshift,
)

__all__ = ["Params", "compute", "FIGURES", "CAPTIONS", "DATA_KEYS", "TITLE", "IR_BANDS"]

TITLE = "Which optical spectral lines predict the mid-infrared? Line importance of a spectrum -> W1-W4 network"

#: The [data] keys this study reads (any other is refused). With ``split`` every held-out number uses the
#: user's test rows, and the network the study fits itself never sees them. There is no ``target``: the
#: targets are the catalogue's W1..W4 columns, by those names.
DATA_KEYS = frozenset({"catalog", "spectra", "bands", "split", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})

CAPTIONS = _figures.CAPTIONS


def spectrum_model(ctx: Any, data: Any) -> Any:
    """The user's model from ``[model]``, else the reference spectrum -> W1-W4 network (cached)."""
    from ...exceptions import ConfigError

    if data.spectra is None:
        raise ConfigError("optical_lines_to_ir: needs spectra ([data] spectra = ...) or the mock universe")
    epochs = int(ctx.params.n_epochs) or None
    return study_model(ctx, data if ctx.config.get("model") else fit_subset(data), "ir_from_spectra",
                       n_epochs=epochs, num_threads=max(1, int(ctx.config["jobs"])))


def _table(ctx: Any, name: str, frame: pd.DataFrame) -> None:
    """A step output the figures read (``ctx.load``) that is also a report table."""
    ctx.store[name] = frame
    ctx.add_table(name, frame)


# --- compute -----------------------------------------------------------------------------------------------
def compute(ctx: Any) -> None:
    """Train (or load) the network, then accuracy, IG per band, line importance, truth overlap, sanity checks."""
    p = ctx.params
    data = steps.in_frame(study_data(ctx, 3000, images=False), p)
    note_unknown_split(ctx, data)
    bands = list(p.bands)
    ctx.store.update(data=data, bands=bands, truth=steps.truth_lines(p, data), params=p)
    with ctx.timed("model"):
        est = spectrum_model(ctx, data)
    base = {"seed": ctx.seed, "n": ctx.config["n"], "fast": p.fast, "n_epochs": p.n_epochs,
            "data": ctx.config.get("data"), "model": ctx.config.get("model"), "model_id": steps.model_id(est),
            "frame": p.spectra_frame}
    sample = {k: getattr(p, k) for k in ("n_attribution", "n_randomization")}
    fed = (f"spectra of shape {tuple(np.shape(data.spectra))}"
           + (" and redshifts (n, 1)" if steps.takes_redshift(est) else ""))
    with user_model_inputs(ctx, "optical_lines_to_ir", fed, "a model whose second input is the redshift needs "
                           "[model] input_names = [\"spectra\", \"redshift\"], and the spectra must be on the "
                           "wavelength grid the model was trained on"):
        pred = ctx.cached("predictions", {**base, **sample}, lambda: steps.predictions(est, data, p, ctx.seed))
    _table(ctx, "accuracy", steps.accuracy_table(pred, data, steps.output_names(est)))
    ig_key = {**base, **sample, **{k: getattr(p, k) for k in ("ig_steps", "ig_baseline")}}
    rows = pred["attribution_rows"]
    with baseline_notes(ctx.notes, f"Attribution baseline ({p.ig_baseline} spectrum)"):
        attrs = {b: ctx.cached(f"ig_{b}", {**ig_key, "band": b},
                               lambda b=b: steps.attribute_band(est, data, rows, b, p, ctx.seed, ctx.progress))
                 for b in bands}
    _lines(ctx, data, rows, attrs, bands, ig_key)
    _sanity(ctx, est, data, pred, attrs, base)
    ctx.notes.extend(steps.findings(data, pred, ctx.load("accuracy"), ctx.load("truth_overlap"),
                                    ctx.load("sanity"), p, {b: ctx.load(f"lines_{b}") for b in bands}))
    ctx.notes.extend(n for n in [steps.grid_note(data, est), steps.randomization_note(est, p)] if n)


def _lines(ctx: Any, data: Any, rows: np.ndarray, attrs: dict, bands: list[str], ig_key: dict) -> None:
    """Line importance per band, the rest-frame stack, the line x band matrix and the truth overlap."""
    p, z = ctx.params, steps._redshift(data)
    zr = None if z is None else z[rows]
    li_key = {**ig_key, **{k: getattr(p, k) for k in ("n_boot", "ci", "continuum_width", "min_coverage")}}
    for b in bands:
        table = ctx.cached(f"lines_{b}", {**li_key, "band": b},
                           lambda b=b: steps.band_lines(attrs[b].input_values(0), data.wavelength, zr, p, ctx.seed))
        ctx.add_table(f"lines_{b}", table.reset_index())
    ctx.cached("stack", {**ig_key, "bands": bands, "step": p.rest_step, "cover": p.rest_min_coverage},
               lambda: steps.rest_frame_stack({b: attrs[b].input_values(0) for b in bands},
                                              np.asarray(data.spectra[rows], float),
                                              np.asarray(data.wavelength, float), zr, float(p.rest_step),
                                              float(p.rest_min_coverage)))
    tables = {b: ctx.load(f"lines_{b}") for b in bands}
    ctx.store["importance"] = steps.importance_matrix(tables)
    _table(ctx, "truth_overlap", steps.overlap_table(tables, ctx.load("truth"), p, ctx.seed))


def _sanity(ctx: Any, est: Any, data: Any, pred: dict, attrs: dict, base: dict) -> None:
    """IG completeness per band and the cascading model-randomisation test (cached per band)."""
    p, rows = ctx.params, pred["randomization_rows"]
    tests = {}
    for b in p.randomization_bands:
        if not steps.can_randomize(est):
            break
        key = {**base, "band": b, "n_galaxies": len(rows), "steps": p.randomization_steps,
               "baseline": p.ig_baseline}
        tests[b] = ctx.cached(f"randomization_{b}", key,
                              lambda b=b: steps.randomization(est, data, rows, b, p, ctx.seed))
    ctx.store["randomization_bands"] = list(tests)
    ctx.store["completeness"] = steps.completeness_errors(attrs)
    _table(ctx, "sanity", pd.concat([steps.completeness_table(attrs, float(p.completeness_rtol)),
                                     steps.randomization_table(tests)], ignore_index=True))


FIGURES = list(_figures.FIGURES.values())
