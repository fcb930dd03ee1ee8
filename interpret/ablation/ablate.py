"""``band_ablation``: how much worse an estimator gets without each band (masked, or retrained without it)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._engine import DEFAULT_METRICS, REDSHIFT_METRICS, prepare
from ._result import AblationResult
from .options import Batching, Fill, RetrainSpec, engine_kwargs, legacy_keywords
from .strategies import FillStrategy
from .subsets import resolve_subsets, subset_label

__all__ = ["band_ablation", "DEFAULT_METRICS", "REDSHIFT_METRICS"]

logger = logging.getLogger(__name__)



@legacy_keywords
def band_ablation(
    estimator: Any,
    x: Any,
    y: Any,
    *,
    bands: Any = None,
    strategy: str | FillStrategy | Fill = "mean",
    subsets: str | Sequence[Any] = "leave_one_out",
    metrics: str | Callable[..., float] | Sequence[str | Callable[..., float]] | None = None,
    redshift: bool = False,
    metric_kwargs: Mapping[str, Any] | None = None,
    retrain: RetrainSpec | None = None,
    band_layout: Any = None,
    output: int | str | None = None,
    batching: Batching | None = None,
    n_jobs: int | None = None,
    seed: int | np.random.Generator | None = None,
    progress: bool | None = None,
) -> AblationResult:
    """Score an estimator on subsets of its bands, by masking the others or by retraining without them.

    Masking (the default) asks **what the trained model relies on**: the removed bands are filled in
    (see :mod:`interpret.ablation.strategies` for what each fill means) and the same model is scored.
    Retraining (``retrain=RetrainSpec(fit)``) asks **what information the bands carry**: a model is refitted
    on the kept bands only and scored on held-out galaxies. A band the model relies on may still carry little
    unique information (another band can replace it after retraining); show both with
    :func:`interpret.ablation.compare_modes` / :func:`interpret.plots.ablation.plot_ablation_comparison`.

    Parameters
    ----------
    estimator : Estimator, torch.nn.Module, fitted scikit-learn model, callable, or None
        The trained model (wrapped with :func:`interpret.load_estimator`); None with ``retrain=``.
    x : array, DataFrame, or tuple/list/dict of arrays
        Model inputs, one row per galaxy: images ``(n, B, H, W)``, a catalogue ``(n, B)`` or DataFrame with
        band-named columns, or several inputs (e.g. ``(images, magnitudes)``).
    y : array-like, shape (n,) or (n, k)
        True values of the target.
    bands : BandSet or sequence of str
        Band names in band-axis order (the DataFrame columns to ablate for a DataFrame ``x``).
    strategy : str, FillStrategy or Fill, default "mean"
        Fill of removed bands: one of ``interpret.ablation.STRATEGIES`` ("zero", "mean", "median", "noise",
        "inpaint"), an instance (e.g. ``Noise(sigma={"u": 0.3})``), or ``Fill(strategy, reference=x_train)``
        to take the fill statistics from other galaxies (e.g. the training set; default ``x``).
    subsets : str or list, default "leave_one_out"
        "leave_one_out", "single", "adjacent_pairs", "all", or a list of kept-band lists /
        ``{"drop": [...]}`` dicts. The full set is always the first row.
    metrics : name, callable or sequence, optional
        Names from ``interpret.metrics.METRICS`` or callables ``f(y_true, y_pred) -> float``. Default
        ``DEFAULT_METRICS`` ("rmse", "bias", "sigma_nmad"), or ``REDSHIFT_METRICS`` (those plus
        "outlier_fraction") when ``redshift=True``.
    redshift : bool, default False
        Declare the target a redshift: every metric accepting ``redshift`` scores the photo-z residual
        ``dz = (z_pred - z_true) / (1 + z_true)``. Otherwise residuals are plain ``y_pred - y_true``.
    metric_kwargs : dict, optional
        Passed to every metric accepting them, e.g. ``{"threshold": 0.3}`` for ``outlier_fraction``.
    retrain : RetrainSpec, optional
        ``RetrainSpec(fit, cv=None, test_size=None)``: refit a model on every subset instead of masking.
    band_layout : int, sequence of int, BandLayout or dict, optional
        Where the bands are: the band axis (default 1), one axis per input (None: the input has no band
        axis), or ``{band: [(input, axis, position), ...]}`` when bands span inputs irregularly.
    output : int or str, optional
        Output column to score when the estimator returns several.
    batching : Batching, optional
        ``Batching(batch_size=1024, max_bytes=256 MiB)``: rows per forward pass and the memory bound of one
        stacked (multi-subset) input.
    n_jobs : int, optional
        Workers for the subset/row-block loop (via :mod:`interpret.parallel`).
    seed : int, Generator or None
        Seeds the noise fill, inpainting subsamples, the train/held-out split and refits.
    progress : bool, optional
        None: a bar on a terminal when the work is long; False silences it.

    Old keywords (until 0.4, with a FutureWarning): ``mode``, ``fit``, ``test_size``, ``cv`` (use
    ``retrain=``), ``reference`` (``Fill``), ``band_axis`` (``band_layout``), ``batch_size``, ``max_bytes``
    (``batching``).

    Returns
    -------
    AblationResult
        ``.table`` with columns label, kept, dropped, n_kept, each metric and ``delta_<metric>``.

    References
    ----------
    Engel et al. (2025), "Mantis Shrimp", arXiv:2501.09112; Zhang et al. (2025), arXiv:2509.23901.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3))
    >>> y = 1 + x[:, 0] + 0.1 * x[:, 1]
    >>> t = band_ablation(lambda a: 1 + a[:, 0] + 0.1 * a[:, 1], x, y, bands=["g", "r", "i"],
    ...                   metrics="rmse", progress=False).table
    >>> t[["label", "rmse"]].round(2).values.tolist()
    [['all', 0.0], ['-g', 1.01], ['-r', 0.1], ['-i', 0.0]]
    """
    func = "band_ablation"
    t0 = time.perf_counter()
    opts = engine_kwargs(strategy, retrain, band_layout, batching, func)
    probe = prepare(func, estimator, x, y, bands=bands, metrics=metrics, metric_kwargs=metric_kwargs,
                    output=output, n_jobs=n_jobs, progress=progress, seed=seed, redshift=redshift, **opts)
    names = probe.layout.bands
    masks = resolve_subsets(subsets, names, func=func)
    values = probe.score(masks)
    table = _table(masks, names, list(probe.scorers), values)
    details = {"subsets": subsets if isinstance(subsets, str) else "explicit", "batch_size": opts["batch_size"],
               "seconds": time.perf_counter() - t0, "seed": seed if isinstance(seed, int) else None,
               "fill": probe.strategy.description if probe.strategy else None,
               "test_size": opts["test_size"], "cv": opts["cv"], "n_galaxies": probe.inputs.n}
    logger.info("band_ablation: %d subsets x %d galaxies in %.2f s", len(masks), probe.inputs.n,
                details["seconds"])
    return AblationResult(table=table, bands=names, metrics=tuple(probe.scorers), mode=opts["mode"],
                          strategy=probe.strategy.name if probe.strategy else None, n_samples=probe.n_scored,
                          details=details)


def _table(masks: np.ndarray, names: tuple[str, ...], metric_names: list[str], values: np.ndarray
           ) -> pd.DataFrame:
    rows = {
        "label": [subset_label(m, names) for m in masks],
        "kept": [tuple(b for b, k in zip(names, m) if k) for m in masks],
        "dropped": [tuple(b for b, k in zip(names, m) if not k) for m in masks],
        "n_kept": masks.sum(axis=1).astype(int),
    }
    for j, name in enumerate(metric_names):
        rows[name] = values[:, j]
    for j, name in enumerate(metric_names):
        rows[f"delta_{name}"] = values[:, j] - values[0, j]
    return pd.DataFrame(rows)
