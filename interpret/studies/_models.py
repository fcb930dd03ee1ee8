"""The estimators of a study: the user's model (``[model]``), the reference trainer, and retrain-mode refits.

``[model]`` reaches every option of :func:`interpret.load_estimator`::

    [model]
    path = "my_model.pt"              # TorchScript, state dict (+ factory), .skops, .keras/.h5, or pickle
    factory = "mynets:PhotoZNet"      # importable from the config's folder (or the Python path)
    factory_kwargs = {n_bands = 5}
    trusted = ["mypkg.MyTransformer"] # extra types a .skops file may contain
    allow_pickle = false              # full pickles run code: only for files you trust
    name = "my photo-z CNN"           # label in figures and tables (default: the file's stem)

A config is code: a factory is imported and called, and ``allow_pickle`` unpickles. Run only configs you
trust. The refit wrappers live here, in the package, so that retrain-mode ablation runs in worker processes.
"""
from __future__ import annotations

import contextlib
import importlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._seeding import legacy_seed
from ..exceptions import ConfigError, InterpretError

__all__ = ["user_model", "model_name", "import_factory", "RefitMLP", "RefitHGB", "FramePredictor", "study_model",
           "baseline_notes", "plain_rmse", "probe_predict", "one_torch_thread", "panel", "user_model_inputs"]


def panel(ax: Any, letter: str) -> None:
    """The bold "(a)" label of a figure panel, above its top-left corner."""
    ax.text(-0.02, 1.02, f"({letter})", transform=ax.transAxes, ha="right", va="bottom", fontweight="bold")


def import_factory(spec: str, config_dir: str | None) -> Any:
    """Resolve ``"module:attribute"``, looking in the config's folder first (then the Python path)."""
    if ":" not in spec:
        raise ConfigError(f"[model] factory {spec!r} must look like 'module:attribute' (e.g. 'mynets:PhotoZNet')")
    mod_name, _, attr = spec.partition(":")
    if config_dir and str(Path(config_dir).resolve()) not in sys.path:
        sys.path.insert(0, str(Path(config_dir).resolve()))
    try:
        module = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ConfigError(f"[model] factory {spec!r}: cannot import {mod_name!r} from the config's folder "
                          f"({config_dir}) or the Python path ({exc})") from exc
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"[model] factory {spec!r}: {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def user_model(ctx: Any) -> Any:
    """The user's estimator from ``[model]``, or None when the config has none."""
    from .. import load_estimator

    spec = dict(ctx.config.get("model") or {})
    if not spec:
        return None
    kwargs: dict[str, Any] = {k: spec[k] for k in ("factory_kwargs", "allow_pickle") if k in spec}
    for key in ("output_names", "input_names", "trusted"):
        if key in spec:
            kwargs[key] = tuple(spec[key])
    if "factory" in spec:
        kwargs["factory"] = import_factory(spec["factory"], ctx.config.get("_config_dir"))
    try:
        return load_estimator(str(ctx.resolve(spec["path"])), device=ctx.config["device"], **kwargs)
    except (InterpretError, FileNotFoundError, ImportError) as exc:
        # load_estimator speaks the API's keywords; a config sets the same options as [model] keys
        text = str(exc)
        for api, key in (("trusted=", "[model] trusted = "), ("factory_kwargs=", "[model] factory_kwargs = "),
                         ("factory=", "[model] factory = "), ("allow_pickle=True", "[model] allow_pickle = true")):
            text = text.replace(api, key)
        raise ConfigError(f"[model] path = {spec['path']!r} could not be loaded: {text}") from exc


def model_name(ctx: Any, default: str) -> str:
    """The label of the study's model: ``[model] name``, else the model file's stem, else ``default``."""
    spec = ctx.config.get("model") or {}
    if spec.get("name"):
        return str(spec["name"])
    if spec.get("path"):
        return Path(spec["path"]).stem
    return default


class FramePredictor:
    """``predict(DataFrame)`` for a model trained on arrays (columns ``cols``; None: HGB features)."""

    def __init__(self, model: Any, cols: list[str] | None):
        self.model, self.cols = model, cols

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        if self.cols is None:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1):
                return np.asarray(self.model.predict(hgb_features(x)), float)
        return np.asarray(self.model.predict(x[self.cols].to_numpy(np.float32), progress=False), float).reshape(-1)


class RefitMLP:
    """Retrain-mode fit: the reference PhotometryMLP trained on the kept bands (DataFrame columns).

    ``train_reference`` splits the rows it is given 70/15/15 itself (early stopping on its validation
    part), so each refit sees ~70 % of the retrain-mode training rows: the all-band row of the retrain
    table, not the reference model, is the baseline its deltas are measured from.
    """

    def __init__(self, task: str, bandset: Any, target: str, train_kwargs: dict[str, Any]):
        self.task, self.bandset, self.target, self.kwargs = task, bandset, target, train_kwargs

    def __call__(self, x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> Any:
        from .. import mock
        from ..datasets import Dataset

        kept = [c for c in x.columns if c != "redshift"]
        cat = x.reset_index(drop=True).copy()
        cat[self.target] = np.asarray(y, float)
        data = Dataset(name="refit", catalog=cat, bands=self.bandset, source="refit")
        est = mock.train_reference(data, task=self.task, bands=kept, seed=int(seed), **self.kwargs)
        return FramePredictor(est, [*kept, "redshift"] if self.task == "stellar_mass" else kept)


class RefitHGB:
    """Retrain-mode fit: scikit-learn's HistGradientBoosting on the kept magnitudes and adjacent colours."""

    def __init__(self, task: str = "photoz", max_iter: int = 300):
        self.task, self.max_iter = task, int(max_iter)

    def __call__(self, x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> Any:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        model = HistGradientBoostingRegressor(max_iter=self.max_iter, learning_rate=0.1, random_state=legacy_seed(seed))
        with threadpool_limits(1):     # OpenMP over-subscription is ~10x slower on a busy 2-core machine
            return FramePredictor(model.fit(hgb_features(x), np.asarray(y, float)), None)


def probe_predict(estimator: Any, probe: Any) -> tuple[str | None, tuple[int, ...] | None]:
    """Predict ``probe`` (a few rows) with a user's model: ``(error, None)`` when it fails (the exception's type
    and the first line of its message), ``(None, shape)`` when it returns other than one value per row, else
    ``(None, None)``. The studies turn either into a message naming what they fed the model and the fix."""
    try:
        out = np.asarray(estimator.predict(probe, progress=False))
    except Exception as exc:  # noqa: BLE001  (any failure of a user's model is reported by the caller)
        msg = str(exc).strip() or repr(exc)
        first = (msg[1:-1] if len(msg) > 1 and msg[0] == msg[-1] and msg[0] in "'\"" else msg).splitlines()[0]
        return f"{type(exc).__name__}: {first}", None
    rows = len(probe[0]) if isinstance(probe, tuple) else len(probe)
    return None, (None if out.size == rows else out.shape)


def plain_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """RMSE of the plain residuals y_pred - y_true under the metric name ``rmse``, for ablations of a redshift
    target (``redshift=True`` turns the other metrics into dz/(1+z) forms, and ``rmse`` too): the studies' metric
    tables report plain-residual RMSE, so every table of a run means the same by that column."""
    from .. import metrics

    return metrics.rmse(y_true, y_pred)


plain_rmse.__name__ = "rmse"
plain_rmse.greater_is_better = False        # type: ignore[attr-defined]


def hgb_features(x: pd.DataFrame) -> np.ndarray:
    """Magnitudes, adjacent colours and (when present) the redshift column, as one array."""
    mags = [c for c in x.columns if c != "redshift"]
    arr = x[mags].to_numpy(float)
    feats = [arr, np.diff(arr, axis=1)] if arr.shape[1] > 1 else [arr]
    if "redshift" in x:
        feats.append(x[["redshift"]].to_numpy(float))
    return np.column_stack(feats)


def study_model(ctx: Any, data: Any, task: str, **train_kwargs: Any) -> Any:
    """The user's estimator from ``[model]``, else the reference estimator for ``task`` (cached per run)."""
    from .. import mock

    est = user_model(ctx)
    if est is not None:
        return est
    train_kwargs.setdefault("fast", bool(getattr(ctx.params, "fast", False)))
    return mock.train_reference(data, task=task, seed=ctx.seed, device=ctx.config["device"],
                                cache_dir=ctx.cache_dir / "models", progress=ctx.progress, **train_kwargs)


@contextlib.contextmanager
def baseline_notes(notes: list[str], what: str) -> Iterator[None]:
    """Turn :class:`~interpret.exceptions.BaselineWarning` into one report line (other warnings pass through).

    A study's attribution baseline is a deliberate choice (zero flux for images and spectra, the training mean
    for magnitudes); when the model's output there lies outside its predictions, the reader should know,
    but the run should not stop.
    """
    from ..exceptions import BaselineWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BaselineWarning)
        yield
    seen = False
    for w in caught:
        if issubclass(w.category, BaselineWarning):
            if not seen:
                notes.append(f"{what}: {str(w.message).split(';')[0].removeprefix('attribute(): ')}.")
            seen = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


@contextlib.contextmanager
def user_model_inputs(ctx: Any, study: str, fed: str, fix: str) -> Iterator[None]:
    """Turn the user's model failing on the study's inputs into a :class:`ConfigError` that says what the
    study fed it (``fed``) and which config key changes that (``fix``); the reference model's errors pass."""
    from ..exceptions import ValidationError

    if not ctx.config.get("model"):
        yield
        return
    try:
        yield
    except ValidationError as exc:
        if "the model failed on inputs" not in str(exc):
            raise
        first = str(exc).split("Model error:")[0].strip().rstrip(".")
        cause = str(exc).split("Model error:")[-1].strip().splitlines()
        tail = next((line.strip() for line in reversed(cause) if line.strip()), "")
        raise ConfigError(f"{study}: your [model] failed on {fed}: {fix} ({first}; {tail})") from exc


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread inside the block: small tabular models are fastest so, and parallel steps
    never over-subscribe shared cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
