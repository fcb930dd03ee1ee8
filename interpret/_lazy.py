"""Lazy attribute access for subpackages whose parts are imported on first use (PEP 562).

A package lists its parts once; :func:`lazy_exports` reads each part's ``__all__`` from its source (no
import), so the package's ``__all__`` names every lazily loaded name, and ``__getattr__`` imports only the
part that defines the name asked for. A part that fails to import raises: nothing is skipped silently.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["lazy_exports", "declared_all"]


def declared_all(package: str, part: str) -> tuple[str, ...]:
    """The ``__all__`` of ``package.part`` read from its source; imports the part only if it is not a literal."""
    spec = importlib.util.find_spec(f"{package}.{part}")
    if spec is None or spec.origin is None:
        raise ImportError(f"{package}.{part} is listed as a part of {package} but does not exist")
    origin = Path(spec.origin)
    if origin.name == "__init__.py" or origin.suffix != ".py":
        return tuple(getattr(importlib.import_module(f"{package}.{part}"), "__all__", ()))
    for node in ast.parse(origin.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            try:
                return tuple(ast.literal_eval(node.value))
            except ValueError:
                break
    return tuple(getattr(importlib.import_module(f"{package}.{part}"), "__all__", ()))


def lazy_exports(package: str, parts: Sequence[str]
                 ) -> tuple[Callable[[str], Any], list[str], Callable[[], list[str]]]:
    """``(__getattr__, names, __dir__)`` for a package whose ``parts`` load on first use.

    ``names`` is every name in the parts' ``__all__`` (the first part exporting a name wins); the package
    adds them to its own ``__all__``. A submodule name itself is also an attribute.
    """
    owner: dict[str, str] = {}
    for part in parts:
        for name in declared_all(package, part):
            owner.setdefault(name, part)
    names = list(owner)

    def __getattr__(name: str) -> Any:
        if name in owner:
            return getattr(importlib.import_module(f"{package}.{owner[name]}"), name)
        if name in parts:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        module = importlib.import_module(package)
        return sorted(set(getattr(module, "__all__", names)) | set(parts))

    return __getattr__, names, __dir__

