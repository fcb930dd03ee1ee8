"""How binned PID atoms move with the number of bins (they do: plug-in synergy grows with the bins)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validation import check_int
from ..exceptions import ValidationError
from ..parallel import parallel_map
from ._result import PIDResult
from .decomposition import decompose

__all__ = ["BinningSensitivity", "binning_sensitivity"]


@dataclasses.dataclass(frozen=True)
class BinningSensitivity(Result):
    """Atoms of one decomposition repeated at several numbers of bins.

    Attributes
    ----------
    measure : str
    sources : tuple of str
    table : pandas.DataFrame
        One row per number of bins (column ``bins``); one column per atom label and
        ``mutual_information``; with bootstrap CIs also ``"<atom> ci_low"`` / ``"<atom> ci_high"``.
    details : dict
        Options of the runs (strategy, bias correction, ...).
    """

    measure: str
    sources: tuple[str, ...]
    table: pd.DataFrame
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def atoms(self) -> list[str]:
        """Atom labels, lattice order."""
        return [c for c in self.table.columns if c not in ("bins", "mutual_information") and " ci_" not in c]

    def to_frame(self) -> pd.DataFrame:
        """The table, indexed by the number of bins."""
        return self.table.set_index("bins")


class _Run:
    """Picklable: one decomposition at ``bins``."""

    def __init__(self, target: Any, sources: Mapping[str, Any], kwargs: dict[str, Any]):
        self.target, self.sources, self.kwargs = target, sources, kwargs

    def __call__(self, bins: int) -> PIDResult:
        return decompose(self.target, self.sources, bins=bins, **self.kwargs)


def _row(bins: int, r: PIDResult) -> dict[str, float]:
    row: dict[str, float] = {"bins": bins, **r.atoms, "mutual_information": r.mutual_information}
    for label, (lo, hi) in (r.ci or {}).items():
        row[f"{label} ci_low"], row[f"{label} ci_high"] = lo, hi
    return row


def binning_sensitivity(
    target: Any,
    sources: Mapping[str, Any],
    *,
    bins: Sequence[int] = (4, 6, 8, 12, 16),
    measure: str = "broja",
    n_jobs: int | None = None,
    progress: bool | None = None,
    **kwargs: Any,
) -> BinningSensitivity:
    """Run :func:`interpret.pid.decompose` at each number of bins (same for every variable).

    Parameters
    ----------
    target, sources
        As :func:`interpret.pid.decompose`.
    bins : sequence of int, default (4, 6, 8, 12, 16)
        Numbers of bins to try (each >= 2).
    measure : str, default "broja"
    n_jobs, progress
        Parallel map over the bin numbers (:func:`interpret.parallel.parallel_map`).
    **kwargs
        Passed to :func:`~interpret.pid.decompose` (``strategy``, ``bias_correction``, ``n_boot``, ``seed``...).

    Returns
    -------
    BinningSensitivity
        Plot it with :func:`interpret.plots.pid.plot_binning_sensitivity`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0); a, b = rng.normal(size=(2, 3000)); t = a + b + rng.normal(size=3000)
    >>> s = binning_sensitivity(t, {"a": a, "b": b}, bins=(2, 4), measure="mmi")
    >>> s.table["bins"].tolist()
    [2, 4]
    """
    bins = [check_int(b, "bins", "binning_sensitivity", minimum=2) for b in bins]
    if not bins:
        raise ValidationError("binning_sensitivity(): 'bins' is empty; give at least one number of bins")
    if "bins" in kwargs:
        raise ValidationError("binning_sensitivity(): pass the numbers of bins as 'bins', a sequence of int")
    results = parallel_map(_Run(np.asarray(target), dict(sources), {"measure": measure, **kwargs}), bins,
                           n_jobs=n_jobs, progress=progress, desc="binning sensitivity")
    table = pd.DataFrame([_row(b, r) for b, r in zip(bins, results)])
    details = {k: v for k, v in kwargs.items() if isinstance(v, (str, int, float, bool, type(None)))}
    return BinningSensitivity(measure=results[0].measure, sources=results[0].sources, table=table,
                              details=details)
