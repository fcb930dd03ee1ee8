"""The parameter base of every study: a frozen dataclass validated once, at the config boundary.

A study declares its parameters as a frozen dataclass deriving from :class:`StudyParams`, with a type and a
default per field and a one-line comment each. :meth:`StudyParams.from_mapping` builds it from a config's
``[params]`` table: unknown keys are refused (naming the valid ones), values are checked against the field
types (``bool`` is never an ``int``, an ``int`` is accepted for a ``float``, TOML lists become tuples), so the
steps never re-validate and never see a mutable dict.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class P(StudyParams):
...     alpha: float = 0.01
...     bands: tuple[str, ...] = ("g", "r")
>>> P.from_mapping({"alpha": 1, "bands": ["u", "g"]})
P(alpha=1.0, bands=('u', 'g'))
>>> P.from_mapping({"alpah": 0.1})
Traceback (most recent call last):
...
interpret.exceptions.ConfigError: [params]: unknown key(s) 'alpah'; valid keys are alpha, bands
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from ..exceptions import ConfigError

__all__ = ["StudyParams"]


def _check(value: Any, tp: Any, name: str, where: str) -> Any:
    """``value`` converted to the field type ``tp`` (lists -> tuples, int -> float), or a ConfigError."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arm in typing.get_args(tp):
            if arm is type(None):
                if value is None:
                    return None
                continue
            try:
                return _check(value, arm, name, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: '{name}' may not be None")
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"{where}: '{name}' must be one of {', '.join(map(repr, typing.get_args(tp)))}; "
                              f"got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: '{name}' must be a list; got {value!r}")
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        return tuple(_check(v, inner, f"{name}[{i}]", where) for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: '{name}' must be a table; got {value!r}")
        return types.MappingProxyType(dict(value))
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: '{name}' must be true or false; got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: '{name}' must be an integer; got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: '{name}' must be a number; got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{name}' must be a string; got {value!r}")
        return value
    return value


@dataclasses.dataclass(frozen=True)
class StudyParams:
    """Base of a study's parameters: a frozen dataclass; build it with :meth:`from_mapping`."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None = None, *, where: str = "[params]") -> StudyParams:
        """Validated parameters from a config table; unknown keys and wrong types raise ConfigError."""
        values = dict(values or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        bad = sorted(set(values) - set(fields))
        if bad:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, bad))}; valid keys are "
                              f"{', '.join(sorted(fields))}")
        hints = typing.get_type_hints(cls)
        kwargs = {k: _check(v, hints[k], k, where) for k, v in values.items()}
        params = cls(**kwargs)
        params.validate()
        return params

    def validate(self) -> None:
        """Cross-field checks of a study (override; raise ConfigError)."""

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (tuples as lists), e.g. for the manifest."""
        def plain(v: Any) -> Any:
            if isinstance(v, tuple):
                return [plain(x) for x in v]
            if isinstance(v, Mapping):
                return {k: plain(x) for k, x in v.items()}
            return v
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> StudyParams:
        """A copy with some parameters changed (validated like a config)."""
        return type(self).from_mapping({**self.to_dict(), **changes})
