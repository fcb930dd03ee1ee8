"""Background knowledge for causal discovery: tiers plus required and forbidden edges.

Tiers are an ordering of groups of variables (e.g. redshift -> intrinsic properties -> observables ->
predictions): no edge may point from a later tier into an earlier one. Required and forbidden edges are
directed ``(cause, effect)`` pairs. :meth:`Background.to_causallearn` maps this onto causal-learn's
``BackgroundKnowledge``.

Examples
--------
>>> from interpret.causal import Background, tiers
>>> bk = tiers(["redshift"], ["log_mstar", "log_sfr"], ["g", "r"])
>>> bk.tier_of("g")
2
>>> Background(tiers=bk.tiers, forbidden=[("log_sfr", "log_mstar")]).forbids("log_sfr", "log_mstar")
True
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ValidationError

__all__ = ["Background", "tiers", "as_background"]


def _pairs(value: Iterable[Sequence[str]], what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in value:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValidationError(f"Background(): each {what} edge must be a (cause, effect) pair; got {pair!r}")
        out.append((str(pair[0]), str(pair[1])))
    return tuple(out)


@dataclass(frozen=True)
class Background:
    """Prior knowledge about which edges may or must exist.

    Parameters
    ----------
    tiers : sequence of sequences of str, default ()
        Ordered groups of variable names; an edge from a later tier into an earlier tier is forbidden.
        Variables not in any tier are unconstrained.
    required : sequence of (str, str), default ()
        Edges ``cause --> effect`` that must be present and oriented that way.
    forbidden : sequence of (str, str), default ()
        Edges ``cause --> effect`` that must not exist in that direction.
    forbid_within : sequence of int, default ()
        Indices of tiers whose members may not cause each other (e.g. a tier of model predictions).

    Examples
    --------
    A chain ``z -> m -> g`` is only identified up to direction from data; tiers orient it:

    >>> import numpy as np, pandas as pd
    >>> from interpret.causal import discover
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=1000)
    >>> m = z + rng.normal(size=1000)
    >>> df = pd.DataFrame({"z": z, "m": m, "g": m + rng.normal(size=1000)})
    >>> discover(df).edges
    [('z', 'm', '---'), ('m', 'g', '---')]
    >>> discover(df, background=Background(tiers=[["z"], ["m"], ["g"]])).edges
    [('z', 'm', '-->'), ('m', 'g', '-->')]
    """

    tiers: tuple[tuple[str, ...], ...] = ()
    required: tuple[tuple[str, str], ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    forbid_within: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        tiers_ = tuple(tuple(str(v) for v in t) for t in self.tiers)
        object.__setattr__(self, "tiers", tiers_)
        object.__setattr__(self, "required", _pairs(self.required, "required"))
        object.__setattr__(self, "forbidden", _pairs(self.forbidden, "forbidden"))
        object.__setattr__(self, "forbid_within", tuple(int(i) for i in self.forbid_within))
        seen: dict[str, int] = {}
        for k, tier in enumerate(tiers_):
            for v in tier:
                if v in seen:
                    raise ValidationError(f"Background(): {v!r} is in tiers {seen[v]} and {k}; "
                                          "put each variable in one tier")
                seen[v] = k
        for i in self.forbid_within:
            if not 0 <= i < len(tiers_):
                raise ValidationError(f"Background(): 'forbid_within' index {i} is not a tier (0..{len(tiers_) - 1})")
        clash = [e for e in self.required if self.forbids(*e)]
        if clash:
            raise ValidationError(f"Background(): required edges {clash} are forbidden by the tiers or "
                                  "'forbidden'; remove one of the two constraints")

    @property
    def variables(self) -> set[str]:
        """Every variable named by the tiers or edge constraints."""
        names = {v for t in self.tiers for v in t}
        return names | {v for e in (*self.required, *self.forbidden) for v in e}

    def tier_of(self, name: str) -> int | None:
        """Tier index of ``name`` (None when it is in no tier)."""
        for k, tier in enumerate(self.tiers):
            if name in tier:
                return k
        return None

    def forbids(self, cause: str, effect: str) -> bool:
        """Whether ``cause --> effect`` is excluded by ``forbidden`` or by the tier order."""
        if (cause, effect) in self.forbidden:
            return True
        tc, te = self.tier_of(cause), self.tier_of(effect)
        if tc is None or te is None:
            return False
        return tc > te or (tc == te and tc in self.forbid_within)

    def check_names(self, names: Sequence[str], func: str) -> None:
        """Raise if the background mentions variables that are not in ``names``."""
        unknown = sorted(self.variables - set(names))
        if unknown:
            raise ValidationError(f"{func}(): 'background' names variables {unknown} that are not in the data; "
                                  f"data has {list(names)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; ``Background(**d)`` rebuilds it."""
        return {"tiers": [list(t) for t in self.tiers], "required": [list(e) for e in self.required],
                "forbidden": [list(e) for e in self.forbidden], "forbid_within": list(self.forbid_within)}

    def to_causallearn(self, name: Callable[[str], str] = str) -> Any:
        """The equivalent ``causallearn`` ``BackgroundKnowledge`` (nodes are matched by name; ``name`` wraps each
        name, e.g. in a type whose hash matches the graph's node names)."""
        from causallearn.graph.GraphNode import GraphNode
        from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

        bk = BackgroundKnowledge()
        for k, tier in enumerate(self.tiers):
            for v in tier:
                bk.add_node_to_tier(GraphNode(name(v)), k)
        bk.forbidden_within_tiers.update(self.forbid_within)
        for a, b in self.forbidden:
            bk.add_forbidden_by_node(GraphNode(name(a)), GraphNode(name(b)))
        for a, b in self.required:
            bk.add_required_by_node(GraphNode(name(a)), GraphNode(name(b)))
        return bk


def tiers(*groups: Sequence[str], required: Iterable[Sequence[str]] = (),
          forbidden: Iterable[Sequence[str]] = ()) -> Background:
    """Build a :class:`Background` from ordered groups of names (earliest first).

    Examples
    --------
    >>> tiers(["z"], ["mass"], ["flux"]).forbids("flux", "z")
    True
    """
    return Background(tiers=tuple(tuple(g) for g in groups), required=tuple(required), forbidden=tuple(forbidden))


def as_background(value: Any, func: str) -> Background | None:
    """Accept None, a Background, a mapping with tiers/required/forbidden, or a list of tiers.

    Examples
    --------
    ``background=`` of :func:`~interpret.causal.discover` also takes a dict or a plain list of tiers:

    >>> as_background([["z"], ["m", "g"]], "discover")
    Background(tiers=(('z',), ('m', 'g')), required=(), forbidden=(), forbid_within=())
    >>> import numpy as np, pandas as pd
    >>> from interpret.causal import discover
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=1000)
    >>> m = z + rng.normal(size=1000)
    >>> df = pd.DataFrame({"z": z, "m": m, "g": m + rng.normal(size=1000)})
    >>> discover(df, background={"required": [("m", "g")]}).edges           # only m --> g is constrained
    [('z', 'm', '---'), ('m', 'g', '-->')]
    """
    if value is None or isinstance(value, Background):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - {"tiers", "required", "forbidden", "forbid_within"}
        if unknown:
            raise ValidationError(f"{func}(): 'background' has unknown keys {sorted(unknown)}; "
                                  "use tiers, required, forbidden, forbid_within")
        return Background(**value)
    if isinstance(value, (list, tuple)) and all(isinstance(t, (list, tuple)) for t in value):
        return Background(tiers=tuple(tuple(t) for t in value))
    raise ValidationError(f"{func}(): 'background' must be a Background, a dict or a list of tiers; "
                          f"got {type(value).__name__}")
