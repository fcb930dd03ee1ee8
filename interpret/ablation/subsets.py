"""Band subsets to evaluate, as boolean keep-masks ``(m, B)`` (True = band kept).

Named specifications:

* ``"leave_one_out"`` - every band removed in turn (Mantis Shrimp-style "without band b");
* ``"single"`` - every band alone (Zhang et al.'s per-band study);
* ``"adjacent_pairs"`` - every pair of neighbouring bands alone, in band order (Zhang et al.);
* ``"all"`` - all 2^B subsets, empty set included;
* an explicit list whose entries are collections of *kept* band names, or dicts ``{"drop": [...]}`` /
  ``{"keep": [...]}`` (e.g. ``[{"drop": ["W1", "W2", "W3", "W4"]}]`` = "without WISE").

The full set always comes first (it is the reference of every ``delta_`` column).

Examples
--------
>>> resolve_subsets("leave_one_out", ("g", "r", "i"), func="demo").astype(int).tolist()
[[1, 1, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_choice
from ..exceptions import ValidationError

__all__ = ["SUBSET_SPECS", "resolve_subsets", "subset_label", "all_masks", "MAX_ALL_BANDS",
           "masks_to_bits", "bits_to_masks"]

SUBSET_SPECS = ("leave_one_out", "single", "adjacent_pairs", "all")
MAX_ALL_BANDS = 16


def all_masks(n_bands: int) -> np.ndarray:
    """All ``2**n_bands`` keep-masks; row ``k`` has bit ``i`` of ``k`` in column ``i``."""
    k = np.arange(2 ** n_bands, dtype=np.int64)[:, None]
    return ((k >> np.arange(n_bands, dtype=np.int64)) & 1).astype(bool)


def _named(spec: str, n: int, func: str) -> list[np.ndarray]:
    check_choice(spec, "subsets", func, SUBSET_SPECS)
    eye = np.eye(n, dtype=bool)
    if spec == "leave_one_out":
        return list(~eye)
    if spec == "single":
        return list(eye)
    if spec == "adjacent_pairs":
        return [eye[i] | eye[i + 1] for i in range(n - 1)]
    if n > MAX_ALL_BANDS:
        raise ValidationError(f"{func}(): subsets='all' over {n} bands is {2 ** n} subsets; at most "
                              f"{MAX_ALL_BANDS} bands, or pass an explicit list")
    return list(all_masks(n))


def _explicit(entry: Any, bands: Sequence[str], func: str) -> np.ndarray:
    if isinstance(entry, Mapping):
        keys = set(entry)
        if keys not in ({"drop"}, {"keep"}):
            raise ValidationError(f"{func}(): subset dicts need exactly one key, 'keep' or 'drop'; got "
                                  f"{sorted(keys)}")
        key = next(iter(keys))
        names = entry[key]
    else:
        key, names = "keep", entry
    if isinstance(names, str):
        names = [names]
    names = [str(b) for b in names]
    unknown = [b for b in names if b not in bands]
    if unknown:
        raise ValidationError(f"{func}(): unknown band(s) {unknown} in 'subsets'; valid bands are "
                              f"{list(bands)}")
    mask = np.array([b in names for b in bands], dtype=bool)
    return ~mask if key == "drop" else mask


def resolve_subsets(subsets: Any, bands: Sequence[str], *, func: str) -> np.ndarray:
    """Keep-masks ``(m, B)`` for ``subsets``, the full set first, duplicates removed (order kept).

    Examples
    --------
    The ``subsets=`` of :func:`~interpret.ablation.band_ablation` become these masks (one row per subset,
    ``True`` = band kept):

    >>> resolve_subsets("adjacent_pairs", ["g", "r", "i"], func="band_ablation").astype(int).tolist()
    [[1, 1, 1], [1, 1, 0], [0, 1, 1]]
    >>> resolve_subsets([["g"], {"drop": ["r"]}, ["g"]], ["g", "r", "i"], func="band_ablation").astype(int).tolist()
    [[1, 1, 1], [1, 0, 0], [1, 0, 1]]
    >>> import numpy as np
    >>> from interpret.ablation import band_ablation
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> band_ablation(lambda a: a.sum(axis=1), x, x.sum(axis=1), bands=["g", "r", "i"], metrics="rmse",
    ...               subsets=[["g"], {"drop": ["r"]}], progress=False).table["label"].tolist()
    ['all', 'g only', '-r']
    """
    n = len(bands)
    if isinstance(subsets, str):
        masks = _named(subsets, n, func)
    elif isinstance(subsets, (list, tuple)) and subsets:
        masks = [_explicit(e, bands, func) for e in subsets]
    else:
        raise ValidationError(f"{func}(): 'subsets' must be one of {list(SUBSET_SPECS)} or a non-empty list "
                              f"of kept-band lists / {{'drop': [...]}} dicts; got {subsets!r}")
    out, seen = [np.ones(n, dtype=bool)], {(True,) * n}
    for m in masks:
        key = tuple(bool(v) for v in m)
        if key not in seen:
            seen.add(key)
            out.append(np.asarray(m, dtype=bool))
    return np.stack(out)


def subset_label(keep: np.ndarray, bands: Sequence[str]) -> str:
    """Short label: ``"all"``, ``"none"``, ``"-u,g"`` (dropped) or ``"u+g only"`` (kept)."""
    kept = [b for b, k in zip(bands, keep) if k]
    dropped = [b for b, k in zip(bands, keep) if not k]
    if not dropped:
        return "all"
    if not kept:
        return "none"
    if len(dropped) <= len(kept):
        return "-" + ",".join(dropped)
    return "+".join(kept) + " only"


def masks_to_bits(masks: np.ndarray) -> np.ndarray:
    """Keep-masks ``(m, B)`` -> int64 bitmasks (bit ``i`` = band ``i`` kept)."""
    return (masks.astype(np.int64) << np.arange(masks.shape[1], dtype=np.int64)).sum(axis=1)


def bits_to_masks(bits: np.ndarray, n_bands: int) -> np.ndarray:
    """int64 bitmasks -> keep-masks ``(m, B)``."""
    bits = np.asarray(bits, dtype=np.int64)[:, None]
    return ((bits >> np.arange(n_bands, dtype=np.int64)) & 1).astype(bool)

