"""Private implementation of :mod:`interpret.estimators` (base, wrappers, loaders)."""
