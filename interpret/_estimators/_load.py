"""``load_estimator``: files and objects to :class:`Estimator`, refusing to unpickle without consent."""
from __future__ import annotations

import importlib
import logging
import os
import pickle
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ..exceptions import EstimatorLoadError, UnsafeLoadError, ValidationError
from ._base import Estimator, resolve_device
from ._keras import KERAS_SUFFIXES, keras_estimator, load_keras_model
from ._wrappers import CallableEstimator, SklearnEstimator, TorchEstimator

__all__ = ["load_estimator", "as_estimator", "resolve_factory"]

logger = logging.getLogger(__name__)

_PICKLE_SUFFIXES = {".joblib", ".pkl", ".pickle", ".jbl"}
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")
_SHOW = 5


def _show(keys: Sequence[str]) -> str:
    keys = list(keys)
    return ", ".join(repr(k) for k in keys[:_SHOW]) + (f", ... ({len(keys)} in all)" if len(keys) > _SHOW else "")


def resolve_factory(factory: Callable[..., Any] | str) -> Callable[..., Any]:
    """Return ``factory`` itself, or import it from a ``"pkg.module:ClassName"`` string."""
    if callable(factory):
        return factory
    if not isinstance(factory, str) or ":" not in factory:
        raise ValidationError(f"load_estimator(): 'factory' must be a callable or an import string "
                              f"'pkg.module:ClassName'; got {factory!r}")
    module_name, _, attr = factory.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise EstimatorLoadError(f"load_estimator(): cannot import module {module_name!r} of factory "
                                 f"{factory!r} ({exc}); check the spelling and that it is installed") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise EstimatorLoadError(f"load_estimator(): module {module_name!r} has no attribute {attr!r} "
                                     f"(factory {factory!r})")
        obj = getattr(obj, part)
    if not callable(obj):
        raise EstimatorLoadError(f"load_estimator(): factory {factory!r} is not callable")
    return obj


def _is_state_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _unwrap_checkpoint(obj: Any, where: str) -> Any:
    """Accept the common ``{"state_dict": ..., "epoch": ...}`` checkpoint layout (logged, not silent)."""
    if isinstance(obj, Mapping) and not _is_state_dict(obj):
        for key in _CHECKPOINT_KEYS:
            if _is_state_dict(obj.get(key)):
                logger.info("load_estimator(): using the %r entry of checkpoint %s", key, where)
                return obj[key]
    return obj


def _build_from_state_dict(state: Mapping[str, torch.Tensor], factory: Any, factory_kwargs: dict | None,
                           strict: bool, where: str) -> torch.nn.Module:
    if factory is None:
        raise EstimatorLoadError(
            f"load_estimator(): {where} holds a state_dict ({len(state)} tensors, e.g. {_show(list(state))}) "
            f"but no architecture; pass factory= (a callable or 'pkg.module:ClassName') that builds the model")
    build = resolve_factory(factory)
    try:
        model = build(**(factory_kwargs or {}))
    except TypeError as exc:
        raise EstimatorLoadError(f"load_estimator(): calling factory {factory!r} with factory_kwargs="
                                 f"{factory_kwargs!r} failed: {exc}") from exc
    if not isinstance(model, torch.nn.Module):
        raise EstimatorLoadError(f"load_estimator(): factory {factory!r} returned a {type(model).__name__}, "
                                 f"not a torch.nn.Module")
    _check_keys(model, state, strict, where)
    model.load_state_dict(state, strict=strict)
    return model


def _check_keys(model: torch.nn.Module, state: Mapping[str, torch.Tensor], strict: bool, where: str) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
             if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if wrong:
        raise EstimatorLoadError(f"load_estimator(): {where} does not fit the factory's model: shape "
                                 f"mismatches (file vs model): {_show(wrong)}; build the model with the "
                                 f"hyper-parameters used in training (factory_kwargs=)")
    if missing or unexpected:
        hint = "check factory / factory_kwargs"
        if unexpected and all(k.startswith("module.") for k in unexpected):
            hint = "the keys carry a 'module.' prefix (saved from DataParallel); strip it before saving"
        msg = (f"{where} does not match the factory's model: missing keys [{_show(missing)}], "
               f"unexpected keys [{_show(unexpected)}]; {hint}")
        if strict:
            raise EstimatorLoadError(f"load_estimator(): {msg}, or pass strict=False to load the overlap")
        logger.warning("load_estimator(): %s (strict=False: loading the overlapping keys)", msg)


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    return any("/code/__torch__" in n for n in names) and any(n.endswith("/constants.pkl") for n in names)


def _load_torchscript(path: Path, device: torch.device) -> torch.nn.Module:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.load.* is deprecated", category=DeprecationWarning)
        try:
            return torch.jit.load(str(path), map_location=device)
        except RuntimeError as exc:
            raise EstimatorLoadError(f"load_estimator(): {str(path)!r} looks like TorchScript but failed to "
                                     f"load: {exc}") from exc


def _refuse_pickle(path: Path, what: str) -> UnsafeLoadError:
    return UnsafeLoadError(
        f"load_estimator(): {str(path)!r} is {what}; unpickling it can run arbitrary code, so it is refused by "
        f"default. If you trust its source pass allow_pickle=True; better, re-save it as a state_dict "
        f"(torch.save(model.state_dict(), path) + factory=), TorchScript, or skops (skops.io.dump)")


def _load_torch_file(path: Path, device: torch.device, allow_pickle: bool) -> Any:
    try:
        with warnings.catch_warnings():  # probing a foreign pickle: torch warns about its protocol
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            return torch.load(str(path), map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError / RuntimeError variously
        if "Weights only load failed" not in str(exc) and not isinstance(exc, EOFError):
            raise EstimatorLoadError(f"load_estimator(): cannot read {str(path)!r} as a torch file: {exc}") from exc
    if not allow_pickle:
        raise _refuse_pickle(path, "a full pickle (torch.save of a whole module, or pickle/joblib), not a "
                                   "weights-only state_dict")
    logger.warning("load_estimator(): unpickling %s (allow_pickle=True)", path)
    try:
        return torch.load(str(path), map_location=device, weights_only=False)
    except (RuntimeError, pickle.UnpicklingError):
        if zipfile.is_zipfile(path):
            raise
        return _load_joblib(path, allow_pickle, log=False)  # a plain pickle / joblib file under a torch-like name


def _load_joblib(path: Path, allow_pickle: bool, *, log: bool = True) -> Any:
    if not allow_pickle:
        raise _refuse_pickle(path, "a joblib/pickle file")
    import joblib

    if log:
        logger.warning("load_estimator(): unpickling %s (allow_pickle=True)", path)
    try:
        return joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - arbitrary unpickling errors
        raise EstimatorLoadError(f"load_estimator(): cannot unpickle {str(path)!r}: {exc}") from exc


def _load_skops(path: Path, trusted: Sequence[str] | None) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - skops raises several kinds on corrupt files
        raise EstimatorLoadError(f"load_estimator(): cannot read {str(path)!r} as a skops file: {exc}") from exc
    remaining = [t for t in untrusted if t not in set(trusted or ())]
    if remaining:
        raise UnsafeLoadError(
            f"load_estimator(): {str(path)!r} contains types skops does not trust by default: {remaining}; "
            f"review them and, if you trust them, pass trusted={remaining!r}")
    return sio.load(path, trusted=list(untrusted))


def _load_path(path: Path, device: torch.device, allow_pickle: bool, trusted: Sequence[str] | None) -> Any:
    if not path.exists():
        raise FileNotFoundError(f"load_estimator(): no such file {str(path)!r}")
    if path.is_dir():
        raise EstimatorLoadError(f"load_estimator(): {str(path)!r} is a folder; give the model file inside it")
    if path.stat().st_size == 0:
        raise EstimatorLoadError(f"load_estimator(): {str(path)!r} is empty (0 bytes): the save was interrupted "
                                 "or the copy failed; save or copy the model again")
    suffix = path.suffix.lower()
    if suffix in KERAS_SUFFIXES:
        return load_keras_model(path)
    if suffix == ".skops":
        return _load_skops(path, trusted)
    if suffix in _PICKLE_SUFFIXES:
        return _load_joblib(path, allow_pickle)
    if _is_torchscript(path):
        return _load_torchscript(path, device)
    return _load_torch_file(path, device, allow_pickle)


def _wrap(obj: Any, factory: Any, factory_kwargs: dict | None, strict: bool, where: str,
          kw: dict[str, Any]) -> Estimator:
    obj = _unwrap_checkpoint(obj, where)
    if _is_state_dict(obj):
        obj = _build_from_state_dict(obj, factory, factory_kwargs, strict, where)
    elif factory is not None:
        logger.warning("load_estimator(): 'factory' is ignored: %s is not a state_dict", where)
    if _is_keras_model(obj):
        return keras_estimator(obj, **kw)
    if isinstance(obj, torch.nn.Module):
        return TorchEstimator(obj, **kw)
    kw.pop("device")
    if hasattr(obj, "predict"):
        _check_fitted(obj, where)
        kw.pop("input_names")
        return SklearnEstimator(obj, **kw)
    if callable(obj):
        return CallableEstimator(obj, **kw)
    raise ValidationError(f"load_estimator(): cannot make an estimator from {where} ({type(obj).__name__}); "
                          f"give a torch.nn.Module, TorchScript/state_dict/skops file, fitted scikit-learn "
                          f"model or a callable")


def _is_keras_model(obj: Any) -> bool:
    """A Keras 3 model (checked by class path, so Keras is never imported here)."""
    return any(c.__module__.split(".")[0] == "keras" and c.__name__ == "Model" for c in type(obj).__mro__)


def _check_fitted(obj: Any, where: str) -> None:
    try:
        from sklearn.base import BaseEstimator
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted
    except ImportError:  # pragma: no cover - sklearn is a dependency
        return
    if isinstance(obj, BaseEstimator):
        try:
            check_is_fitted(obj)
        except NotFittedError as exc:
            raise EstimatorLoadError(f"load_estimator(): {where} is an unfitted {type(obj).__name__}; call "
                                     f".fit(X, y) first") from exc


def load_estimator(source: Any, factory: Callable[..., Any] | str | None = None,
                   device: str | torch.device | None = None,
                   *, allow_pickle: bool = False, factory_kwargs: dict[str, Any] | None = None,
                   input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
                   strict: bool = True, trusted: Sequence[str] | None = None,
                   input_shapes: Sequence[tuple[int | None, ...] | None] | None = None) -> Estimator:
    """Load a trained estimator from a file or wrap an in-memory model, with one calling convention.

    Parameters
    ----------
    source : str, path-like, Estimator, torch.nn.Module, dict, fitted model or callable
        * an :class:`Estimator` - returned unchanged;
        * a TorchScript file (``torch.jit.save``);
        * a ``state_dict`` file (``torch.save(model.state_dict(), path)``, read with ``weights_only=True``;
          a ``{"state_dict": ...}`` checkpoint is accepted) - needs ``factory``;
        * a ``.skops`` file (scikit-learn via ``skops.io``; types outside skops' trusted set must be listed
          in ``trusted``);
        * a full-pickle file (``torch.save(model)``, ``.joblib``/``.pkl``) - only with ``allow_pickle=True``;
        * a Keras 3 file (``.keras``, or legacy ``.h5`` / ``.hdf5``), loaded on Keras' torch backend (no
          TensorFlow; the optional extra ``astro-interpret[keras]``): ``module`` is a torch module taking
          the model's inputs in order, channel-last as in Keras;
        * an in-memory ``torch.nn.Module`` or state-dict mapping (with ``factory``), a fitted scikit-learn
          estimator (anything with ``.predict``), or any callable mapping arrays to an array.
    factory : callable or str, optional
        Builds the architecture for a state_dict: a callable or an import string ``"pkg.module:ClassName"``;
        called as ``factory(**factory_kwargs)``.
    device : str or torch.device, optional
        Device for torch models ("cpu", "cuda", "cuda:1", "auto" = CUDA when available). Default: an
        in-memory module stays on its own device (a model already on the GPU is not moved back); files load
        on the CPU.
    allow_pickle : bool, default False
        Allow unpickling full-pickle files. Only for files you trust: unpickling runs arbitrary code.
    factory_kwargs : dict, optional
        Keyword arguments for ``factory``.
    input_names, output_names : sequence of str, optional
        Names of the inputs (forward() order; dict keys for ``predict``) and of the output columns.
    strict : bool, default True
        Require the state_dict keys to match the model exactly (else load the overlap, with a warning log).
    trusted : sequence of str, optional
        Fully-qualified type names to trust when loading a ``.skops`` file.
    input_shapes : sequence of tuple, optional
        Per-sample input shapes checked before evaluation (``None`` entries are wildcards).

    Returns
    -------
    Estimator
        Torch models are on ``device`` and in eval mode.

    Raises
    ------
    FileNotFoundError
        ``source`` is a path that does not exist.
    UnsafeLoadError
        The file needs unpickling and ``allow_pickle`` is False, or a skops file has untrusted types.
    EstimatorLoadError
        The file cannot be read, or a state_dict does not fit the factory (missing/unexpected keys named).

    Examples
    --------
    >>> import numpy as np, torch, tempfile, os
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "mlp.pt")
    >>> torch.save(torch.nn.Linear(5, 1).state_dict(), path)
    >>> est = load_estimator(path, factory=torch.nn.Linear, factory_kwargs={"in_features": 5, "out_features": 1})
    >>> est.predict(np.zeros((10, 5), dtype=np.float32), progress=False).shape
    (10,)
    >>> tmp.cleanup()
    """
    if isinstance(source, Estimator):
        return source
    if device is None and isinstance(source, torch.nn.Module):
        device = next((p.device for p in source.parameters()), None)
    dev = resolve_device(device)
    kw: dict[str, Any] = {"device": dev, "input_names": input_names, "output_names": output_names,
                          "input_shapes": input_shapes}
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        obj = _load_path(path, dev, allow_pickle, trusted)
        return _wrap(obj, factory, factory_kwargs, strict, repr(str(path)), kw)
    return _wrap(source, factory, factory_kwargs, strict, f"the given {type(source).__name__}", kw)


def as_estimator(obj: Any, **kwargs: Any) -> Estimator:
    """Wrap an in-memory model (module, fitted model, callable or Estimator) as an :class:`Estimator`.

    Same as :func:`load_estimator` for objects; paths are refused (use ``load_estimator`` for files).

    Examples
    --------
    >>> import numpy as np
    >>> as_estimator(np.negative).predict(np.array([1.0, 2.0]), progress=False).tolist()
    [-1.0, -2.0]
    """
    if isinstance(obj, (str, os.PathLike)):
        raise ValidationError(f"as_estimator(): got a path ({str(obj)!r}); use load_estimator() for files")
    return load_estimator(obj, **kwargs)
