"""Published estimators with their real trained weights, read from installed packages (never downloaded here).

* :func:`piczl` - PICZL's weighted CNN ensembles for photometric redshifts of Legacy Survey DR10 + WISE
  sources (Roster et al. 2024, arXiv:2411.07305), run with Keras 3 on the torch backend (no TensorFlow).
  Needs ``pip install keras`` and ``pip install --no-deps piczl==0.1.4`` (``make install`` does both).
"""
from __future__ import annotations

from ._piczl import PiczlEnsemble, piczl

__all__ = ["piczl", "PiczlEnsemble"]
