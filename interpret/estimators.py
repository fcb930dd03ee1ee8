"""Trained estimators behind one calling convention: numpy in, numpy out, batched, no gradients.

:func:`load_estimator` turns a file or an in-memory model into an :class:`Estimator`:
TorchScript and ``state_dict`` files (with a ``factory``), skops files, Keras 3 files (``.keras`` / ``.h5``, run
on Keras' torch backend: no TensorFlow), torch modules, fitted scikit-learn models and plain callables. Full pickles (``torch.save(model)``, joblib) load only with
``allow_pickle=True``. Multi-input models (e.g. image cutout + catalogue photometry) take a tuple or a dict
keyed by ``input_names``.

Examples
--------
>>> import numpy as np, torch
>>> from interpret.estimators import load_estimator
>>> est = load_estimator(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)),
...                      output_names=("log_mstar", "redshift"))
>>> est.predict(np.zeros((5, 4), dtype=np.float32), progress=False).shape
(5, 2)
>>> est.module.training
False
"""
from __future__ import annotations

from ._estimators._base import Estimator, resolve_device
from ._estimators._load import as_estimator, load_estimator, resolve_factory
from ._estimators._wrappers import CallableEstimator, SklearnEstimator, TorchEstimator

__all__ = [
    "Estimator",
    "TorchEstimator",
    "SklearnEstimator",
    "CallableEstimator",
    "load_estimator",
    "as_estimator",
    "resolve_factory",
    "resolve_device",
]
