"""Band metadata (real filter curves via speclite), the spectral-line catalogue, and survey file readers."""
from .._lazy import lazy_getattr

_PARTS = ("bands", "lines", "io")
__getattr__ = lazy_getattr(__name__, _PARTS)
