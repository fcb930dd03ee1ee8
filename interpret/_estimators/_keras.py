"""Keras 3 models (``.keras`` and legacy ``.h5``) loaded on Keras' torch backend: no TensorFlow needed.

Keras 3 runs on several backends; on the torch backend a loaded model *is* a ``torch.nn.Module`` whose
weights are torch parameters, so gradients, attribution and every analysis work unchanged. The backend is
chosen once per process, when Keras is first imported: :func:`import_keras` sets ``KERAS_BACKEND=torch``
before importing it, and refuses (naming the fix) when Keras was already imported with another backend.

Keras models are channel-last (images ``(n, H, W, C)``) and take several inputs as a list;
:class:`KerasModule` exposes them as ``forward(*inputs)`` in the model's input order.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import torch

from ..exceptions import EstimatorLoadError

__all__ = ["KERAS_SUFFIXES", "import_keras", "KerasModule", "load_keras_model", "keras_estimator"]

logger = logging.getLogger(__name__)

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_INSTALL = "install it with: pip install 'astro-interpret[keras]' (Keras 3; TensorFlow is not needed)"


def import_keras() -> Any:
    """Import Keras 3 on the torch backend (setting ``KERAS_BACKEND=torch`` first) and return the module.

    Raises
    ------
    EstimatorLoadError
        Keras is missing or older than 3, ``KERAS_BACKEND`` names another backend, or Keras was already
        imported with another backend (the backend cannot change within a process).
    """
    if "keras" not in sys.modules:
        chosen = os.environ.get("KERAS_BACKEND")
        if chosen not in (None, "", "torch"):
            raise EstimatorLoadError(f"load_estimator(): KERAS_BACKEND is {chosen!r}, but Keras models are "
                                     f"loaded on the torch backend; unset KERAS_BACKEND or set it to 'torch' "
                                     f"before starting Python")
        os.environ["KERAS_BACKEND"] = "torch"
    try:
        import keras
    except ImportError as exc:
        raise EstimatorLoadError(f"load_estimator(): Keras is not installed; {_INSTALL}") from exc
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        raise EstimatorLoadError(f"load_estimator(): Keras {version} is installed; Keras >= 3 is needed "
                                 f"(pip install 'keras>=3.5')")
    backend = keras.backend.backend()
    if backend != "torch":
        raise EstimatorLoadError(f"load_estimator(): Keras was already imported with the {backend!r} backend "
                                 f"in this process; Keras models load on the torch backend only. Set "
                                 f"KERAS_BACKEND=torch before anything imports Keras (or load the model "
                                 f"before importing Keras)")
    return keras


class KerasModule(torch.nn.Module):
    """A Keras model on the torch backend as ``forward(*inputs) -> tensor`` (inputs in the model's order).

    Several outputs are concatenated (flattened per sample) into one ``(n, k)`` tensor. Keras layers are
    called with ``training=False`` (dropout and batch normalisation in inference mode) whatever the torch
    mode.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model
        self.n_model_inputs = len(model.inputs)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if len(inputs) != self.n_model_inputs:
            raise ValueError(f"the Keras model takes {self.n_model_inputs} inputs; got {len(inputs)}")
        out = self.model(list(inputs) if self.n_model_inputs > 1 else inputs[0], training=False)
        if isinstance(out, dict):
            out = list(out.values())
        if isinstance(out, (list, tuple)):
            out = torch.cat([o.reshape(o.shape[0], -1) for o in out], dim=1)
        return out


def load_keras_model(path: str | os.PathLike[str]) -> Any:
    """Load a ``.keras`` / ``.h5`` file with Keras 3 on the torch backend (no compile, no custom objects)."""
    keras = import_keras()
    path = Path(path)
    try:
        with warnings.catch_warnings():  # legacy H5 files warn about their (unused) optimizer / metrics
            warnings.filterwarnings("ignore", message=".*compile.*", category=UserWarning)
            return keras.models.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError / TypeError / OSError variously
        raise EstimatorLoadError(f"load_estimator(): cannot load {str(path)!r} as a Keras model: {exc}") from exc


def _shape(tensor: Any) -> tuple[int | None, ...]:
    return tuple(None if s is None else int(s) for s in tuple(tensor.shape)[1:])


def keras_estimator(model: Any, *, device: torch.device, input_names: Any = None, output_names: Any = None,
                    input_shapes: Any = None) -> Any:
    """Wrap a Keras 3 (torch backend) model as a :class:`~interpret.estimators.TorchEstimator`.

    Input names and per-sample shapes default to the model's own (``model.inputs``).
    """
    from ._wrappers import TorchEstimator

    module = KerasModule(model)
    names = input_names if input_names is not None else tuple(str(t.name) for t in model.inputs)
    shapes = input_shapes if input_shapes is not None else tuple(_shape(t) for t in model.inputs)
    return TorchEstimator(module, device=device, input_names=names, output_names=output_names,
                          input_shapes=shapes)
