"""What every study's figure functions share: reading a step output, and drawing in the shared style.

A figure function takes ``outputs``: the dict a study's ``steps.run_all`` returns, or the run context (anything
with ``.load(key)``), so the same function draws in a notebook and in ``interpret run``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["get_output", "styled"]

_MISSING = object()


def get_output(outputs: Any, key: str, default: Any = _MISSING) -> Any:
    """``outputs[key]`` (a Mapping) or ``outputs.load(key)``; ``default`` when given and the key is absent.

    Examples
    --------
    >>> get_output({"metrics": 1}, "metrics"), get_output({}, "pid", None)
    (1, None)
    """
    try:
        return outputs[key] if isinstance(outputs, Mapping) else outputs.load(key)
    except KeyError:
        if default is _MISSING:
            raise
        return default


def styled(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Draw ``fn`` in the shared style (the runner applies it too; a notebook call gets the same figure)."""
    @functools.wraps(fn)
    def wrapper(outputs: Any) -> Any:
        from ..plots._style import style

        with style():
            return fn(outputs)
    return wrapper
