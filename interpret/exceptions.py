"""Exceptions and warnings raised by astro-interpret.

Every error a user can trigger derives from :class:`InterpretError`, so ``except InterpretError`` catches
all of them; most also derive from the matching builtin (``ValueError``, ``FileNotFoundError``) so that
generic handlers keep working.
"""
from __future__ import annotations

__all__ = [
    "InterpretError",
    "ValidationError",
    "DataFileError",
    "EstimatorLoadError",
    "UnsafeLoadError",
    "ConfigError",
    "InterpretWarning",
    "ConvergenceWarning",
    "EstimationWarning",
    "CostWarning",
    "BaselineWarning",
]


class InterpretError(Exception):
    """Base class of every error raised by astro-interpret."""


class ValidationError(InterpretError, ValueError):
    """An argument has the wrong type, shape, range or content."""


class DataFileError(InterpretError, ValueError):
    """A data file is missing, unreadable or lacks a required column/extension."""


class EstimatorLoadError(InterpretError, ValueError):
    """A trained estimator could not be loaded (bad file, architecture/state-dict mismatch, ...)."""


class UnsafeLoadError(InterpretError, PermissionError):
    """Loading would unpickle arbitrary code and ``allow_pickle=True`` was not given."""


class ConfigError(InterpretError, ValueError):
    """An analysis configuration is invalid (unknown key, bad value, missing file)."""


class InterpretWarning(UserWarning):
    """Base class of astro-interpret warnings."""


class ConvergenceWarning(InterpretWarning):
    """An iterative solver stopped before reaching its tolerance."""


class EstimationWarning(InterpretWarning):
    """An estimate is statistically fragile (too few samples per bin, too few neighbours, ...)."""


class CostWarning(InterpretWarning):
    """The requested computation is expected to be slow; the message gives the estimate and an alternative."""


class BaselineWarning(InterpretWarning):
    """An attribution baseline is far from anything the model predicts on, so the path it explains is unphysical."""
