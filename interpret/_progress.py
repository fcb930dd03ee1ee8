"""Progress bars: on by default in a terminal, silent under CI or with ``progress=False``."""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

__all__ = ["progress_enabled", "progress_bar"]


def progress_enabled(progress: bool | None) -> bool:
    """Resolve a ``progress=`` argument: None means 'on unless CI is set or the env disables it'."""
    if progress is not None:
        return bool(progress)
    if os.environ.get("CI") or os.environ.get("INTERPRET_NO_PROGRESS"):
        return False
    return True


def progress_bar(iterable: Iterable[T], *, progress: bool | None = None, desc: str | None = None,
                 total: int | None = None, **kwargs: Any) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar unless progress is disabled."""
    return tqdm(iterable, desc=desc, total=total, disable=not progress_enabled(progress), leave=False, **kwargs)
