"""Concrete estimators: torch modules (incl. TorchScript), scikit-learn-like models, plain callables."""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._validation import check_same_length
from ._base import Estimator, Shape

__all__ = ["TorchEstimator", "SklearnEstimator", "CallableEstimator"]


def _signature_inputs(fn: Callable[..., Any], skip_self: bool = False) -> tuple[tuple[str, ...], bool]:
    """Positional parameter names without defaults, and whether ``fn`` takes ``*args``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return (), True
    if skip_self and params and params[0].name == "self":
        params = params[1:]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = tuple(p.name for p in params if p.kind in positional and p.default is inspect.Parameter.empty)
    variadic = any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params)
    return names, variadic


def _module_inputs(module: torch.nn.Module) -> tuple[str, ...] | None:
    """Names of the required forward() inputs of an eager or TorchScript module (None: variadic)."""
    if isinstance(module, torch.jit.ScriptModule):
        try:
            args = module.forward.schema.arguments[1:]
        except (AttributeError, RuntimeError):
            return ("input",)
        return tuple(a.name for a in args if not a.has_default_value()) or ("input",)
    names, variadic = _signature_inputs(module.forward)
    if variadic and not names:
        return None
    return names or ("input",)


def _first_layer_expectation(module: torch.nn.Module) -> str | None:
    """What the first weight layer (in registration order) expects, for error messages only."""
    for sub in module.modules():
        if isinstance(sub, torch.nn.Linear):
            return f"(n, {sub.in_features}) [first layer Linear({sub.in_features}, {sub.out_features})]"
        if isinstance(sub, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
            dims = ", ".join(["H", "W", "D"][: sub.weight.ndim - 2])
            return f"(n, {sub.in_channels}, {dims}) [first layer {type(sub).__name__}({sub.in_channels}, ...)]"
    return None


class TorchEstimator(Estimator):
    """A ``torch.nn.Module`` (eager or TorchScript) evaluated in eval mode under ``torch.no_grad()``.

    Parameters
    ----------
    module : torch.nn.Module
        The model; it is moved to ``device`` and switched to eval mode (in place).
    device : str or torch.device, default "cpu"
        Where to evaluate ("cuda" needs a GPU; "auto" picks one when present).
    input_names : sequence of str, optional
        Names of the forward() inputs; default: read from the forward() signature.
    output_names : sequence of str, optional
        Names of the output columns (taken from the keys when the module returns a dict).
    input_shapes : sequence of tuple, optional
        Per-sample shape of each input (``None`` entries are wildcards) checked before evaluation.

    Examples
    --------
    >>> import numpy as np, torch
    >>> est = TorchEstimator(torch.nn.Linear(3, 1))
    >>> est.predict(np.zeros((4, 3), dtype=np.float32), progress=False).shape
    (4,)
    """

    def __init__(self, module: torch.nn.Module, *, device: torch.device | str | None = "cpu",
                 input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
                 input_shapes: Sequence[Shape | None] | None = None) -> None:
        detected = _module_inputs(module)
        n_inputs = len(input_names) if input_names is not None else (None if detected is None else len(detected))
        if input_names is None and detected is not None and len(detected) > 1:
            input_names = detected
        super().__init__(device=device, input_names=input_names, output_names=output_names,
                         n_inputs=n_inputs, input_shapes=input_shapes)
        self.module = module.to(self.device).eval()
        params = [p for p in module.parameters() if p.is_floating_point()]
        self._dtype = params[0].dtype if params else torch.float32

    def _to_tensor(self, a: np.ndarray) -> torch.Tensor:
        a = np.ascontiguousarray(a)
        if not a.flags.writeable:   # pandas (copy-on-write) and memory maps hand out read-only views
            a = a.copy()
        t = torch.as_tensor(a)
        if t.is_floating_point():
            t = t.to(self._dtype)
        return t.to(self.device)

    def as_tensors(self, x: Any) -> tuple[torch.Tensor, ...]:
        """Validate ``x`` like :meth:`predict` and return the tensors ``module`` takes, on ``device``.

        Floating inputs are cast to the module's parameter dtype; the tuple is in ``input_names`` order,
        ready for ``module(*tensors)`` or a gradient-based attribution method.

        Examples
        --------
        >>> import numpy as np, torch
        >>> TorchEstimator(torch.nn.Linear(3, 1)).as_tensors(np.zeros((2, 3)))[0].dtype
        torch.float32
        """
        func = "TorchEstimator.as_tensors"
        inputs = self._normalise_inputs(x, func)
        check_same_length(func, **{self._input_label(i): a for i, a in enumerate(inputs)})
        self._check_shapes(inputs, func)
        return tuple(self._to_tensor(a) for a in inputs)

    def _convert_input(self, value: Any) -> Any:
        if isinstance(value, (pd.DataFrame, pd.Series)):
            return value.to_numpy(dtype=np.float32)
        return super()._convert_input(value)

    def _predict_batch(self, inputs: list[Any]) -> Any:
        with torch.no_grad():
            return self.module(*[self._to_tensor(a) for a in inputs])

    def _expected_description(self, index: int) -> str | None:
        described = super()._expected_description(index)
        if described is None and self.n_inputs == 1:
            return _first_layer_expectation(self.module)
        return described

    def to(self, device: torch.device | str) -> TorchEstimator:
        """Move the module to ``device`` (in place) and return self."""
        from ._base import resolve_device

        self.device = resolve_device(device, "TorchEstimator.to")
        self.module = self.module.to(self.device)
        return self


class SklearnEstimator(Estimator):
    """A fitted scikit-learn estimator (or any object with a ``predict`` method); ``module`` is None.

    Parameters
    ----------
    model : object
        Fitted model with ``predict(X)`` (or the method named by ``method``).
    method : str, default "predict"
        Which method to call, e.g. ``"predict_proba"``.
    output_names : sequence of str, optional
        Names of the output columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> est = SklearnEstimator(LinearRegression().fit(X, X[:, 0] + X[:, 1]))
    >>> np.round(est.predict(X, progress=False), 6).tolist()
    [1.0, 5.0, 9.0, 13.0, 17.0]
    """

    def __init__(self, model: Any, *, method: str = "predict", output_names: Sequence[str] | None = None,
                 input_shapes: Sequence[Shape | None] | None = None) -> None:
        n_features = getattr(model, "n_features_in_", None)
        if input_shapes is None and isinstance(n_features, (int, np.integer)):
            input_shapes = ((int(n_features),),)
        super().__init__(device="cpu", output_names=output_names, n_inputs=1, input_shapes=input_shapes)
        self.model = model
        self.method = method
        self._predict = getattr(model, method)

    def _convert_input(self, value: Any) -> Any:
        if isinstance(value, (pd.DataFrame, pd.Series)) and hasattr(self.model, "feature_names_in_"):
            return value  # keep feature names: models fitted on frames check them
        if isinstance(value, (pd.DataFrame, pd.Series)):
            return value.to_numpy()
        return super()._convert_input(value)

    def _predict_batch(self, inputs: list[Any]) -> Any:
        return self._predict(inputs[0])


class CallableEstimator(Estimator):
    """Any Python callable mapping arrays to an array: ``fn(x)`` or ``fn(x1, x2, ...)``.

    The callable receives numpy arrays (one per input) and may return numpy arrays or torch tensors.

    Parameters
    ----------
    fn : callable
        The function; its required positional parameters define ``n_inputs`` (variadic: any number).
    input_names, output_names : sequence of str, optional
        Names of the inputs (dict keys accepted by ``predict``) and of the output columns.

    Examples
    --------
    >>> import numpy as np
    >>> est = CallableEstimator(lambda img, cat: img.mean(axis=(1, 2)) + cat[:, 0], input_names=("img", "cat"))
    >>> est.predict({"img": np.ones((2, 4, 4)), "cat": np.zeros((2, 3))}, progress=False).tolist()
    [1.0, 1.0]
    """

    def __init__(self, fn: Callable[..., Any], *, input_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None,
                 input_shapes: Sequence[Shape | None] | None = None) -> None:
        names, variadic = _signature_inputs(fn)
        n_inputs: int | None = len(input_names) if input_names is not None else (
            None if variadic and not names else max(len(names), 1))
        if input_names is None and n_inputs is not None and n_inputs > 1:
            input_names = names
        super().__init__(device="cpu", input_names=input_names, output_names=output_names,
                         n_inputs=n_inputs, input_shapes=input_shapes)
        self.fn = fn

    def _predict_batch(self, inputs: list[Any]) -> Any:
        with torch.no_grad():
            return self.fn(*inputs)
