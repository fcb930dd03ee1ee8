"""astro-interpret: why do deep-learning galaxy estimators work?

Causal discovery, partial-information decomposition, attribution maps and band ablation for trained
estimators of galaxy properties, with a mock universe whose causal truth is known.

Subpackages are imported lazily (``import interpret`` is fast); ``interpret.causal`` etc. load on first use.

Examples
--------
>>> import interpret as ip
>>> ip.__version__ >= "0.1"
True
"""
import importlib as _importlib
from typing import Any as _Any

from ._version import __version__

_SUBMODULES = {
    "mock", "datasets", "data", "causal", "pid", "attribution", "ablation", "metrics", "plots", "report",
    "parallel", "estimators", "exceptions", "streaming", "runner", "zoo", "studies",
}
# flat names -> module that defines them
_FLAT = {
    "load_estimator": "estimators", "Estimator": "estimators",
    "discover": "causal", "edge_stability": "causal", "local_dependence": "causal", "CausalGraph": "causal",
    "decompose": "pid", "mutual_information": "pid", "pointwise_decompose": "pid", "NeuralTraining": "pid",
    "Binning": "pid", "Reduction": "pid", "Resampling": "pid", "KNN": "pid",
    "attribute": "attribution", "line_importance": "attribution",
    "IntegratedGradients": "attribution", "Saliency": "attribution", "InputXGradient": "attribution",
    "DeepLift": "attribution", "DeepLiftShap": "attribution", "GradientShap": "attribution",
    "SmoothGrad": "attribution", "Occlusion": "attribution", "FeatureAblation": "attribution",
    "band_ablation": "ablation", "band_shapley": "ablation",
    "load_result": "_results",
    "stream_predict": "streaming", "stream_attribute": "streaming", "stream_band_ablation": "streaming",
    "InterpretError": "exceptions",
}

__all__ = ["__version__", *sorted(_SUBMODULES), *sorted(_FLAT)]


def __getattr__(name: str) -> _Any:
    if name in _SUBMODULES:
        return _importlib.import_module(f".{name}", __name__)
    if name in _FLAT:
        return getattr(_importlib.import_module(f".{_FLAT[name]}", __name__), name)
    raise AttributeError(f"module 'interpret' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(n for n in set(globals()) | set(__all__) if not n.startswith("_") or n == "__version__")
