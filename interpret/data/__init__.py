"""Band metadata (real filter curves via speclite), the spectral-line catalogue, and survey file readers."""
from .._lazy import lazy_exports

_PARTS = ("bands", "lines", "io")
__getattr__, __all__, __dir__ = lazy_exports(__name__, _PARTS)
