"""Progress bars, one rule for the whole library.

``progress=None`` (the default everywhere): a bar on a terminal when the work is long, i.e. only when
stderr is a TTY (or a Jupyter kernel), neither ``CI`` nor ``INTERPRET_NO_PROGRESS`` is set, and the loop is
still running after :data:`LONG_SECONDS` (tqdm's ``delay``), so a 0.1 s predict never draws one.
``progress=True`` draws a bar at once, wherever stderr goes; ``progress=False`` silences it.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

__all__ = ["LONG_SECONDS", "progress_enabled", "progress_bar"]

LONG_SECONDS = 2.0  # work shorter than this never shows a bar under progress=None


def _interactive() -> bool:
    if os.environ.get("CI") or os.environ.get("INTERPRET_NO_PROGRESS"):
        return False
    if type(sys.stderr).__module__.startswith("ipykernel"):   # a Jupyter notebook: tqdm.auto draws a widget
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def progress_enabled(progress: bool | None) -> bool:
    """Whether a bar may be drawn: ``progress`` itself, or for None, stderr is an interactive terminal."""
    if progress is not None:
        return bool(progress)
    return _interactive()


def progress_bar(iterable: Iterable[T], *, progress: bool | None = None, desc: str | None = None,
                 total: int | None = None, **kwargs: Any) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm bar following the rule above (``delay`` = LONG_SECONDS when None)."""
    if progress is None:
        kwargs.setdefault("delay", LONG_SECONDS)
    return tqdm(iterable, desc=desc, total=total, disable=not progress_enabled(progress), leave=False, **kwargs)
