"""Photometric bands: names, surveys, real transmission curves (speclite) and AB synthetic photometry.

Every standard set takes its filter curves from `speclite <https://speclite.readthedocs.io>`_ (BSD-3),
which ships the published responses: ``sdss2010`` (Doi et al. 2010, with atmosphere), ``wise2010``
(Jarrett et al. 2011), ``hsc2017``, ``lsst2023``, ``decam2014``, ``panstarrs`` (Tonry et al. 2012),
``galex`` and ``twomass`` (Cohen et al. 2003). Effective wavelengths are *pivot* wavelengths
:math:`\\lambda_p = \\sqrt{\\int R\\,\\lambda\\,d\\lambda / \\int R\\,\\lambda^{-1}\\,d\\lambda}` computed
from those curves (Tokunaga & Vacca 2005), never typed by hand.

The optional ``depth`` is a typical 5σ point-source limiting AB magnitude for the survey (SDSS: Abazajian
et al. 2009; AllWISE/unWISE: Cutri et al. 2013, Schlafly et al. 2019; HSC-SSP Wide: Aihara et al. 2018;
Pan-STARRS1 3π: Chambers et al. 2016; GALEX AIS: Bianchi et al. 2014; Legacy Surveys: Dey et al. 2019;
LSST 10-year: Ivezić et al. 2019; 2MASS: Skrutskie et al. 2006, Vega→AB with Blanton & Roweis 2007).
Depths are indicative only (used by the mock universe's noise model).

Examples
--------
>>> from interpret.data.bands import get_bandset
>>> sdss = get_bandset("sdss")
>>> sdss.names
('u', 'g', 'r', 'i', 'z')
>>> round(float(sdss["r"].wavelength))
6177
>>> get_bandset("sdss+wise").names[-2:]
('W3', 'W4')
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd

from ..exceptions import ValidationError

__all__ = [
    "Band",
    "BandSet",
    "get_bandset",
    "SURVEYS",
    "SDSS",
    "WISE",
    "UNWISE",
    "HSC",
    "PANSTARRS",
    "GALEX",
    "LEGACY",
    "LSST",
    "TWOMASS",
]

#: Speed of light in Angstrom / s.
_C_ANGSTROM = 2.99792458e18
#: AB zero point: 3631 Jy in erg / s / cm^2 / Hz.
_AB_FNU = 3631e-23
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz


@functools.cache
def _response(speclite_name: str) -> Any:
    """Load (once) the speclite FilterResponse called ``speclite_name`` ("group-band")."""
    import speclite.filters

    return speclite.filters.load_filter(speclite_name)


@functools.cache
def _curve(speclite_name: str) -> tuple[np.ndarray, np.ndarray]:
    resp = _response(speclite_name)
    wave = np.asarray(resp.wavelength, dtype=float)
    thru = np.asarray(resp.response, dtype=float)
    wave.setflags(write=False)
    thru.setflags(write=False)
    return wave, thru


@functools.cache
def _pivot_wavelength(speclite_name: str) -> float:
    wave, thru = _curve(speclite_name)
    num = _trapezoid(thru * wave, wave)
    den = _trapezoid(thru / wave, wave)
    return float(np.sqrt(num / den))


@dataclass(frozen=True)
class Band:
    """One photometric band.

    Parameters
    ----------
    name : str
        Short name, unique within a :class:`BandSet` (``"g"``, ``"W1"``, ``"NUV"``, ``"Ks"``).
    survey : str
        Survey the band belongs to (``"sdss"``, ``"wise"``, ...); disambiguates shared letters.
    wavelength : float
        Pivot wavelength in Angstrom.
    speclite_name : str or None, default None
        speclite filter name (``"sdss2010-r"``); None for a band without a curve.
    depth : float or None, default None
        Typical 5σ point-source depth, AB magnitude.
    """

    name: str
    survey: str
    wavelength: float
    speclite_name: str | None = None
    depth: float | None = None

    @property
    def transmission(self) -> tuple[np.ndarray, np.ndarray]:
        """(wavelength in Angstrom, response) arrays of the filter curve, loaded lazily from speclite."""
        if self.speclite_name is None:
            raise ValidationError(f"Band.transmission: band {self.name!r} ({self.survey}) has no filter curve")
        return _curve(self.speclite_name)

    @property
    def label(self) -> str:
        """Display label, e.g. ``"sdss g"``."""
        return f"{self.survey} {self.name}"


def _make_band(name: str, survey: str, speclite_name: str, depth: float | None) -> Band:
    return Band(name=name, survey=survey, wavelength=_pivot_wavelength(speclite_name),
                speclite_name=speclite_name, depth=depth)


class BandSet(Sequence):
    """An immutable, ordered set of :class:`Band` with unique names.

    Index by position (``bs[0]``), by name (``bs["r"]``) or by slice; ``bs1 + bs2`` concatenates.

    Parameters
    ----------
    bands : iterable of Band
        The bands, in order (for images: channel order).

    Examples
    --------
    >>> from interpret.data.bands import SDSS, WISE
    >>> bs = SDSS + WISE
    >>> len(bs), bs.index("W1"), bs.subset(["r", "W1"]).names
    (9, 5, ('r', 'W1'))
    """

    __slots__ = ("_bands", "_index")

    def __init__(self, bands: Iterable[Band]):
        bands = tuple(bands)
        for b in bands:
            if not isinstance(b, Band):
                raise ValidationError(f"BandSet(): 'bands' must hold Band objects; got {type(b).__name__}")
        index: dict[str, int] = {}
        for i, b in enumerate(bands):
            if b.name in index:
                other = bands[index[b.name]]
                raise ValidationError(
                    f"BandSet(): band name {b.name!r} appears twice ({other.survey} and {b.survey}); "
                    "band names must be unique within a set - combine surveys that do not share names"
                )
            index[b.name] = i
        self._bands = bands
        self._index = index

    # --- sequence protocol -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._bands)

    def __iter__(self) -> Iterator[Band]:
        return iter(self._bands)

    @overload
    def __getitem__(self, key: int | str) -> Band: ...

    @overload
    def __getitem__(self, key: slice) -> BandSet: ...

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._bands[self.index(key)]
        if isinstance(key, slice):
            return BandSet(self._bands[key])
        if isinstance(key, (int, np.integer)):
            return self._bands[int(key)]
        raise ValidationError(f"BandSet[]: key must be an int, band name or slice; got {type(key).__name__}")

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._index
        return item in self._bands

    def __add__(self, other: BandSet) -> BandSet:
        if not isinstance(other, BandSet):
            return NotImplemented
        return BandSet(self._bands + other._bands)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BandSet) and self._bands == other._bands

    def __hash__(self) -> int:
        return hash(self._bands)

    def __repr__(self) -> str:
        return f"BandSet({self.survey}: {', '.join(self.names)})"

    # --- metadata ----------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Band names, in order."""
        return tuple(b.name for b in self._bands)

    @property
    def wavelengths(self) -> np.ndarray:
        """Pivot wavelengths in Angstrom, shape (n_bands,)."""
        return np.array([b.wavelength for b in self._bands], dtype=float)

    @property
    def depths(self) -> np.ndarray:
        """5σ AB depths, shape (n_bands,); NaN where unknown."""
        return np.array([np.nan if b.depth is None else b.depth for b in self._bands], dtype=float)

    @property
    def survey(self) -> str:
        """The survey name, or the distinct survey names joined by ``"+"`` for a mixed set."""
        seen: list[str] = []
        for b in self._bands:
            if b.survey not in seen:
                seen.append(b.survey)
        return "+".join(seen)

    def index(self, name: str) -> int:  # type: ignore[override]
        """Position of the band called ``name``; the error lists the valid names."""
        try:
            return self._index[name]
        except (KeyError, TypeError):
            raise ValidationError(
                f"BandSet: unknown band {name!r}; valid names are {', '.join(self.names)}"
            ) from None

    def subset(self, names: Iterable[str]) -> BandSet:
        """The bands called ``names``, in the order given."""
        if isinstance(names, str):
            names = [names]
        return BandSet(self._bands[self.index(n)] for n in names)

    def to_frame(self) -> pd.DataFrame:
        """One row per band: survey, pivot wavelength (Angstrom), depth, speclite name; indexed by name."""
        return pd.DataFrame(
            {
                "survey": [b.survey for b in self._bands],
                "wavelength": self.wavelengths,
                "depth": self.depths,
                "speclite_name": [b.speclite_name for b in self._bands],
            },
            index=pd.Index(self.names, name="band"),
        )

    # --- synthetic photometry ------------------------------------------------------------------------
    def ab_maggies(self, wavelength: Any, flux_lambda: Any, redshift: Any = None, *,
                   chunk_size: int = 1024) -> np.ndarray:
        """Synthetic AB fluxes in maggies (1 maggy = 3631 Jy) through each band.

        Parameters
        ----------
        wavelength : array, shape (L,)
            Strictly increasing wavelength grid in Angstrom: observed frame when ``redshift`` is None,
            rest frame otherwise.
        flux_lambda : array, shape (L,) or (n, L)
            Flux density in erg / s / cm^2 / Angstrom. With ``redshift`` it is the rest-frame spectrum
            already dimmed by the luminosity distance, ``L_lambda / (4 pi d_L^2)``; the observed spectrum
            is then ``f(lambda_obs / (1+z)) / (1+z)``.
        redshift : float or array of shape (n,), optional
            Shift the spectra to these redshifts before integrating.
        chunk_size : int, default 1024
            Spectra integrated per block when ``redshift`` is an array (bounds memory).

        Returns
        -------
        numpy.ndarray, shape (n, n_bands) (or (n_bands,) for a single spectrum)
            Photon-counting AB maggies (Fukugita et al. 1996 definition, as speclite).

        Raises
        ------
        ValidationError
            If the grid does not cover a band's response (after the shift), or shapes disagree.
        """
        wave, flux, single = _check_spectra(wavelength, flux_lambda, "ab_maggies")
        if redshift is None:
            out = self._maggies_speclite(wave, flux)
        else:
            z = _check_redshift(redshift, flux.shape[0])
            out = np.column_stack([_maggies_shifted(b, wave, flux, z, chunk_size) for b in self._bands])
        return out[0] if single else out

    def ab_magnitudes(self, wavelength: Any, flux_lambda: Any, redshift: Any = None, *,
                      chunk_size: int = 1024) -> np.ndarray:
        """Synthetic AB magnitudes, ``-2.5 log10(maggies)``; NaN where the band flux is not positive.

        Parameters and shapes as :meth:`ab_maggies`.

        Examples
        --------
        >>> import numpy as np
        >>> from interpret.data.bands import SDSS
        >>> wave = np.linspace(2500, 12000, 4000)
        >>> flat = 3631e-23 * 2.99792458e18 / wave**2        # 3631 Jy in erg/s/cm^2/A
        >>> bool(np.allclose(SDSS.ab_magnitudes(wave, flat), 0.0, atol=1e-3))
        True
        """
        maggies = self.ab_maggies(wavelength, flux_lambda, redshift, chunk_size=chunk_size)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(maggies > 0, -2.5 * np.log10(np.where(maggies > 0, maggies, 1.0)), np.nan)

    def _maggies_speclite(self, wave: np.ndarray, flux: np.ndarray) -> np.ndarray:
        cols = []
        for b in self._bands:
            _check_coverage(b, wave, np.zeros(1))
            cols.append(np.atleast_1d(_response(_need_curve(b)).get_ab_maggies(flux, wave, axis=-1)))
        return np.column_stack(cols)


def _need_curve(band: Band) -> str:
    if band.speclite_name is None:
        raise ValidationError(f"ab_maggies(): band {band.name!r} has no filter curve; give it a speclite_name")
    return band.speclite_name


def _check_spectra(wavelength: Any, flux_lambda: Any, func: str) -> tuple[np.ndarray, np.ndarray, bool]:
    wave = np.asarray(wavelength, dtype=float)
    flux = np.asarray(flux_lambda, dtype=float)
    if wave.ndim != 1 or wave.size < 2:
        raise ValidationError(f"{func}(): 'wavelength' must be 1-D with >= 2 points; got shape {wave.shape}")
    if np.any(np.diff(wave) <= 0):
        raise ValidationError(f"{func}(): 'wavelength' must be strictly increasing; sort it first")
    single = flux.ndim == 1
    flux = np.atleast_2d(flux)
    if flux.ndim != 2 or flux.shape[1] != wave.size:
        raise ValidationError(
            f"{func}(): 'flux_lambda' must have shape (L,) or (n, L) with L={wave.size}; got {np.shape(flux_lambda)}"
        )
    return wave, flux, single


def _check_redshift(redshift: Any, n: int) -> np.ndarray:
    z = np.asarray(redshift, dtype=float)
    z = np.full(n, float(z)) if z.ndim == 0 else z
    if z.shape != (n,):
        raise ValidationError(f"ab_maggies(): 'redshift' must be a scalar or have shape ({n},); got {z.shape}")
    if not np.all(np.isfinite(z)) or np.any(z <= -1):
        raise ValidationError("ab_maggies(): 'redshift' must be finite and > -1")
    return z


def _check_coverage(band: Band, wave: np.ndarray, z: np.ndarray) -> None:
    fw, _ = band.transmission
    need_lo, need_hi = fw[0] / (1 + z.min()), fw[-1] / (1 + z.max())
    if wave[0] > need_lo or wave[-1] < need_hi:
        frame = "observed" if not np.any(z) else "rest"
        raise ValidationError(
            f"ab_maggies(): the wavelength grid {wave[0]:.0f}-{wave[-1]:.0f} A does not cover band "
            f"{band.name!r} ({band.survey}), which needs {need_lo:.0f}-{need_hi:.0f} A ({frame} frame); "
            "extend the grid or drop the band"
        )


def _maggies_shifted(band: Band, wave: np.ndarray, flux: np.ndarray, z: np.ndarray,
                     chunk_size: int) -> np.ndarray:
    """Vectorised photon-counting integral with the filter shifted to each galaxy's rest frame."""
    _check_coverage(band, wave, z)
    fw, fr = band.transmission
    lo = np.searchsorted(wave, fw[0] / (1 + z.max()), side="right") - 1
    hi = np.searchsorted(wave, fw[-1] / (1 + z.min()), side="left") + 1
    w = wave[max(lo, 0):hi]
    zero_point = _ab_zero_point(band.speclite_name)
    out = np.empty(flux.shape[0])
    for start in range(0, flux.shape[0], chunk_size):
        zc = z[start:start + chunk_size, None]
        resp = np.interp(w[None, :] * (1 + zc), fw, fr, left=0.0, right=0.0)
        integrand = flux[start:start + chunk_size, max(lo, 0):hi] * resp * w
        out[start:start + chunk_size] = _trapezoid(integrand, w, axis=1) * (1 + zc[:, 0])
    return out / zero_point


@functools.cache
def _ab_zero_point(speclite_name: str) -> float:
    """Integral of the 3631 Jy spectrum times R(lambda) lambda over the filter (same units as the numerator)."""
    fw, fr = _curve(speclite_name)
    ab_flam = _AB_FNU * _C_ANGSTROM / fw**2
    return float(_trapezoid(ab_flam * fr * fw, fw))


# --- standard sets -------------------------------------------------------------------------------------
_SPECS: dict[str, tuple[str, tuple[tuple[str, str, float | None], ...]]] = {
    # survey: (display survey, ((name, speclite name, 5-sigma AB depth), ...))
    "sdss": ("sdss", (("u", "sdss2010-u", 22.0), ("g", "sdss2010-g", 22.2), ("r", "sdss2010-r", 22.2),
                      ("i", "sdss2010-i", 21.3), ("z", "sdss2010-z", 20.5))),
    "wise": ("wise", (("W1", "wise2010-W1", 19.6), ("W2", "wise2010-W2", 19.3),
                      ("W3", "wise2010-W3", 16.7), ("W4", "wise2010-W4", 14.6))),
    "unwise": ("unwise", (("W1", "wise2010-W1", 20.6), ("W2", "wise2010-W2", 20.0))),
    "hsc": ("hsc", (("g", "hsc2017-g", 26.5), ("r", "hsc2017-r", 26.1), ("i", "hsc2017-i", 25.9),
                    ("z", "hsc2017-z", 25.1), ("y", "hsc2017-y", 24.4))),
    "panstarrs": ("panstarrs", (("g", "panstarrs-g", 23.3), ("r", "panstarrs-r", 23.2),
                                ("i", "panstarrs-i", 23.1), ("z", "panstarrs-z", 22.3),
                                ("y", "panstarrs-y", 21.4))),
    "galex": ("galex", (("FUV", "galex-fuv", 19.9), ("NUV", "galex-nuv", 20.8))),
    "legacy": ("legacy", (("g", "decam2014-g", 24.0), ("r", "decam2014-r", 23.4), ("z", "decam2014-z", 22.5))),
    "lsst": ("lsst", (("u", "lsst2023-u", 25.6), ("g", "lsst2023-g", 26.9), ("r", "lsst2023-r", 26.9),
                      ("i", "lsst2023-i", 26.4), ("z", "lsst2023-z", 25.6), ("y", "lsst2023-y", 24.8))),
    "2mass": ("2mass", (("J", "twomass-J", 17.5), ("H", "twomass-H", 17.2), ("Ks", "twomass-Ks", 16.9))),
}
#: Names accepted by :func:`get_bandset` (combine with ``"+"``).
SURVEYS: tuple[str, ...] = tuple(_SPECS)
_ALIASES = {"twomass": "2mass", "ps1": "panstarrs", "pan-starrs": "panstarrs", "decals": "legacy",
            "legacysurvey": "legacy", "ls": "legacy"}


@functools.cache
def _survey_set(survey: str) -> BandSet:
    label, specs = _SPECS[survey]
    return BandSet(_make_band(name, label, sl, depth) for name, sl, depth in specs)


def _resolve(token: str) -> BandSet:
    key = token.strip().lower()
    key = _ALIASES.get(key, key)
    if key in _SPECS:
        return _survey_set(key)
    if ":" in token:  # "survey:band"
        survey, band = token.split(":", 1)
        return _resolve(survey).subset([band.strip()])
    name = token.strip()
    owners = [s for s in _SPECS if s != "unwise" and name in _survey_set(s)]
    if len(owners) == 1:
        return _survey_set(owners[0]).subset([name])
    if owners:
        opts = ", ".join(f"'{s}:{name}'" for s in owners)
        raise ValidationError(f"get_bandset(): band {token!r} is ambiguous; write one of {opts}")
    raise ValidationError(
        f"get_bandset(): unknown survey or band {token!r}; valid surveys are {', '.join(SURVEYS)} "
        "(combine with '+', pick bands with 'survey:band', e.g. 'sdss:g')"
    )


def get_bandset(name_or_names: str | Iterable[str] | BandSet) -> BandSet:
    """Return a standard :class:`BandSet` by survey name, ``"+"``-combination or list of names.

    Parameters
    ----------
    name_or_names : str, iterable of str or BandSet
        A survey (``"sdss"``, ``"wise"``, ``"unwise"``, ``"hsc"``, ``"panstarrs"``, ``"galex"``, ``"legacy"``,
        ``"lsst"``, ``"2mass"``), a combination ``"sdss+wise"``, or a list mixing surveys, unambiguous band
        names (``"W1"``, ``"NUV"``) and ``"survey:band"`` (``"sdss:g"``). A BandSet is returned unchanged.

    Returns
    -------
    BandSet

    Examples
    --------
    >>> get_bandset(["sdss:r", "W1", "W2"]).names
    ('r', 'W1', 'W2')
    """
    if isinstance(name_or_names, BandSet):
        return name_or_names
    tokens = name_or_names.split("+") if isinstance(name_or_names, str) else list(name_or_names)
    if not tokens:
        raise ValidationError("get_bandset(): 'name_or_names' is empty; give a survey name such as 'sdss'")
    out = BandSet(())
    for tok in tokens:
        if not isinstance(tok, str):
            raise ValidationError(f"get_bandset(): names must be strings; got {type(tok).__name__}")
        out = out + _resolve(tok)
    return out


SDSS: BandSet = _survey_set("sdss")
WISE: BandSet = _survey_set("wise")
UNWISE: BandSet = _survey_set("unwise")
HSC: BandSet = _survey_set("hsc")
PANSTARRS: BandSet = _survey_set("panstarrs")
GALEX: BandSet = _survey_set("galex")
LEGACY: BandSet = _survey_set("legacy")
LSST: BandSet = _survey_set("lsst")
TWOMASS: BandSet = _survey_set("2mass")
