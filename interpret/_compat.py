"""Renamed keywords: the old name keeps working for one minor version, with a FutureWarning."""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from .exceptions import ValidationError

__all__ = ["renamed_keywords", "REMOVED_IN"]

F = TypeVar("F", bound=Callable[..., Any])
REMOVED_IN = "0.4"


def renamed_keywords(**renames: str | None) -> Callable[[F], F]:
    """Decorator: accept each old keyword (``old="new"``), warn, and pass it on as the new one.

    ``old=None`` marks a keyword that no longer has any effect: it is accepted, warned about and dropped.
    The wrapped function's signature (``inspect.signature``) shows the new names only.

    Examples
    --------
    >>> @renamed_keywords(ci="ci_level")
    ... def f(*, ci_level=0.9):
    ...     return ci_level
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(ci=0.5), w[0].category.__name__
    (0.5, 'FutureWarning')
    """
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs and new is None:
                    warnings.warn(f"{func.__name__}(): {old!r} no longer has any effect and is removed in "
                                  f"{REMOVED_IN}; drop it", FutureWarning, stacklevel=2)
                    kwargs.pop(old)
                elif old in kwargs:
                    if new in kwargs:
                        raise ValidationError(f"{func.__name__}(): pass {new!r} only ({old!r} is its old name)")
                    warnings.warn(f"{func.__name__}(): {old!r} is renamed {new!r}; the old name is removed in "
                                  f"{REMOVED_IN}", FutureWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
