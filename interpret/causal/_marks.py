"""Edge marks: the five (six) strings used by :class:`CausalGraph` and their endpoint decomposition.

An edge ``(a, b, mark)`` has one endpoint symbol at ``a`` and one at ``b``: ``"tail"``, ``"arrow"`` or
``"circle"``. ``"-->"`` is tail at ``a`` and arrowhead at ``b``. Marks are stored in a canonical direction
(``"o->"`` and ``"-->"`` always point from ``a`` to ``b``).
"""
from __future__ import annotations

__all__ = ["MARKS", "ENDPOINTS", "endpoints", "mark_from_endpoints"]

TAIL, ARROW, CIRCLE = "tail", "arrow", "circle"
ENDPOINTS = (TAIL, ARROW, CIRCLE)
# (endpoint at a, endpoint at b) -> mark, for the canonical direction
_CANONICAL = {
    (TAIL, ARROW): "-->",
    (TAIL, TAIL): "---",
    (ARROW, ARROW): "<->",
    (CIRCLE, ARROW): "o->",
    (CIRCLE, CIRCLE): "o-o",
    (CIRCLE, TAIL): "o--",   # rare: FCI's selection-bias rules (R5-R7) can produce it
}
MARKS = tuple(_CANONICAL.values())
_ENDS = {m: e for e, m in _CANONICAL.items()}


def endpoints(mark: str) -> tuple[str, str]:
    """Endpoint symbols ``(at a, at b)`` of an edge ``(a, b, mark)``."""
    return _ENDS[mark]


def mark_from_endpoints(at_a: str, at_b: str) -> tuple[bool, str]:
    """Canonical mark for endpoints ``(at_a, at_b)``; the flag says whether ``a`` and ``b`` must be swapped."""
    if (at_a, at_b) in _CANONICAL:
        return False, _CANONICAL[(at_a, at_b)]
    return True, _CANONICAL[(at_b, at_a)]
