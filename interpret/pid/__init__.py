"""Partial-information decomposition (bits): binned (dit-backed + our BROJA), kNN and per-galaxy neural routes."""
from .._lazy import lazy_getattr
from ._result import PIDResult, atom_label

_PARTS = ("decomposition", "measures", "broja", "discretize", "estimation", "knn", "neural", "compare", "sensitivity")
__getattr__ = lazy_getattr(__name__, _PARTS)
__all__ = ["PIDResult", "atom_label"]
