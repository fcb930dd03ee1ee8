"""Fill strategies: what a removed band is replaced with when the trained model is probed ("mask" mode).

Every strategy is one small class with a ``name``, a ``description`` (the fill it uses, shown in results)
and a ``fit(inputs, layout, seed)`` that returns a :class:`Filler` holding the statistics it needs, so that
every subset is filled from the same numbers. The statistics come from ``reference`` data when given
(e.g. the training set), else from ``x`` itself.

Choosing the fill
-----------------
No fill means "the band is absent" to a network that always saw it; each answers a different question:

* ``zero`` - 0 in every removed slot. For background-subtracted fluxes and images this is "no flux"; for
  magnitudes it is an absurdly *bright* source (mag 0). It is also ambiguous where real data already has
  empty bands: about 10 % of Mantis Shrimp's GALEX cutouts are all zeros, so a model trained on such data
  has learnt "zero = not observed" and zero-filling probes that learnt missing-data path rather than the
  absence of information. Use it when that is the question.
* ``mean`` - the per-element mean over galaxies (the mean image of the channel, the mean magnitude of the
  column). Stays on the data manifold on average; the default.
* ``median`` - the per-element median; robust to the heavy tails of flux distributions.
* ``noise`` - pure noise at the band's noise level: ``loc + sigma * N(0, 1)`` drawn per galaxy. For images
  ``loc`` is the channel's median pixel (sky level) and ``sigma`` the pixel noise estimated from
  neighbouring-pixel differences (robust to the galaxy itself), i.e. the band looks observed but blank.
  For catalogue columns ``sigma`` defaults to the column's robust scatter (1.4826 MAD) around its median,
  i.e. an uninformative draw; give ``sigma`` (e.g. the typical magnitude error) to set it.
* ``inpaint`` - per galaxy, the removed band is *predicted from the kept ones* by a fitted linear regressor
  (the conditional mean of a Gaussian fitted to the per-element-mean-centred band vectors: per pixel for
  images, per galaxy for catalogues). Colours stay plausible, so the model sees a typical galaxy with the
  same kept-band photometry; what is lost is only what the kept bands cannot predict. Because the fill
  depends on the kept bands, a band the model ignores can still change ``v(S)`` (it helps reconstruct the
  removed ones): Shapley values under inpainting are *conditional* and the dummy property (ignored band ->
  value 0) holds only for the other, interventional fills (Janzing et al. 2019, arXiv:1910.13413).

Examples
--------
>>> sorted(STRATEGIES)
['inpaint', 'mean', 'median', 'noise', 'zero']
>>> get_strategy("mean").name
'mean'
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .._validation import as_generator, check_choice
from ..exceptions import ValidationError
from .band_layout import BandLayout, ModelInputs, Slot

__all__ = ["FillStrategy", "Filler", "StaticFiller", "Zero", "Mean", "Median", "Noise", "Inpaint",
           "STRATEGIES", "register_strategy", "get_strategy"]

STRATEGIES: dict[str, type[FillStrategy]] = {}
_STAT_ROWS = 5000          # galaxies (seeded sample) used to estimate noise levels


def register_strategy(cls: type[FillStrategy]) -> type[FillStrategy]:
    """Class decorator adding a strategy to :data:`STRATEGIES` under ``cls.name``.

    Examples
    --------
    Registering makes a strategy available by name (a full custom strategy: :class:`FillStrategy`):

    >>> @register_strategy
    ... class TrainingMedian(Median):
    ...     name = "training_median"
    >>> get_strategy("training_median")
    TrainingMedian()
    >>> del STRATEGIES["training_median"]                 # registrations are global: undo the example's
    """
    STRATEGIES[cls.name] = cls
    return cls


def get_strategy(strategy: str | FillStrategy, func: str = "band_ablation") -> FillStrategy:
    """A strategy instance from a name in :data:`STRATEGIES` or an instance (returned unchanged).

    Examples
    --------
    >>> get_strategy("median"), get_strategy("median").description
    (Median(), 'per-element median over the reference galaxies')
    >>> noise = Noise(sigma={"u": 0.3})
    >>> get_strategy(noise) is noise                      # instances pass through unchanged
    True
    >>> get_strategy("blank")
    Traceback (most recent call last):
        ...
    interpret.exceptions.ValidationError: band_ablation(): unknown strategy 'blank'; valid values are ...
    """
    if isinstance(strategy, FillStrategy):
        return strategy
    check_choice(strategy, "strategy", func, sorted(STRATEGIES))
    return STRATEGIES[strategy]()


def _take(arr: np.ndarray, slot: Slot) -> np.ndarray:
    return np.take(arr, slot.position, axis=slot.axis)


def _put(view: np.ndarray, slot: Slot, value: np.ndarray) -> None:
    index = [slice(None)] * view.ndim
    index[slot.axis] = slot.position
    view[tuple(index)] = value


class Filler:
    """Fills removed bands of a block of rows, in place. Built by :meth:`FillStrategy.fit`."""

    def __init__(self, layout: BandLayout):
        self.layout = layout

    def fill(self, arrays: list[np.ndarray], rows: np.ndarray, keep: np.ndarray) -> None:
        """Overwrite the slots of the bands with ``keep[b] == False`` in ``arrays`` (rows ``rows``)."""
        raise NotImplementedError


class StaticFiller(Filler):
    """A fill that does not depend on the kept bands: ``values(slot, rows)`` per removed slot."""

    def __init__(self, layout: BandLayout, values: Any):
        super().__init__(layout)
        self.values = values

    def fill(self, arrays: list[np.ndarray], rows: np.ndarray, keep: np.ndarray) -> None:
        for band, kept in zip(self.layout.bands, keep):
            if not kept:
                for s in self.layout.slots[band]:
                    _put(arrays[s.input], s, self.values(s, rows))


class FillStrategy:
    """Base class: a named fill with a documented choice of value (see the module docstring).

    Examples
    --------
    A custom strategy: ``fit`` returns a :class:`StaticFiller` whose ``values(slot, rows)`` gives the fill;
    here removed magnitude columns are set to a faint limit, i.e. "not detected":

    >>> import numpy as np
    >>> from interpret.ablation import band_ablation
    >>> @register_strategy
    ... class Faint(FillStrategy):
    ...     name = "faint"
    ...     description = "magnitude 25 (undetected) in every removed slot"
    ...     def fit(self, inputs, layout, seed=None):
    ...         return StaticFiller(layout, lambda slot, rows: 25.0)
    >>> x = np.random.default_rng(0).normal(20.0, 1.0, size=(100, 2))
    >>> model = lambda mags: mags.mean(axis=1)
    >>> r = band_ablation(model, x, model(x), bands=["g", "r"], strategy="faint", metrics="rmse", progress=False)
    >>> r.table["rmse"].round(1).tolist()
    [0.0, 2.6, 2.5]
    >>> del STRATEGIES["faint"]                           # registrations are global: undo the example's
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def fit(self, inputs: ModelInputs, layout: BandLayout, seed: Any = None) -> Filler:
        """Compute the fill statistics from ``inputs`` (reference data) for every slot of ``layout``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@register_strategy
class Zero(FillStrategy):
    """Fill removed bands with 0 (ambiguous for magnitudes and for data with empty bands; see module)."""

    name = "zero"
    description = "0 in every removed slot"

    def fit(self, inputs: ModelInputs, layout: BandLayout, seed: Any = None) -> Filler:
        return StaticFiller(layout, lambda s, rows: 0)


class _Statistic(FillStrategy):
    """Per-element statistic over galaxies of each slot, broadcast to every row."""

    def _stat(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, inputs: ModelInputs, layout: BandLayout, seed: Any = None) -> Filler:
        stats = {s: self._stat(_take(inputs.arrays[s.input], s)) for b in layout.bands
                 for s in layout.slots[b]}
        return StaticFiller(layout, lambda s, rows: stats[s])


@register_strategy
class Mean(_Statistic):
    """Fill removed bands with their per-element mean over galaxies (mean image / mean column value)."""

    name = "mean"
    description = "per-element mean over the reference galaxies"

    def _stat(self, values: np.ndarray) -> np.ndarray:
        return values.mean(axis=0)


@register_strategy
class Median(_Statistic):
    """Fill removed bands with their per-element median over galaxies."""

    name = "median"
    description = "per-element median over the reference galaxies"

    def _stat(self, values: np.ndarray) -> np.ndarray:
        return np.median(values, axis=0)


@register_strategy
class Noise(FillStrategy):
    """Replace removed bands by pure noise at the band's noise level: ``loc + sigma * N(0, 1)``.

    Parameters
    ----------
    sigma : float or mapping of band -> float, optional
        Noise level per band (same units as the data). Default: estimated - the pixel noise from
        neighbouring-element differences for images/spectra, the robust column scatter for catalogues.
    loc : float or mapping of band -> float, optional
        Centre of the noise. Default: the slot's median value (sky level for images).
    pool : int, default 4096
        Independent noise realisations per slot; galaxy ``r`` uses realisation ``r % pool`` (keeps memory
        bounded for large samples; results do not depend on batch sizes). ``loc`` and ``sigma`` are
        estimated from at most 5000 galaxies (a seeded sample).
    """

    name = "noise"
    description = "loc + sigma * N(0,1) per galaxy; sigma = band noise level (estimated or given)"

    def __init__(self, sigma: float | Mapping[str, float] | None = None,
                 loc: float | Mapping[str, float] | None = None, pool: int = 4096):
        self.sigma, self.loc, self.pool = sigma, loc, int(pool)

    def __repr__(self) -> str:
        return f"Noise(sigma={self.sigma!r}, loc={self.loc!r})"

    def fit(self, inputs: ModelInputs, layout: BandLayout, seed: Any = None) -> Filler:
        rng = as_generator(seed)
        size = max(1, min(self.pool, inputs.n))
        fields: dict[Slot, np.ndarray] = {}
        sample = np.sort(rng.choice(inputs.n, _STAT_ROWS, replace=False)) if inputs.n > _STAT_ROWS else None
        for band in layout.bands:
            for s in layout.slots[band]:
                values = _take(inputs.arrays[s.input] if sample is None else inputs.arrays[s.input][sample], s)
                loc = _given(self.loc, band, "loc")
                sigma = _given(self.sigma, band, "sigma")
                loc = float(np.median(values)) if loc is None else loc
                sigma = _noise_level(values) if sigma is None else sigma
                z = rng.standard_normal((size, *values.shape[1:]))
                fields[s] = (loc + sigma * z).astype(values.dtype if values.dtype.kind == "f" else float)
        return StaticFiller(layout, lambda s, rows: fields[s][np.asarray(rows) % size])


def _given(value: Any, band: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return None if band not in value else float(value[band])
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"Noise(): '{name}' must be a number or a mapping band -> number; "
                              f"got {value!r}") from exc


def _noise_level(values: np.ndarray) -> float:
    """Robust noise sigma: from adjacent-element differences when the slot has a spatial/spectral axis."""
    v = np.asarray(values, dtype=float)
    if v.ndim >= 2 and v.shape[-1] > 2:
        diffs = np.diff(v, axis=-1).ravel()
        return float(1.4826 * np.median(np.abs(diffs - np.median(diffs))) / np.sqrt(2.0))
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


@register_strategy
class Inpaint(FillStrategy):
    """Predict each removed band from the kept ones, per galaxy, with a fitted linear regressor.

    For every (input, band axis) the band vectors - per galaxy for catalogue columns, per pixel/element for
    images and spectra - are centred on their per-element mean and a Gaussian is fitted to them. A removed
    set ``D`` given the kept set ``K`` (which includes non-band entries of the same axis) is filled with the
    conditional mean ``m_D + (x_K - m_K) @ solve(C_KK + ridge, C_KD)``: the least-squares linear
    regression of ``D`` on ``K``. With nothing kept on that axis this is the per-element mean.

    Parameters
    ----------
    ridge : float, default 1e-6
        Relative Tikhonov regularisation added to ``C_KK`` (times its mean diagonal).
    max_vectors : int, default 200_000
        About this many band vectors (all pixels of a seeded sample of galaxies) fit each covariance.
    """

    name = "inpaint"
    description = "conditional mean of the removed bands given the kept ones (fitted linear regressor)"

    def __init__(self, ridge: float = 1e-6, max_vectors: int = 200_000):
        self.ridge, self.max_vectors = float(ridge), int(max_vectors)

    def __repr__(self) -> str:
        return f"Inpaint(ridge={self.ridge!r})"

    def fit(self, inputs: ModelInputs, layout: BandLayout, seed: Any = None) -> Filler:
        rng = as_generator(seed)
        groups = {}
        for (i, axis), members in layout.axis_groups().items():
            arr = np.moveaxis(inputs.arrays[i], axis, -1)            # a view: no copy of large cutouts
            mean = arr.mean(axis=0, dtype=np.float64)
            per_row = max(1, int(np.prod(arr.shape[1:-1])))
            n_rows = min(len(arr), -(-self.max_vectors // per_row))
            rows = np.sort(rng.choice(len(arr), n_rows, replace=False)) if n_rows < len(arr) else slice(None)
            vec = (arr[rows] - mean).reshape(-1, arr.shape[-1])
            cov = vec.T @ vec / max(len(vec) - 1, 1)
            groups[(i, axis)] = (members, mean, cov)
        return _InpaintFiller(layout, groups, self.ridge)


class _InpaintFiller(Filler):
    def __init__(self, layout: BandLayout, groups: dict, ridge: float):
        super().__init__(layout)
        self.groups, self.ridge = groups, ridge
        self._coef: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._band_index = {b: j for j, b in enumerate(layout.bands)}

    def _coefficients(self, key: tuple[int, int], dropped: tuple[int, ...]):
        cache_key = (key, dropped)
        if cache_key not in self._coef:
            _, _, cov = self.groups[key]
            kept = np.setdiff1d(np.arange(cov.shape[0]), dropped)
            d = list(dropped)
            if kept.size:
                ckk = cov[np.ix_(kept, kept)]
                ckk = ckk + self.ridge * max(np.trace(ckk) / kept.size, 1e-300) * np.eye(kept.size)
                w = np.linalg.solve(ckk, cov[np.ix_(kept, d)])
            else:
                w = np.zeros((0, len(d)))
            self._coef[cache_key] = (kept, np.asarray(d), w)
        return self._coef[cache_key]

    def fill(self, arrays: list[np.ndarray], rows: np.ndarray, keep: np.ndarray) -> None:
        for (i, axis), (members, mean, _) in self.groups.items():
            dropped = tuple(sorted(p for b, p in members if not keep[self._band_index[b]]))
            if not dropped:
                continue
            kept, d, w = self._coefficients((i, axis), dropped)
            view = np.moveaxis(arrays[i], axis, -1)     # a view: writes go to arrays[i]
            pred = mean[..., d] + (view[..., kept] - mean[..., kept]) @ w if kept.size else mean[..., d]
            view[..., d] = pred
