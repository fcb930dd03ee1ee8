"""The mock universe: simulated galaxies with planted causal truth, and reference estimators trained on it.

Examples
--------
>>> import interpret as ip
>>> u = ip.mock.make_universe(n=50, seed=0)   # doctest: +SKIP
"""
from .._lazy import lazy_exports

_PARTS = ("universe", "population", "sed", "photometry", "images", "spectra", "infrared", "truth",
          "models", "train")
__getattr__, __all__, __dir__ = lazy_exports(__name__, _PARTS)  # every part's __all__, loaded on first use
