"""Catalogue of optical/near-IR spectral features: vacuum rest wavelengths, kind and scoring windows.

Sources
-------
* Emission lines: vacuum wavelengths of the SDSS spectroscopic pipeline line list (idlspec2d
  ``emlines.par``, used for the SDSS DR7-DR17 emission-line fits; Bolton et al. 2012), which follow NIST ASD.
* Narrow absorption lines (Ca II H & K, Sr II, Ca II triplet): NIST Atomic Spectra Database air wavelengths
  (Kramida et al. 2023) converted to vacuum with :func:`air_to_vacuum`.
* Lick indices (G band = G4300, Mg b, Fe5270, Fe5335, Na D): central bandpass of Trager et al. (1998,
  ApJS 116, 1) in air, converted to vacuum; ``window`` is half the Lick bandpass width. Ca II triplet
  windows are half the Cenarro et al. (2001, MNRAS 326, 959) line bandpasses.
* D4000: the narrow 4000 A break of Balogh et al. (1999, ApJ 527, 54; arXiv:astro-ph/9906470), ratio of
  mean f_nu in 4000-4100 A to 3850-3950 A; its ``window`` spans both bandpasses.

``window`` is the half-width (Angstrom, rest frame) an attribution map is integrated over when a feature is
scored (``interpret.attribution.line_importance``).

Examples
--------
>>> from interpret.data.lines import get_line, lines_in_range
>>> round(get_line("Halpha").wavelength, 2)
6564.61
>>> [line.name for line in lines_in_range(6500, 6600, kind="emission")]
['[NII]6548', 'Halpha', '[NII]6584']
>>> [line.name for line in lines_in_range(7000, 7200, redshift=0.08)]
['[NII]6548', 'Halpha', '[NII]6584']
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ValidationError

__all__ = [
    "Line",
    "LINES",
    "LINE_NAMES",
    "KINDS",
    "get_line",
    "lines_table",
    "lines_in_range",
    "observed_wavelength",
    "air_to_vacuum",
]

#: Feature kinds in the catalogue.
KINDS: tuple[str, ...] = ("emission", "absorption", "break")


def air_to_vacuum(wavelength_air: Any) -> Any:
    """Convert air wavelengths (Angstrom) to vacuum, IAU standard (Morton 2000; inversion by N. Piskunov).

    Parameters
    ----------
    wavelength_air : float or array
        Air wavelength(s) in Angstrom (valid above 2000 A).

    Returns
    -------
    float or numpy.ndarray
        Vacuum wavelength(s) in Angstrom.

    Examples
    --------
    >>> round(air_to_vacuum(3933.663), 2)        # Ca II K
    3934.78
    """
    lam = np.asarray(wavelength_air, dtype=float)
    s2 = (1e4 / lam) ** 2
    n = 1 + 8.336624212083e-5 + 2.408926869968e-2 / (130.1065924522 - s2) + 1.599740894897e-4 / (
        38.92568793293 - s2)
    out = lam * n
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class Line:
    """One spectral feature.

    Parameters
    ----------
    name : str
        Catalogue name (``"Halpha"``, ``"[OIII]5007"``, ``"D4000"``).
    wavelength : float
        Vacuum rest wavelength in Angstrom (for a Lick index or D4000, the centre of its bandpass span).
    kind : {"emission", "absorption", "break"}
        Type of feature.
    window : float, default 10.0
        Half-width in rest-frame Angstrom used when scoring the feature.
    label : str, default ""
        Plot label (matplotlib mathtext), e.g. ``r"H$\\alpha$"``; the name when empty.
    blue, red : tuple of float or None
        Continuum bandpasses (rest Angstrom) of a break index; None for lines.
    """

    name: str
    wavelength: float
    kind: str
    window: float = 10.0
    label: str = ""
    blue: tuple[float, float] | None = None
    red: tuple[float, float] | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """Rest-frame (lower, upper) edge of the scoring window in Angstrom."""
        return (self.wavelength - self.window, self.wavelength + self.window)

    def observed(self, redshift: Any = 0.0) -> Any:
        """Observed-frame wavelength(s) in Angstrom at ``redshift`` (scalar or array)."""
        return observed_wavelength(self, redshift)


def _lick(name: str, lo_air: float, hi_air: float, label: str) -> Line:
    lo, hi = air_to_vacuum(lo_air), air_to_vacuum(hi_air)
    return Line(name, (lo + hi) / 2, "absorption", (hi - lo) / 2, label)


def _air(name: str, lam_air: float, window: float, label: str) -> Line:
    return Line(name, air_to_vacuum(lam_air), "absorption", window, label)


LINES: tuple[Line, ...] = (
    # --- emission (SDSS idlspec2d vacuum wavelengths) ---
    Line("[OII]3727", 3727.092, "emission", 10.0, r"[O$\,$II]$\lambda$3727"),
    Line("[OII]3729", 3729.875, "emission", 10.0, r"[O$\,$II]$\lambda$3729"),
    Line("[NeIII]3869", 3869.857, "emission", 10.0, r"[Ne$\,$III]$\lambda$3869"),
    Line("Hdelta", 4102.892, "emission", 10.0, r"H$\delta$"),
    Line("Hgamma", 4341.684, "emission", 10.0, r"H$\gamma$"),
    Line("Hbeta", 4862.683, "emission", 10.0, r"H$\beta$"),
    Line("[OIII]4959", 4960.295, "emission", 10.0, r"[O$\,$III]$\lambda$4959"),
    Line("[OIII]5007", 5008.240, "emission", 10.0, r"[O$\,$III]$\lambda$5007"),
    Line("HeI5876", 5877.308, "emission", 10.0, r"He$\,$I$\lambda$5876"),
    Line("[NII]6548", 6549.86, "emission", 10.0, r"[N$\,$II]$\lambda$6548"),
    Line("Halpha", 6564.61, "emission", 10.0, r"H$\alpha$"),
    Line("[NII]6584", 6585.27, "emission", 10.0, r"[N$\,$II]$\lambda$6584"),
    Line("[SII]6717", 6718.29, "emission", 10.0, r"[S$\,$II]$\lambda$6717"),
    Line("[SII]6731", 6732.67, "emission", 10.0, r"[S$\,$II]$\lambda$6731"),
    # --- absorption (NIST air -> vacuum; Lick bandpasses of Trager et al. 1998) ---
    _air("CaII_K", 3933.663, 15.0, r"Ca$\,$II K"),
    _air("CaII_H", 3968.468, 15.0, r"Ca$\,$II H"),
    _air("SrII4077", 4077.709, 8.0, r"Sr$\,$II$\lambda$4077"),
    _air("SrII4216", 4215.519, 8.0, r"Sr$\,$II$\lambda$4216"),
    _lick("Gband", 4281.375, 4316.375, "G band"),
    _lick("Mgb", 5160.125, 5192.625, r"Mg$\,b$"),
    _lick("Fe5270", 5245.650, 5285.650, "Fe5270"),
    _lick("Fe5335", 5312.125, 5352.125, "Fe5335"),
    _lick("NaD", 5876.875, 5909.375, "Na D"),
    _air("CaII8498", 8498.02, 14.5, r"Ca$\,$II$\lambda$8498"),
    _air("CaII8542", 8542.09, 20.0, r"Ca$\,$II$\lambda$8542"),
    _air("CaII8662", 8662.14, 20.0, r"Ca$\,$II$\lambda$8662"),
    # --- break (Balogh et al. 1999 narrow definition) ---
    Line("D4000", 3975.0, "break", 125.0, r"D$_n$4000", blue=(3850.0, 3950.0), red=(4000.0, 4100.0)),
)

#: Names of every feature, in catalogue order.
LINE_NAMES: tuple[str, ...] = tuple(line.name for line in LINES)
_BY_NAME = {line.name: line for line in LINES}


def get_line(name: str | Line) -> Line:
    """Return the catalogue :class:`Line` called ``name`` (a Line is returned unchanged).

    Examples
    --------
    >>> get_line("D4000").red
    (4000.0, 4100.0)
    """
    if isinstance(name, Line):
        return name
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ValidationError(
            f"get_line(): unknown line {name!r}; valid names are {', '.join(LINE_NAMES)}"
        ) from None


def observed_wavelength(line: str | Line, redshift: Any = 0.0) -> Any:
    """Observed wavelength ``lambda_rest * (1 + z)`` in Angstrom (vacuum).

    Parameters
    ----------
    line : str or Line
        Catalogue name or Line.
    redshift : float or array
        Redshift(s), each > -1.

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``redshift``.

    Examples
    --------
    >>> round(observed_wavelength("Hbeta", 0.1), 3)
    5348.951
    """
    z = np.asarray(redshift, dtype=float)
    if not np.all(np.isfinite(z)) or np.any(z <= -1):
        raise ValidationError("observed_wavelength(): 'redshift' must be finite and > -1")
    out = get_line(line).wavelength * (1.0 + z)
    return float(out) if out.ndim == 0 else out


def _check_kind(kind: str | Iterable[str] | None) -> tuple[str, ...]:
    if kind is None:
        return KINDS
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    for k in kinds:
        if k not in KINDS:
            raise ValidationError(f"lines_in_range(): unknown kind {k!r}; valid kinds are {', '.join(KINDS)}")
    return kinds


def lines_in_range(wmin: float, wmax: float, redshift: float = 0.0, kind: str | Iterable[str] | None = None,
                   *, full_window: bool = False) -> list[Line]:
    """Catalogue features whose (observed) centre falls in ``[wmin, wmax]``.

    Parameters
    ----------
    wmin, wmax : float
        Wavelength range in Angstrom, observed frame at ``redshift`` (rest frame for the default 0).
    redshift : float, default 0.0
        Redshift applied to the rest wavelengths.
    kind : str, iterable of str or None, default None
        Keep only these kinds (``"emission"``, ``"absorption"``, ``"break"``); None keeps all.
    full_window : bool, default False
        Require the whole scoring window (or both break bandpasses), not only the centre, inside the range.

    Returns
    -------
    list of Line
        In catalogue order.

    Examples
    --------
    >>> [line.name for line in lines_in_range(6500.0, 6600.0)]
    ['[NII]6548', 'Halpha', '[NII]6584']
    >>> [line.name for line in lines_in_range(5000.0, 5300.0, redshift=0.05)]     # observed frame at z = 0.05
    ['Hbeta', '[OIII]4959', '[OIII]5007']
    >>> [line.name for line in lines_in_range(3700.0, 4200.0, kind="absorption")]
    ['CaII_K', 'CaII_H', 'SrII4077']
    """
    if not (np.isfinite(wmin) and np.isfinite(wmax)) or wmin >= wmax:
        raise ValidationError(f"lines_in_range(): need finite wmin < wmax; got {wmin}, {wmax}")
    if not np.isfinite(redshift) or redshift <= -1:
        raise ValidationError(f"lines_in_range(): 'redshift' must be finite and > -1; got {redshift}")
    kinds = _check_kind(kind)
    scale = 1.0 + float(redshift)
    out = []
    for line in LINES:
        lo, hi = (line.bounds if full_window else (line.wavelength, line.wavelength))
        if line.kind in kinds and wmin <= lo * scale and hi * scale <= wmax:
            out.append(line)
    return out


def lines_table() -> pd.DataFrame:
    """The catalogue as a DataFrame indexed by name: wavelength (vacuum, A), kind, window (A), label, bounds.

    Examples
    --------
    >>> lines_table().loc["[OIII]5007", "wavelength"]
    np.float64(5008.24)
    """
    frame = pd.DataFrame(
        {
            "wavelength": [line.wavelength for line in LINES],
            "kind": [line.kind for line in LINES],
            "window": [line.window for line in LINES],
            "label": [line.label for line in LINES],
            "wmin": [line.bounds[0] for line in LINES],
            "wmax": [line.bounds[1] for line in LINES],
        },
        index=pd.Index(LINE_NAMES, name="name"),
    )
    return frame
