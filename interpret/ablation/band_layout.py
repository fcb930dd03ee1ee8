"""Where each band lives in a model's inputs: image channels, catalogue columns, or several inputs at once.

A :class:`BandLayout` maps every band name to one or more :class:`Slot` objects ``(input, axis,
position)``: the band is the slice ``x[input].take(position, axis=axis)``. A band present both as an image
channel and as a magnitude of a two-input model has two slots; removing the band removes both. A slot may
be shared: a colour g-r listed under both g and r is removed when either band is removed.

Examples
--------
>>> import numpy as np
>>> images, mags = np.zeros((4, 3, 8, 8)), np.zeros((4, 3))
>>> inputs = ModelInputs.from_x((images, mags), func="demo")
>>> layout = resolve_layout(inputs, ["g", "r", "i"], func="demo")
>>> layout.slots["r"]
(Slot(input=0, axis=1, position=1), Slot(input=1, axis=1, position=1))
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._validation import check_finite, check_same_length
from ..exceptions import ValidationError

__all__ = ["Slot", "BandLayout", "ModelInputs", "resolve_layout", "band_names"]


class Slot(NamedTuple):
    """One place a band occupies: ``inputs[input].take(position, axis=axis)``."""

    input: int
    axis: int
    position: int


def band_names(bands: Any, func: str) -> tuple[str, ...]:
    """Band names from a ``BandSet`` (``.names``), a sequence of names, or a single-band string."""
    if bands is None:
        raise ValidationError(f"{func}(): 'bands' is required; pass a BandSet or a list of band names")
    if isinstance(bands, str):
        raise ValidationError(f"{func}(): 'bands' must be a BandSet or a list of names; got the string "
                              f"{bands!r} (use ip.data.bands.get_bandset({bands!r}) or a list)")
    names = tuple(str(b) for b in (bands.names if hasattr(bands, "names") else bands))
    if not names:
        raise ValidationError(f"{func}(): 'bands' is empty; give at least one band name")
    dup = sorted({b for b in names if names.count(b) > 1})
    if dup:
        raise ValidationError(f"{func}(): 'bands' has duplicate names {dup}; give each band once")
    return names


@dataclasses.dataclass
class ModelInputs:
    """A model's input(s) as a list of numpy arrays, plus how to rebuild the original container.

    ``kind`` is ``"array"``, ``"frame"`` (a DataFrame: one array, columns kept), ``"tuple"`` or
    ``"dict"`` (multi-input models).
    """

    arrays: list[np.ndarray]
    kind: str
    keys: tuple[Any, ...] = ()
    columns: tuple[Any, ...] = ()

    @classmethod
    def from_x(cls, x: Any, func: str) -> ModelInputs:
        """Normalise ``x`` (array, DataFrame, tuple/list of arrays, or dict of arrays)."""
        if isinstance(x, pd.DataFrame):
            arr = _numeric(x.to_numpy(), "x", func)
            return cls([arr], "frame", columns=tuple(x.columns))
        if isinstance(x, Mapping):
            keys = tuple(x)
            arrays = [_numeric(x[k], f"x[{k!r}]", func) for k in keys]
            kind = "dict"
        elif isinstance(x, tuple) or (isinstance(x, list) and x and all(
                hasattr(a, "shape") for a in x)):
            keys = tuple(range(len(x)))
            arrays = [_numeric(a.to_numpy() if isinstance(a, pd.DataFrame) else a, f"x[{i}]", func)
                      for i, a in enumerate(x)]
            kind = "tuple"
        else:
            return cls([_numeric(x, "x", func)], "array")
        if not arrays:
            raise ValidationError(f"{func}(): 'x' holds no inputs; pass an array or a tuple/dict of arrays")
        check_same_length(func, **{f"x[{k!r}]": a for k, a in zip(keys, arrays)})
        return cls(arrays, kind, keys=keys)

    @property
    def n(self) -> int:
        """Number of rows (galaxies)."""
        return int(self.arrays[0].shape[0])

    def rebuild(self, arrays: Sequence[np.ndarray], columns: Sequence[Any] | None = None) -> Any:
        """Wrap ``arrays`` in the original container (tuple, dict, DataFrame or bare array)."""
        if self.kind == "frame":
            return pd.DataFrame(arrays[0], columns=list(self.columns if columns is None else columns))
        if self.kind == "dict":
            return dict(zip(self.keys, arrays))
        if self.kind == "tuple":
            return tuple(arrays)
        return arrays[0]

    def take(self, rows: Any) -> ModelInputs:
        """The same inputs restricted to ``rows`` (slice or index array)."""
        return dataclasses.replace(self, arrays=[a[rows] for a in self.arrays])

    def input_index(self, key: Any, func: str) -> int:
        """Index of an input given by position or dict key."""
        if self.kind == "dict" and key in self.keys:
            return self.keys.index(key)
        if isinstance(key, (int, np.integer)) and 0 <= key < len(self.arrays):
            return int(key)
        raise ValidationError(f"{func}(): band_layout refers to input {key!r}, but x has inputs "
                              f"{list(self.keys) or [0]}")


def _numeric(a: Any, name: str, func: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind in "biu":
        arr = arr.astype(float)
    if arr.dtype.kind != "f" or arr.ndim < 1:
        raise ValidationError(f"{func}(): '{name}' must be a numeric array with one row per galaxy; got "
                              f"dtype {arr.dtype} and shape {arr.shape}")
    return check_finite(arr, name, func)


@dataclasses.dataclass(frozen=True)
class BandLayout:
    """Band name -> the slots it occupies, in the order of ``bands``.

    Examples
    --------
    A layout places each band explicitly; pass it as ``band_layout=`` when the band axis alone cannot say
    where a band is (here band ``g`` is channel 0 of the images and column 1 of the magnitudes):

    >>> import numpy as np
    >>> from interpret.ablation import band_ablation
    >>> from interpret.ablation.band_layout import BandLayout, Slot
    >>> rng = np.random.default_rng(0)
    >>> x = (rng.normal(size=(100, 2, 3, 3)), rng.normal(size=(100, 2)))      # (images, magnitudes)
    >>> def model(img, mag):
    ...     return img[:, 0].mean(axis=(1, 2)) + mag[:, 1]                    # uses band g only
    >>> layout = BandLayout(("g", "r"), {"g": (Slot(0, 1, 0), Slot(1, 1, 1)),
    ...                                  "r": (Slot(0, 1, 1), Slot(1, 1, 0))})
    >>> t = band_ablation(model, x, model(*x), band_layout=layout, metrics="rmse", progress=False).table
    >>> t[["label", "rmse"]].round(2).values.tolist()
    [['all', 0.0], ['-g', 0.98], ['-r', 0.0]]
    """

    bands: tuple[str, ...]
    slots: dict[str, tuple[Slot, ...]]

    def axis_groups(self) -> dict[tuple[int, int], list[tuple[str, int]]]:
        """(input, axis) -> [(band, position), ...]: bands sharing one band axis of one input."""
        groups: dict[tuple[int, int], list[tuple[str, int]]] = {}
        for band in self.bands:
            for s in self.slots[band]:
                groups.setdefault((s.input, s.axis), []).append((band, s.position))
        return groups

    def select(self, inputs: ModelInputs, keep: np.ndarray) -> Any:
        """The inputs with the dropped bands' slots deleted (for retraining), in the original container."""
        drop: dict[tuple[int, int], list[int]] = {}
        for band, kept in zip(self.bands, keep):
            if not kept:
                for s in self.slots[band]:
                    drop.setdefault((s.input, s.axis), []).append(s.position)
        arrays = list(inputs.arrays)
        for (i, axis), positions in drop.items():
            arrays[i] = np.delete(arrays[i], positions, axis=axis)
        columns = None
        if inputs.kind == "frame":
            gone = set(drop.get((0, 1), []))
            columns = [c for j, c in enumerate(inputs.columns) if j not in gone]
        return inputs.rebuild(arrays, columns)


def resolve_layout(inputs: ModelInputs, bands: Any, *, band_axis: int | Sequence[int | None] | None = None,
                   band_layout: BandLayout | Mapping[str, Any] | None = None, func: str) -> BandLayout:
    """Build and check the :class:`BandLayout` of ``bands`` in ``inputs``.

    Parameters
    ----------
    inputs : ModelInputs
        The normalised model inputs.
    bands : BandSet or sequence of str or None
        Band names (None: the keys of ``band_layout``).
    band_axis : int or sequence of (int or None), optional
        Axis holding the bands, default 1 (channels of ``(n, B, H, W)`` images, columns of ``(n, B)``
        tables). For several inputs, one entry per input (None: that input holds no bands); an int applies
        to every input. The axis length must equal the number of bands.
    band_layout : BandLayout or mapping, optional
        Explicit placement: ``{band: [(input, axis, position), ...]}`` (a single slot may be given without
        the list; ``input`` is a position or dict key). Overrides ``band_axis``.
    func : str
        Calling function, for messages.

    Examples
    --------
    >>> import numpy as np
    >>> from interpret.ablation.band_layout import ModelInputs
    >>> x = {"img": np.zeros((10, 3, 8, 8)), "mag": np.zeros((10, 3)), "z": np.zeros((10, 1))}
    >>> inputs = ModelInputs.from_x(x, "band_ablation")
    >>> layout = resolve_layout(inputs, ["g", "r", "i"], band_axis=[1, 1, None], func="band_ablation")
    >>> layout.slots["r"]                                     # band r: channel 1 of "img", column 1 of "mag"
    (Slot(input=0, axis=1, position=1), Slot(input=1, axis=1, position=1))
    >>> resolve_layout(inputs, ["g", "r"], band_axis=[1, 1, None], func="band_ablation")
    Traceback (most recent call last):
        ...
    interpret.exceptions.ValidationError: band_ablation(): x['img'] has shape (10, 3, 8, 8): axis 1 has 3 entries but 2 bands were given ...
    """
    if isinstance(band_layout, BandLayout):
        layout = band_layout
        if bands is not None and band_names(bands, func) != layout.bands:
            layout = BandLayout(band_names(bands, func), {b: layout.slots[b] for b in band_names(bands, func)
                                                          if b in layout.slots})
    elif band_layout is not None:
        layout = _from_mapping(inputs, bands, band_layout, func)
    elif inputs.kind == "frame":
        layout = _from_columns(inputs, band_names(bands, func), func)
    else:
        layout = _from_axes(inputs, band_names(bands, func), band_axis, func)
    _check_layout(inputs, layout, func)
    return layout


def _from_columns(inputs: ModelInputs, names: tuple[str, ...], func: str) -> BandLayout:
    cols = [str(c) for c in inputs.columns]
    missing = [b for b in names if b not in cols]
    if missing:
        raise ValidationError(f"{func}(): unknown band(s) {missing}: not columns of 'x'; the columns are "
                              f"{cols}")
    return BandLayout(names, {b: (Slot(0, 1, cols.index(b)),) for b in names})


def _from_axes(inputs: ModelInputs, names: tuple[str, ...], band_axis: Any, func: str) -> BandLayout:
    n_in = len(inputs.arrays)
    axes = [1 if band_axis is None else band_axis] * n_in if not isinstance(band_axis, (list, tuple)) \
        else list(band_axis)
    if len(axes) != n_in:
        raise ValidationError(f"{func}(): 'band_axis' has {len(axes)} entries for {n_in} inputs; give one "
                              f"per input (None for an input without bands)")
    slots: dict[str, list[Slot]] = {b: [] for b in names}
    for i, (arr, axis) in enumerate(zip(inputs.arrays, axes)):
        if axis is None:
            continue
        axis = _check_axis(axis, arr, i, func)
        if arr.shape[axis] != len(names):
            where = "x" if n_in == 1 else f"x[{inputs.keys[i]!r}]"
            raise ValidationError(
                f"{func}(): {where} has shape {arr.shape}: axis {axis} has {arr.shape[axis]} entries but "
                f"{len(names)} bands were given ({list(names)}); pass the matching bands, set band_axis, "
                f"or give band_layout={{band: [(input, axis, position), ...]}}")
        for p, b in enumerate(names):
            slots[b].append(Slot(i, axis, p))
    return BandLayout(names, {b: tuple(v) for b, v in slots.items()})


def _check_axis(axis: Any, arr: np.ndarray, i: int, func: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValidationError(f"{func}(): 'band_axis' entries must be integers or None; got {axis!r}")
    axis = int(axis) % arr.ndim if -arr.ndim <= axis < arr.ndim else -1
    if axis <= 0:
        raise ValidationError(f"{func}(): 'band_axis' must be a valid non-row axis (>= 1) of input {i} "
                              f"with shape {arr.shape}")
    return axis


def _from_mapping(inputs: ModelInputs, bands: Any, mapping: Mapping[str, Any], func: str) -> BandLayout:
    names = band_names(bands, func) if bands is not None else tuple(str(b) for b in mapping)
    missing = [b for b in names if b not in mapping]
    if missing:
        raise ValidationError(f"{func}(): band(s) {missing} are not in band_layout (which has "
                              f"{list(mapping)}); add their slots or drop them from 'bands'")
    slots = {}
    for b in names:
        raw = mapping[b]
        entries: Iterable[Any] = [raw] if _is_slot(raw) else raw
        slots[b] = tuple(_to_slot(inputs, e, b, func) for e in entries)
        if not slots[b]:
            raise ValidationError(f"{func}(): band_layout[{b!r}] is empty; give at least one slot")
    return BandLayout(names, slots)


def _is_slot(raw: Any) -> bool:
    return isinstance(raw, (tuple, Slot)) and len(raw) == 3 and all(
        isinstance(v, (int, np.integer, str)) for v in raw)


def _to_slot(inputs: ModelInputs, entry: Any, band: str, func: str) -> Slot:
    if not _is_slot(entry):
        raise ValidationError(f"{func}(): band_layout[{band!r}] entries must be (input, axis, position) "
                              f"tuples; got {entry!r}")
    i = inputs.input_index(entry[0], func)
    axis = _check_axis(entry[1], inputs.arrays[i], i, func)
    pos = int(entry[2])
    return Slot(i, axis, pos)


def _check_layout(inputs: ModelInputs, layout: BandLayout, func: str) -> None:
    # A slot may belong to several bands (a colour g-r, derived from g and r): it is removed when any of
    # them is removed. Within one band each slot appears once.
    for b in layout.bands:
        if len(set(layout.slots[b])) != len(layout.slots[b]):
            raise ValidationError(f"{func}(): band_layout[{b!r}] lists a slot more than once")
        for s in layout.slots[b]:
            size = inputs.arrays[s.input].shape[s.axis]
            if not 0 <= s.position < size:
                raise ValidationError(f"{func}(): band {b!r} is placed at position {s.position} of axis "
                                      f"{s.axis} of input {s.input}, which has only {size} entries")
