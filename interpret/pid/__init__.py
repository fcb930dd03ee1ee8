"""Partial-information decomposition (bits): binned (dit-backed + our BROJA), kNN and per-galaxy neural routes."""
from .._lazy import lazy_exports
from ._result import PIDResult, atom_label

_PARTS = ("decomposition", "options", "measures", "broja", "discretize", "estimation", "knn", "neural", "compare",
          "sensitivity", "pointwise")
__all__ = ["PIDResult", "atom_label"]
__getattr__, _lazy_names, __dir__ = lazy_exports(__name__, _PARTS)
__all__ += _lazy_names
