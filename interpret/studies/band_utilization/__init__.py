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

Science lives in :mod:`.steps` (pure functions; ``steps.run_all`` runs the study on your own arrays without a
runner), :mod:`.figures` (one function per figure) and :mod:`.params`.
"""
from __future__ import annotations

from typing import Any

from .._data import fit_subset, note_unknown_split, study_data
from .._models import baseline_notes, study_model, user_model_inputs
from ..photoz.steps import sentinel_note
from . import steps
from .figures import CAPTIONS, FIGURES, LABELS
from .params import METRICS, Params
from .steps import (
    ablation_mask,
    ablation_retrain,
    all_subset_predictions,
    attribution_table,
    group_names,
    metrics_table,
    predictions,
    shapley_from_predictions,
    subset_metrics,
    subset_table,
    subsets,
)

__all__ = ["Params", "compute", "photoz_model", "FIGURES", "CAPTIONS", "DATA_KEYS", "TITLE", "METRICS", "LABELS",
           "steps", "predictions", "subset_metrics", "metrics_table", "subsets", "group_names", "ablation_mask",
           "ablation_retrain", "subset_table", "all_subset_predictions", "shapley_from_predictions",
           "attribution_table"]

TITLE = ("Band utilization of a photo-z network: which of u g r i z W1-W4 does it use, and what is each band "
         "worth?")
#: The [data] keys this study reads (any other is refused). With ``split`` every held-out number uses the
#: user's test rows, and the models the study fits itself never see them; ``target`` names the catalogue's
#: spectroscopic-redshift column when it is not ``redshift``.
DATA_KEYS = frozenset({"catalog", "images", "target", "bands", "split", "fluxes", "flux_unit", "extinction",
                       "hdu", "key", "name"})

# the figure functions under their names of the single-module layout
fig_predictions, fig_ablation, fig_subset_metrics = FIGURES[:3]
fig_shapley, fig_interactions, fig_attribution = FIGURES[3:]


def photoz_model(ctx: Any, data: Any) -> Any:
    """The user's model from ``[model]``, else the reference two-input photo-z network (cached)."""
    epochs = int(ctx.params.n_epochs) or None
    return study_model(ctx, steps.trainable(fit_subset(data)) if not ctx.config.get("model") else data,
                       "photoz", n_epochs=epochs, num_threads=max(1, int(ctx.config["jobs"])))


def compute(ctx: Any) -> None:
    """Train (or load) the network, then masking + retrain ablation, exact Shapley and attribution (cached)."""
    p = ctx.params
    data = study_data(ctx, 3000, target="redshift", spectra=False)
    bands = steps.band_names(data)
    ctx.notes.extend(n for n in [sentinel_note(data.catalog, bands)] if n)   # 99 / -99 / 9999 flags as magnitudes
    ctx.store.update(data=data, bands=bands, params=p)
    split = steps.held_out_split(data, ctx.seed)
    note_unknown_split(ctx, data)
    base = {"seed": ctx.seed, "n": ctx.config["n"], "fast": p.fast, "n_epochs": p.n_epochs,
            "data": ctx.config.get("data"), "model": ctx.config.get("model"), "bands": bands}
    with ctx.timed("model"):
        est = photoz_model(ctx, data)
    ctx.store["estimator"] = est
    z = data.catalog["redshift"].to_numpy(float)
    sample = {k: getattr(p, k) for k in ("n_shapley", "n_attribution", "batch_size")}
    fed = f"cutouts of shape {tuple(data.images.shape)} and magnitudes (n, {len(bands)}) of bands {bands}"
    with user_model_inputs(ctx, "band_utilization", fed, "[data] bands = [...] chooses and orders the cutout "
                           "channels and magnitude columns to match your model; a model taking (images, "
                           "magnitudes) needs [model] input_names = [\"image\", \"magnitudes\"]"):
        pred = ctx.cached("predictions", {**base, **sample},
                          lambda: steps.predictions(est, data, bands, split, p, seed=ctx.seed))
    ctx.store["metrics"] = steps.metrics_table(pred["z_phot"], z[pred["test"]], p)
    ctx.add_table("metrics", ctx.store["metrics"])
    ctx.store["prediction_report"] = steps.prediction_report(z[pred["test"]], pred["z_phot"],
                                                             threshold=p.outlier_threshold)
    _ablation_steps(ctx, est, data, bands, split, base)
    sub = ctx.cached("all_subsets", {**base, **sample, "strategy": p.shapley_strategy},
                     lambda: steps.all_subset_predictions(est, data, bands, split, pred["shapley_rows"], p,
                                                          seed=ctx.seed, progress=ctx.progress))
    shapley = {}
    for metric in p.shapley_metrics:
        key = {**base, **sample, "strategy": p.shapley_strategy, "metric": metric, "n_boot": p.n_boot,
               "threshold": p.outlier_threshold}
        shapley[metric] = ctx.cached(f"shapley_{metric}", key, lambda m=metric: steps.shapley_from_predictions(
            sub, bands, m, p, seed=ctx.seed))
    ctx.store["shapley"] = shapley
    ctx.add_table("shapley", steps.shapley_table(shapley))
    ctx.add_table("interactions", shapley[p.shapley_metrics[0]].interactions.reset_index())
    with baseline_notes(ctx.notes, "Attribution baseline (training-mean magnitudes, zero-flux images)"):
        attr = ctx.cached("attribution", {**base, **sample, "ig_steps": p.ig_steps},
                          lambda: steps.attribution_table(est, data, bands, split, pred["attribution_rows"], p,
                                                          progress=ctx.progress))
    ctx.add_table("attribution", attr)
    ctx.notes.extend(steps.findings(ctx.store))


def _ablation_steps(ctx: Any, est: Any, data: Any, bands: list[str], split: dict, base: dict) -> None:
    p = ctx.params
    key = {**base, "groups": p.groups, "threshold": p.outlier_threshold}
    masking = {}
    for strategy in p.strategies:
        masking[strategy] = ctx.cached(
            f"mask_{strategy}", {**key, "strategy": strategy},
            lambda s=strategy: steps.ablation_mask(est, data, bands, split, p, strategy=s, seed=ctx.seed,
                                                   progress=ctx.progress))
    retrain = ctx.cached(
        "retrain", {**key, "model": p.retrain_model, "test_size": p.retrain_test_size,
                    "epochs": p.retrain_epochs, "max_iter": p.hgb_max_iter},
        lambda: steps.ablation_retrain(data, bands, p, seed=ctx.seed, n_jobs=ctx.jobs, progress=ctx.progress,
                                       num_threads=max(1, int(ctx.config["jobs"])),
                                       cache_dir=ctx.cache_dir / "refits"))
    results = {f"mask_{s}": r for s, r in masking.items()} | {"retrain": retrain}
    ctx.store.update(masking=masking, modes=list(results),
                     subset_metrics=steps.subset_table(results, steps.group_names(bands, p.groups)),
                     compare={s: steps.compare_table(masking[s], retrain) for s in p.strategies})
    ctx.add_table("subset_metrics", ctx.store["subset_metrics"])
    for strategy in p.strategies:
        ctx.add_table(f"compare_{strategy}", ctx.store["compare"][strategy])
