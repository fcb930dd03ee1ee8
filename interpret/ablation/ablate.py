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
from .masking import DEFAULT_MAX_BYTES
from .strategies import FillStrategy
from .subsets import resolve_subsets, subset_label

__all__ = ["band_ablation", "DEFAULT_METRICS", "REDSHIFT_METRICS"]

logger = logging.getLogger(__name__)



def band_ablation(
    estimator: Any,
    x: Any,
    y: Any,
    *,
    bands: Any = None,
    strategy: str | FillStrategy = "mean",
    subsets: str | Sequence[Any] = "leave_one_out",
    metrics: str | Callable[..., float] | Sequence[str | Callable[..., float]] | None = None,
    redshift: bool = False,
    metric_kwargs: Mapping[str, Any] | None = None,
    mode: str = "mask",
    fit: Callable[..., Any] | None = None,
    test_size: float | None = None,
    cv: int | None = None,
    band_axis: int | Sequence[int | None] | None = None,
    band_layout: Any = None,
    reference: Any = None,
    output: int | str | None = None,
    batch_size: int = 1024,
    max_bytes: int = DEFAULT_MAX_BYTES,
    n_jobs: int | None = None,
    seed: int | np.random.Generator | None = None,
    progress: bool | None = None,
) -> AblationResult:
    """Score an estimator on subsets of its bands, by masking the others or by retraining without them.

    Masking (``mode="mask"``) asks **what the trained model relies on**: the removed bands are filled in
    (see :mod:`interpret.ablation.strategies` for what each fill means) and the same model is scored.
    Retraining (``mode="retrain"``) asks **what information the bands carry**: a model is refitted on the
    kept bands only and scored on held-out galaxies. A band the model relies on may still carry little
    unique information (another band can replace it after retraining); show both with
    :func:`interpret.ablation.compare_modes` / :func:`interpret.plots.ablation.plot_ablation_comparison`.

    Parameters
    ----------
    estimator : Estimator, torch.nn.Module, fitted scikit-learn model, callable, or None
        The trained model (wrapped with :func:`interpret.load_estimator`); None with ``mode="retrain"``.
    x : array, DataFrame, or tuple/list/dict of arrays
        Model inputs, one row per galaxy: images ``(n, B, H, W)``, a catalogue ``(n, B)`` or DataFrame with
        band-named columns, or several inputs (e.g. ``(images, magnitudes)``).
    y : array-like, shape (n,) or (n, k)
        True values of the target.
    bands : BandSet or sequence of str
        Band names in band-axis order (the DataFrame columns to ablate for a DataFrame ``x``).
    strategy : str or FillStrategy, default "mean"
        Fill for ``mode="mask"``: one of ``interpret.ablation.STRATEGIES`` ("zero", "mean", "median",
        "noise", "inpaint") or an instance (e.g. ``Noise(sigma={"u": 0.3})``).
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
    mode : {"mask", "retrain"}, default "mask"
    fit : callable, optional
        ``fit(x_subset, y_train) -> model with predict``, for ``mode="retrain"``; ``x_subset`` is ``x``
        without the dropped bands (same container type). May accept ``seed=`` (an int).
    test_size : float, optional
        Held-out fraction for ``mode="retrain"`` (default 0.25); ignored when ``cv`` is given.
    cv : int, optional
        Number of cross-validation folds for ``mode="retrain"`` (out-of-fold predictions are pooled).
    band_axis : int or sequence, optional
        Band axis of each input (default 1).
    band_layout : BandLayout or dict, optional
        ``{band: [(input, axis, position), ...]}`` when bands span inputs irregularly.
    reference : same type as x, optional
        Data the fill statistics are computed from (e.g. the training set); default ``x``.
    output : int or str, optional
        Output column to score when the estimator returns several.
    batch_size : int, default 1024
        Rows per forward pass. Several masked subsets share each forward pass.
    max_bytes : int, default 256 MiB
        Memory bound of one stacked (multi-subset) input.
    n_jobs : int, optional
        Workers for the subset/row-block loop (via :mod:`interpret.parallel`).
    seed : int, Generator or None
        Seeds the noise fill, inpainting subsamples, the train/held-out split and refits.
    progress : bool, optional
        Progress bar (None: on unless CI is set).

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
    probe = prepare(func, estimator, x, y, bands=bands, mode=mode, strategy=strategy, metrics=metrics,
                    metric_kwargs=metric_kwargs, fit=fit, test_size=test_size, cv=cv, band_axis=band_axis,
                    band_layout=band_layout, reference=reference, output=output, batch_size=batch_size,
                    max_bytes=max_bytes, n_jobs=n_jobs, progress=progress, seed=seed, redshift=redshift)
    names = probe.layout.bands
    masks = resolve_subsets(subsets, names, func=func)
    values = probe.score(masks)
    table = _table(masks, names, list(probe.scorers), values)
    details = {"subsets": subsets if isinstance(subsets, str) else "explicit", "batch_size": batch_size,
               "seconds": time.perf_counter() - t0, "seed": seed if isinstance(seed, int) else None,
               "fill": probe.strategy.description if probe.strategy else None,
               "test_size": test_size, "cv": cv, "n_galaxies": probe.inputs.n}
    logger.info("band_ablation: %d subsets x %d galaxies in %.2f s", len(masks), probe.inputs.n,
                details["seconds"])
    return AblationResult(table=table, bands=names, metrics=tuple(probe.scorers), mode=mode,
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
