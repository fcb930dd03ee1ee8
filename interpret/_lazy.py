"""Lazy attribute access for subpackages whose parts are imported on first use (PEP 562)."""
from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any


def lazy_getattr(package: str, modules: Sequence[str]) -> Callable[[str], Any]:
    """Build a module ``__getattr__`` that finds ``name`` in the first of ``modules`` exporting it.

    A name is looked up in each module's ``__all__``; a submodule name itself is also accepted.
    """

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        for mod_name in modules:
            try:
                mod = importlib.import_module(f"{package}.{mod_name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"{package}.{mod_name}":
                    continue  # that part is not written yet / not installed
                raise
            if name in getattr(mod, "__all__", ()):
                return getattr(mod, name)
        if name in modules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
