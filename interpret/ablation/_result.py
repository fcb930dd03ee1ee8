"""Result types of band ablation (:class:`AblationResult`) and band Shapley values (:class:`ShapleyResult`)."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from ..exceptions import ValidationError

__all__ = ["AblationResult", "ShapleyResult"]


@dataclasses.dataclass(frozen=True)
class AblationResult(Result):
    """Metrics of an estimator with subsets of its bands removed.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per band subset, the full set first. Columns: ``"label"`` (short name, e.g. ``"-u"``,
        ``"all"``, ``"u only"``), ``"kept"`` and ``"dropped"`` (tuples of band names), ``"n_kept"``, one
        column per metric and ``"delta_<metric>"`` = metric(subset) - metric(full set).
    bands : tuple of str
        All bands, in layout order.
    metrics : tuple of str
        Metric names, in column order.
    mode : str
        ``"mask"`` (the trained model with bands filled in: what the model *relies on*) or ``"retrain"``
        (a model refitted without the bands: what *information* the bands carry).
    strategy : str or None
        Fill strategy for ``mode="mask"`` (None for retraining).
    n_samples : int
        Galaxies scored (the held-out split, or all of them under cross-validation).
    details : dict
        Settings: subsets spec, seed, test_size / cv, batch_size, fill description, timings.
    """

    table: pd.DataFrame
    bands: tuple[str, ...]
    metrics: tuple[str, ...]
    mode: str = "mask"
    strategy: str | None = "mean"
    n_samples: int = 0
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The ablation table (a copy)."""
        return self.table.copy()

    @property
    def full(self) -> pd.Series:
        """The row of the full band set (the reference every ``delta_`` column is measured from)."""
        return self.table.iloc[0]

    def per_band(self, metric: str | None = None) -> pd.Series:
        """``delta_<metric>`` of the subsets that drop exactly one band, indexed by that band.

        Parameters
        ----------
        metric : str, optional
            Metric name (default: the first one).

        Returns
        -------
        pandas.Series
            Change of the metric when each band alone is removed (missing bands are absent).
        """
        metric = self._metric(metric)
        rows = self.table[self.table["dropped"].map(len) == 1]
        return pd.Series(rows[f"delta_{metric}"].to_numpy(), index=[d[0] for d in rows["dropped"]],
                         name=f"delta_{metric}")

    def _metric(self, metric: str | None) -> str:
        if metric is None:
            return self.metrics[0]
        if metric not in self.metrics:
            raise ValidationError(f"AblationResult: unknown metric {metric!r}; valid values are "
                                  f"{', '.join(map(repr, self.metrics))}")
        return metric


@dataclasses.dataclass(frozen=True)
class ShapleyResult(Result):
    """Shapley values of bands for one metric, with pairwise Shapley interaction indices.

    The players are the bands, the value of a coalition ``S`` is ``v(S)`` = the metric of the estimator
    when only the bands in ``S`` are kept (the others masked, or the model retrained on ``S``). Values
    satisfy efficiency (to float precision). **Sign convention: a positive value means the band helps**,
    for every metric: for error metrics (``greater_is_better=False``: rmse, sigma_nmad, ...) the game is
    the *decrease* of the error, ``values.sum() == v_none - v_all``; for scores (``r2``, and callables by
    default) it is the increase, ``values.sum() == v_all - v_none``. ``v_all``, ``v_none`` and
    ``subset_values`` are always the raw metric values.

    Attributes
    ----------
    values : pandas.Series
        Shapley value per band (metric units), indexed by band name.
    standard_errors : pandas.Series or None
        Monte-Carlo standard error per band when permutation sampling was used (None when exact).
    interactions : pandas.DataFrame
        Pairwise Shapley interaction indices (Grabisch & Roubens 1999), bands x bands, symmetric; the
        diagonal is NaN. Same sign convention as ``values``: positive means the pair helps more together
        than the sum of its parts (synergy in lowering an error); negative means redundancy.
    interaction_standard_errors : pandas.DataFrame or None
        Monte-Carlo standard errors of ``interactions`` when sampled.
    v_all, v_none : float
        Raw metric of the full band set and of the empty set.
    greater_is_better : bool
        False for error metrics (values are the decrease of the error), True for scores.
    metric : str
        Metric name.
    strategy : str or None
        Fill strategy (None for ``mode="retrain"``).
    exact : bool
        True when every one of the 2^B subsets was evaluated.
    n_permutations : int
        Sampled permutations (0 when exact).
    subset_values : pandas.Series
        Every evaluated ``v(S)`` (raw metric), indexed by ``S`` as the tuple of kept band names in band order,
        e.g. ``s.subset_values[("g", "r")]``; ``()`` is the empty set. :meth:`subset_value` takes any order.
    details : dict
        Settings (mode, seed, batch_size, n_samples, timings).
    """

    values: pd.Series
    interactions: pd.DataFrame
    v_all: float
    v_none: float
    metric: str
    strategy: str | None = "mean"
    exact: bool = True
    n_permutations: int = 0
    standard_errors: pd.Series | None = None
    interaction_standard_errors: pd.DataFrame | None = None
    subset_values: pd.Series | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    greater_is_better: bool = False

    @property
    def gain(self) -> float:
        """Improvement of the metric from no band to all bands (``v_none - v_all`` for error metrics)."""
        return float(self.v_all - self.v_none) if self.greater_is_better else float(self.v_none - self.v_all)

    @property
    def bands(self) -> tuple[str, ...]:
        """Band names, in layout order."""
        return tuple(str(b) for b in self.values.index)

    def subset_value(self, kept: Any) -> float:
        """``v(S)``, the raw metric with only the bands ``kept`` (any iterable of names, any order).

        Raises a ValidationError naming the unknown bands, or saying that ``S`` was not evaluated (with
        permutation sampling only the sampled subsets are known).
        """
        names = [kept] if isinstance(kept, str) else list(kept)
        unknown = [b for b in names if b not in self.bands]
        if unknown:
            raise ValidationError(f"subset_value(): unknown bands {unknown}; the bands are {list(self.bands)}")
        key = tuple(b for b in self.bands if b in set(names))
        if self.subset_values is None or key not in self.subset_values.index:
            raise ValidationError(f"subset_value(): v({key}) was not evaluated (exact=False samples subsets)")
        return float(self.subset_values[key])

    # Series-like access (the design contract describes the result as a Series of values by band)
    def __getitem__(self, band: str) -> float:
        return float(self.values[band])

    def __len__(self) -> int:
        return len(self.values)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.values.to_numpy(), dtype=dtype)

    @property
    def index(self) -> pd.Index:
        """Band names (the index of :attr:`values`)."""
        return self.values.index

    def sum(self) -> float:
        """Sum of the Shapley values, equal to :attr:`gain` (efficiency)."""
        return float(np.sum(self.values.to_numpy()))

    def to_series(self) -> pd.Series:
        """The Shapley values as a Series indexed by band (a copy)."""
        return self.values.copy()

    @property
    def efficiency_gap(self) -> float:
        """``values.sum() - gain``: zero up to float rounding."""
        return float(np.sum(self.values.to_numpy()) - self.gain)

    def to_frame(self) -> pd.DataFrame:
        """One row per band: ``value`` and ``standard_error`` (NaN when exact)."""
        se = (self.standard_errors.to_numpy() if self.standard_errors is not None
              else np.full(len(self.values), np.nan))
        return pd.DataFrame({"value": self.values.to_numpy(), "standard_error": se},
                            index=pd.Index(self.bands, name="band"))
