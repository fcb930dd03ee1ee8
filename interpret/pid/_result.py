"""The result type shared by every PID route (binned, kNN, neural)."""
from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from .._results import Result

__all__ = ["PIDResult", "atom_label"]


def atom_label(node: tuple[tuple[int, ...], ...], names: tuple[str, ...]) -> str:
    """Williams–Beer lattice node -> label, e.g. ``((0,), (1,))`` -> ``"{phot}{morph}"``.

    The label is canonical: indices within a part are sorted, and parts are ordered by size and then by
    their indices, so every route (binned, kNN, neural) names the same node identically.

    >>> atom_label(((2, 0), (1,)), ("a", "b", "c"))
    '{b}{a,c}'
    """
    parts = sorted((tuple(sorted(p)) for p in node), key=lambda p: (len(p), p))
    return "".join("{" + ",".join(names[i] for i in part) + "}" for part in parts)


@dataclasses.dataclass(frozen=True)
class PIDResult(Result):
    """A partial-information decomposition of I(target; sources), in bits.

    Attributes
    ----------
    measure : str
        Redundancy measure (a key of ``interpret.pid.MEASURES``, or ``"mmi"`` for the kNN/neural routes).
    sources : tuple of str
        Source names in lattice order.
    atoms : dict of str -> float
        Every node of the redundancy lattice, labelled in curly-brace notation: for two sources
        ``"{a}{b}"`` (redundancy), ``"{a}"`` and ``"{b}"`` (unique), ``"{a,b}"`` (synergy).
    mutual_information : float
        I(target; all sources jointly); the atoms sum to it.
    estimator : str
        ``"binned"``, ``"knn"`` or ``"neural"``.
    n_samples : int
        Number of samples used.
    ci : dict of str -> (float, float), optional
        Bootstrap confidence interval of each atom (and ``"mutual_information"``), when requested.
    ci_level : float, optional
        Confidence level of ``ci``.
    details : dict
        What was done: bins and binning per variable, reductions of multi-dimensional sources,
        bias correction applied, solver diagnostics, warnings raised.
    uncertified_resamples : dict of str -> int
        For each resampling done (``"bootstrap"``, ``"shuffle"``), how many resamples the measure's solver did
        not certify (e.g. a BROJA gap above its tolerance after the conic fallback); empty when none was run.
        Shown by ``to_frame()`` (column ``uncertified_resamples``, and ``frame.attrs``).
    """

    measure: str
    sources: tuple[str, ...]
    atoms: dict[str, float]
    mutual_information: float
    estimator: str = "binned"
    n_samples: int = 0
    ci: dict[str, tuple[float, float]] | None = None
    ci_level: float | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    uncertified_resamples: dict[str, int] = dataclasses.field(default_factory=dict)

    # --- named atoms --------------------------------------------------------------------------------
    @property
    def redundancy(self) -> float:
        """Information shared by all sources (the lattice's bottom node)."""
        return self.atoms["".join("{" + s + "}" for s in self.sources)]

    @property
    def synergy(self) -> float:
        """Information available only from all sources jointly (the lattice's top node)."""
        return self.atoms["{" + ",".join(self.sources) + "}"]

    @property
    def unique(self) -> dict[str, float]:
        """Information carried by each source alone."""
        return {s: self.atoms["{" + s + "}"] for s in self.sources}

    def to_frame(self) -> pd.DataFrame:
        """One row per atom: ``atom``, ``bits``, ``fraction`` of the total MI, and CI bounds if present."""
        rows = []
        for label, bits in self.atoms.items():
            row = {"atom": label, "bits": bits,
                   "fraction": bits / self.mutual_information if self.mutual_information else float("nan")}
            if self.ci and label in self.ci:
                row["ci_low"], row["ci_high"] = self.ci[label]
            if self.uncertified_resamples:
                row["uncertified_resamples"] = sum(self.uncertified_resamples.values())
            rows.append(row)
        frame = pd.DataFrame(rows).set_index("atom")
        frame.attrs["uncertified_resamples"] = dict(self.uncertified_resamples)
        return frame
