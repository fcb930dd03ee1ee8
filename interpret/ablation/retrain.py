"""Retrain-mode ablation: refit a model on each band subset and score it on held-out galaxies.

Masking asks what a *trained* model relies on; retraining asks what *information* the bands carry (a model
refitted without a band may recover most of what it gave from the others). Each subset is fitted by
``fit(x_subset, y_train)`` - the inputs with the dropped bands' slots deleted, in the same container as
``x`` - and must return anything with ``predict``. Splits are seeded: one train/held-out split
(``test_size``) or ``cv``-fold cross-validation, whose out-of-fold predictions are pooled so every galaxy is
scored once. Fits run through :func:`interpret.parallel.seeded_map`; if ``fit`` accepts a ``seed``
keyword it receives an int derived from ``seed`` and the subset, so results are reproducible.

The empty subset (no band kept) is scored as the constant predictor ``mean(y_train)``.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import as_generator, check_fraction, check_int
from ..exceptions import ValidationError
from ..parallel import seeded_map
from .band_layout import BandLayout, ModelInputs

__all__ = ["split_indices", "retrained_predictions"]


def split_indices(n: int, *, test_size: float | None, cv: int | None, seed: Any, func: str
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded (train, held-out) index pairs: one split of ``test_size``, or ``cv`` folds."""
    rng = as_generator(seed)      # the root stream; per-subset fits use its spawned children
    perm = rng.permutation(n)
    if cv is not None:
        cv = check_int(cv, "cv", func, minimum=2, maximum=n)
        folds = np.array_split(perm, cv)
        return [(np.sort(np.concatenate(folds[:k] + folds[k + 1:])), np.sort(folds[k])) for k in range(cv)]
    test_size = check_fraction(0.25 if test_size is None else test_size, "test_size", func)
    n_test = int(round(test_size * n))
    if n_test < 1 or n - n_test < 2:
        raise ValidationError(f"{func}(): test_size={test_size} leaves {n - n_test} training and {n_test} "
                              f"held-out rows out of {n}; use more galaxies or another test_size")
    return [(np.sort(perm[n_test:]), np.sort(perm[:n_test]))]


def _takes_seed(fit: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fit).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class _Refit:
    """Picklable task: fit one subset on one split and predict its held-out rows."""

    def __init__(self, fit: Callable[..., Any], inputs: ModelInputs, y: np.ndarray, layout: BandLayout,
                 splits: list[tuple[np.ndarray, np.ndarray]], func: str):
        self.fit, self.inputs, self.y, self.layout = fit, inputs, y, layout
        self.splits, self.func, self.with_seed = splits, func, _takes_seed(fit)

    def __call__(self, item: tuple[np.ndarray, int], rng: np.random.Generator) -> np.ndarray:
        keep, k = item
        train, test = self.splits[k]
        if not keep.any():
            return np.broadcast_to(self.y[train].mean(axis=0), (len(test), *self.y.shape[1:])).copy()
        x_train = self.layout.select(self.inputs.take(train), keep)
        x_test = self.layout.select(self.inputs.take(test), keep)
        kwargs = {"seed": int(rng.integers(2**31 - 1))} if self.with_seed else {}
        model = self.fit(x_train, self.y[train], **kwargs)
        if not hasattr(model, "predict"):
            raise ValidationError(f"{self.func}(): 'fit' returned {type(model).__name__}, which has no "
                                  f"predict(); return the fitted model")
        pred = np.asarray(model.predict(x_test))
        if pred.ndim == 2 and pred.shape[1] == 1 and self.y.ndim == 1:
            pred = pred[:, 0]
        if pred.shape[0] != len(test):
            raise ValidationError(f"{self.func}(): the refitted model returned {pred.shape[0]} predictions "
                                  f"for {len(test)} held-out rows")
        return pred


def retrained_predictions(fit: Callable[..., Any], inputs: ModelInputs, y: np.ndarray, layout: BandLayout,
                          masks: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]], *, seed: Any,
                          n_jobs: int | None, progress: bool | None, func: str
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Held-out predictions ``(m, n_scored, ...)`` for every keep-mask, and the scored row indices."""
    if not callable(fit):
        raise ValidationError(f"{func}(): mode='retrain' needs 'fit', a callable fit(x_subset, y) -> model "
                              f"with predict(); got {fit!r}")
    task = _Refit(fit, inputs, y, layout, splits, func)
    items = [(keep, k) for keep in masks for k in range(len(splits))]
    preds = seeded_map(task, items, seed=seed, n_jobs=n_jobs, progress=progress, desc="retrain subsets")
    scored = np.concatenate([test for _, test in splits])
    order = np.argsort(scored)
    n_splits = len(splits)
    out = [np.concatenate(preds[j * n_splits:(j + 1) * n_splits], axis=0)[order] for j in range(len(masks))]
    return np.stack(out), scored[order]
