"""Causal discovery over catalogue quantities, model inputs and predictions (PC / FCI via causal-learn).

Examples
--------
>>> import numpy as np, pandas as pd
>>> import interpret as ip
>>> rng = np.random.default_rng(1)
>>> z = rng.normal(size=3000); m = z + rng.normal(size=3000); f = m + rng.normal(size=3000)
>>> g = ip.causal.discover(pd.DataFrame({"z": z, "m": m, "f": f}), background=[["z"], ["m"], ["f"]])
>>> g.edges
[('z', 'm', '-->'), ('m', 'f', '-->')]
"""
from ._marks import MARKS
from .background import Background, as_background, tiers
from .discover import METHODS, TESTS, discover, kci_cost_seconds
from .graph import CausalGraph
from .local import LocalDependence, local_dependence
from .stability import edge_stability
from .truth import reference_edges

__all__ = [
    "discover", "CausalGraph", "edge_stability", "local_dependence", "LocalDependence",
    "Background", "tiers", "as_background", "reference_edges", "kci_cost_seconds",
    "METHODS", "TESTS", "MARKS",
]
