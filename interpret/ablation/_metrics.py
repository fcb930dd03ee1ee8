"""Resolve metric names/callables (from :mod:`interpret.metrics`) into named scorers."""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import ValidationError

__all__ = ["resolve_metrics", "metric_name"]


def metric_name(metric: Any) -> str:
    """Name of a metric given by name or callable (``__name__``, else the class name)."""
    if isinstance(metric, str):
        return metric
    return getattr(metric, "__name__", type(metric).__name__)


def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


class _Scorer:
    """``scorer(y_true, y_pred) -> float`` with the keyword arguments the metric accepts."""

    def __init__(self, func: Callable[..., Any], kwargs: Mapping[str, Any]):
        self.func = func
        self.kwargs = {k: v for k, v in kwargs.items() if _accepts(func, k)}

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(self.func(y_true, y_pred, **self.kwargs))


def resolve_metrics(metrics: Any, func: str, metric_kwargs: Mapping[str, Any] | None = None, *,
                    redshift: bool = False) -> dict[str, _Scorer]:
    """Map ``metrics`` (one name/callable or a sequence of them) to ``{name: scorer}``.

    Names are keys of ``interpret.metrics.METRICS``; an unknown name raises a ValidationError listing
    the valid ones. ``redshift`` (the target is a redshift: photo-z ``dz`` residuals) and ``metric_kwargs``
    (e.g. ``{"threshold": 0.3}``; they win over ``redshift``) are passed to every metric whose signature
    accepts them.
    """
    from ..metrics import METRICS, get_metric

    metric_kwargs = {"redshift": bool(redshift), **(metric_kwargs or {})}
    items: Sequence[Any] = [metrics] if isinstance(metrics, str) or callable(metrics) else list(metrics or [])
    if not items:
        raise ValidationError(f"{func}(): 'metrics' is empty; give names from {sorted(METRICS)} or callables")
    out: dict[str, _Scorer] = {}
    for m in items:
        if isinstance(m, str) and m not in METRICS:
            raise ValidationError(f"{func}(): unknown metric {m!r}; valid values are "
                                  f"{', '.join(map(repr, METRICS))} (or pass a callable f(y_true, y_pred))")
        if not isinstance(m, str) and not callable(m):
            raise ValidationError(f"{func}(): metrics must be names or callables; got {m!r}")
        name = metric_name(m)
        if name in out:
            raise ValidationError(f"{func}(): metric {name!r} given twice")
        out[name] = _Scorer(get_metric(m), metric_kwargs)
    return out
