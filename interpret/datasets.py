"""Real galaxy samples read from installed packages (no downloads).

:func:`sdss_sample` reads the SDSS catalogue that kcorrect (BSD-3) ships inside its package,
``kcorrect/data/test/gst_tests_small.fits``: 10 000 SDSS main-sample galaxies with ugriz model and Petrosian
fluxes (nanomaggies) + inverse variances, SFD Galactic extinction, spectroscopic redshifts, 2MASS J/H/Ks
extended magnitudes (Vega) and GALEX FUV/NUV AUTO fluxes (counts/s) where matched. The file is read in place
from the installed package; it is never copied into this repository.

Examples
--------
>>> import interpret as ip
>>> sdss = ip.datasets.sdss_sample(with_masses=False)
>>> len(sdss), sdss.bands.names[:3]
(10000, ('FUV', 'NUV', 'u'))
"""
from __future__ import annotations

import hashlib
import importlib.resources
import io
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._results import atomic_write_bytes
from ._validation import check_choice
from .data.bands import GALEX, SDSS, TWOMASS, BandSet
from .exceptions import DataFileError

__all__ = ["Dataset", "sdss_sample", "cache_dir", "SDSS_SOURCE", "kcorrect_catalog_path", "PiczlDemo",
           "piczl_demo", "PICZL_SOURCE"]

logger = logging.getLogger(__name__)

SDSS_SOURCE = (
    "SDSS DR7-era main-sample galaxies (York et al. 2000; Abazajian et al. 2009) with 2MASS (Skrutskie et al. "
    "2006) and GALEX (Martin et al. 2005) photometry, as shipped for testing by kcorrect "
    "(Blanton & Roweis 2007, AJ 133, 734; https://github.com/blanton144/kcorrect, BSD-3-Clause) in "
    "kcorrect/data/test/gst_tests_small.fits. Stellar masses: kcorrect template fits (mremain)."
)

#: SDSS -> AB offsets (Eisenstein, sdss-calib/1152), as applied by kcorrect.utils.sdss_ab_correct.
_SDSS_ABFIX = (-0.036, 0.012, 0.010, 0.028, 0.040)
#: GALEX AB zero points for counts/s (Morrissey et al. 2007), as used by kcorrect's galex_to_maggies.
_GALEX_ZPT = {"FUV": 18.82, "NUV": 20.08}
#: A_band / E(B-V): SDSS r (Schlegel, Finkbeiner & Davis 1998, Table 6) to recover E(B-V); GALEX (Wyder
#: et al. 2007); 2MASS (SFD98 Table 6).
_R_SDSS_R = 2.751
_R_EXT = {"FUV": 8.24, "NUV": 8.20, "J": 0.902, "H": 0.576, "Ks": 0.367}
_TWOMASS_COLS = {"J": "J", "H": "H", "Ks": "K"}
_KC_RESPONSES = ["galex_FUV", "galex_NUV", "sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0",
                 "twomass_J", "twomass_H", "twomass_Ks"]
_MAG_ERR = 2.5 / np.log(10.0)


@dataclass(frozen=True)
class Dataset:
    """A real galaxy sample.

    Attributes
    ----------
    name : str
        Short name (``"sdss"``).
    catalog : pandas.DataFrame
        One row per galaxy; magnitude columns are named by band (``"r"``, ``"NUV"``) with errors in
        ``"<band>_err"``; ``"redshift"`` and, when computed, ``"log_mstar"``.
    bands : BandSet
        The bands that have magnitude columns, ordered by wavelength.
    source : str
        Citation text for the data.
    meta : dict
        Provenance: file path, flux type, cosmology, timings.

    Examples
    --------
    Loaders such as :func:`sdss_sample` return one:

    >>> import numpy as np
    >>> ds = sdss_sample(with_masses=False)
    >>> ds.name, len(ds), ds.bands.names[:4]
    ('sdss', 10000, ('FUV', 'NUV', 'u', 'g'))
    >>> mags = ds.magnitudes(["g", "r"])                              # (n, 2) AB magnitudes
    >>> mags.shape, round(float(np.median(mags[:, 0] - mags[:, 1])), 1)   # median g - r colour
    ((10000, 2), 0.9)
    """

    name: str
    catalog: pd.DataFrame
    bands: BandSet
    source: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.catalog)

    def magnitudes(self, bands: Any = None) -> np.ndarray:
        """AB magnitudes as a float array (n, n_bands) for ``bands`` (names or BandSet; default all)."""
        names = self.bands.names if bands is None else (
            bands.names if isinstance(bands, BandSet) else tuple(bands))
        for n in names:
            self.bands.index(n)
        return self.catalog.loc[:, list(names)].to_numpy(dtype=float)


def cache_dir() -> Path:
    """Per-user cache folder: ``$INTERPRET_CACHE_DIR``, else ``$XDG_CACHE_HOME/astro-interpret`` or
    ``~/.cache/astro-interpret``. Created on demand."""
    env = os.environ.get("INTERPRET_CACHE_DIR")
    if env:
        path = Path(env).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = Path(base) / "astro-interpret"
    path.mkdir(parents=True, exist_ok=True)
    return path


def kcorrect_catalog_path() -> Path:
    """Path of the SDSS test catalogue inside the installed kcorrect package."""
    try:
        root = importlib.resources.files("kcorrect")
    except ModuleNotFoundError as exc:
        raise DataFileError("sdss_sample(): the 'kcorrect' package is not installed; pip install kcorrect") from exc
    path = Path(str(root / "data" / "test" / "gst_tests_small.fits"))
    if not path.is_file():
        raise DataFileError(f"sdss_sample(): {path} is missing from the installed kcorrect; reinstall kcorrect>=5.1")
    return path


def _read_table(path: Path) -> Any:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            return hdul[1].data.copy()
    except (OSError, IndexError) as exc:
        raise DataFileError(f"sdss_sample(): cannot read {path}: {exc}") from exc


def _sdss_maggies(data: Any, flux: str) -> tuple[np.ndarray, np.ndarray]:
    """Extinction-corrected AB maggies and inverse variances (n, 5) from SDSS nanomaggies."""
    col = {"model": "MODELFLUX", "petro": "PETROFLUX"}[flux]
    ext = np.asarray(data["EXTINCTION"], dtype=float)
    abfac = 10.0 ** (-0.4 * np.asarray(_SDSS_ABFIX))
    maggies = np.asarray(data[col], dtype=float) * 1e-9 * 10 ** (0.4 * ext) * abfac
    ivar = np.asarray(data[col + "_IVAR"], dtype=float) * 1e18 * 10 ** (-0.8 * ext) / abfac**2
    return maggies, ivar


def _galex_maggies(data: Any, ebv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mags, ivars = [], []
    for band in ("FUV", "NUV"):
        cps = np.asarray(data[f"{band}_FLUX_AUTO"], dtype=float)
        err = np.asarray(data[f"{band}_FLUXERR_AUTO"], dtype=float)
        ok = (cps > 0) & (err > 0)
        scale = 10 ** (-0.4 * _GALEX_ZPT[band]) * 10 ** (0.4 * _R_EXT[band] * ebv)
        mags.append(np.where(ok, cps * scale, 0.0))
        ivars.append(np.where(ok, 1.0 / np.where(ok, err * scale, 1.0) ** 2, 0.0))
    return np.column_stack(mags), np.column_stack(ivars)


def _twomass_maggies(data: Any, ebv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vega2ab = _twomass_vega2ab()
    mags, ivars = [], []
    for band, col in _TWOMASS_COLS.items():
        m = np.asarray(data[f"{col}_M_EXT"], dtype=float)
        s = np.asarray(data[f"{col}_MSIG_EXT"], dtype=float)
        ok = (m > 0) & (s > 0)
        ab = m + vega2ab[band] - _R_EXT[band] * ebv
        mg = np.where(ok, 10 ** (-0.4 * np.where(ok, ab, 0.0)), 0.0)
        mags.append(mg)
        ivars.append(np.where(ok, 1.0 / np.where(ok, mg * s / _MAG_ERR, 1.0) ** 2, 0.0))
    return np.column_stack(mags), np.column_stack(ivars)


def _twomass_vega2ab() -> dict[str, float]:
    """Vega->AB offsets computed by kcorrect from the 2MASS curves (~0.90, 1.38, 1.85)."""
    import kcorrect.response

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        rd = kcorrect.response.ResponseDict()
        out = {}
        for band in ("J", "H", "Ks"):
            rd.load_response(f"twomass_{band}")
            out[band] = float(rd[f"twomass_{band}"].vega2ab)
    return out


def _to_magnitudes(maggies: np.ndarray, ivar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = (maggies > 0) & (ivar > 0)
    safe = np.where(ok, maggies, 1.0)
    mag = np.where(ok, -2.5 * np.log10(safe), np.nan)
    err = np.where(ok, _MAG_ERR / (safe * np.sqrt(np.where(ok, ivar, 1.0))), np.nan)
    return mag, err


def _kcorrect_log_mstar(redshift: np.ndarray, maggies: np.ndarray, ivar: np.ndarray) -> np.ndarray:
    """log10 stellar mass (M_sun, Planck18) from a kcorrect GALEX+SDSS+2MASS template fit."""
    import kcorrect.kcorrect

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        zmax = float(np.ceil(redshift.max() * 10) / 10 + 0.1)
        kc = kcorrect.kcorrect.KcorrectGST(redshift_range=[0.0, zmax], nredshift=int(zmax * 1000))
        coeffs = kc.fit_coeffs(redshift=redshift.astype(np.float32), maggies=maggies.astype(np.float32),
                               ivar=ivar.astype(np.float32))
        mremain = np.asarray(kc.derived(redshift=redshift.astype(np.float32), coeffs=coeffs)["mremain"], float)
    with np.errstate(divide="ignore"):
        return np.where(mremain > 0, np.log10(np.where(mremain > 0, mremain, 1.0)), np.nan)


def _cached_masses(path: Path, flux: str, redshift: np.ndarray, maggies: np.ndarray, ivar: np.ndarray,
                   cache: bool) -> tuple[np.ndarray, dict[str, Any]]:
    import kcorrect

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    key = f"sdss-mstar-{digest}-{flux}-kc{getattr(kcorrect, '__version__', 'x')}-planck18-v1"
    file = cache_dir() / f"{key}.npz" if cache else None
    if file is not None and file.is_file():
        with np.load(file, allow_pickle=False) as npz:
            if npz["log_mstar"].shape == redshift.shape:
                logger.info("sdss_sample(): stellar masses read from cache %s", file)
                return npz["log_mstar"], {"mass_cache": str(file), "mass_seconds": 0.0}
    t0 = time.perf_counter()
    log_mstar = _kcorrect_log_mstar(redshift, maggies, ivar)
    seconds = time.perf_counter() - t0
    logger.info("sdss_sample(): kcorrect stellar masses computed in %.1f s", seconds)
    if file is not None:
        buf = io.BytesIO()
        np.savez(buf, log_mstar=log_mstar)
        atomic_write_bytes(file, buf.getvalue())
    return log_mstar, {"mass_cache": str(file) if file else None, "mass_seconds": seconds}


def sdss_sample(cache: bool = True, with_masses: bool = True, *, flux: str = "model") -> Dataset:
    """The real SDSS sample shipped with kcorrect: AB magnitudes, errors, spec-z and stellar masses.

    Magnitudes are AB, corrected for Galactic extinction (SFD98 values from the file; GALEX and 2MASS
    extinctions scaled from E(B-V) = A_r / 2.751). SDSS: nanomaggies -> maggies with kcorrect's AB offsets
    (u -0.036, g +0.012, r +0.010, i +0.028, z +0.040 mag); errors from the inverse variances,
    ``sigma_m = 1.0857 / (f sqrt(ivar))``. GALEX: AUTO counts/s with zero points 18.82 (FUV) and 20.08 (NUV).
    2MASS: extended Vega magnitudes + Vega->AB offsets kcorrect computes from the curves. A band that is
    missing or has non-positive flux is NaN (GALEX is matched for ~8 % of galaxies; 12 u fluxes are <= 0).

    Stellar masses: ``log_mstar`` = log10 of kcorrect's ``derived()['mremain']`` (stellar mass remaining,
    M_sun) from a non-negative fit of kcorrect's default 5-template basis (Bruzual & Charlot 2003 populations,
    Chabrier 2003 IMF; Blanton & Roweis 2007) to all available GALEX+SDSS+2MASS maggies at the spectroscopic
    redshift. Distances use astropy's Planck18 cosmology (H0 = 67.66 km/s/Mpc); masses are in M_sun with
    that h, not in h^-2 M_sun (to convert to h=0.7 add ``2 log10(0.6766/0.7) = -0.030`` dex). The fit takes a
    few seconds; the result is cached in :func:`cache_dir` (atomic write), keyed by the file's hash, ``flux``
    and the kcorrect version.

    Parameters
    ----------
    cache : bool, default True
        Read/write the computed stellar masses from/to the per-user cache.
    with_masses : bool, default True
        Compute (or load) ``log_mstar``; False skips kcorrect's fitter.
    flux : {"model", "petro"}, default "model"
        SDSS model or Petrosian fluxes.

    Returns
    -------
    Dataset
        ``.catalog`` columns: ``ra, dec, redshift, e_bv``, one magnitude column per band (FUV NUV u g r i z J H
        Ks) with ``<band>_err``, and ``log_mstar``; ``.bands``: GALEX + SDSS + 2MASS; ``.source``: citation.

    References
    ----------
    Blanton & Roweis (2007), arXiv:astro-ph/0606170; Schlegel, Finkbeiner & Davis (1998),
    arXiv:astro-ph/9710327.

    Examples
    --------
    >>> import interpret as ip
    >>> cat = ip.datasets.sdss_sample(with_masses=False).catalog
    >>> float(cat["redshift"].median()) > 0.05
    True
    """
    check_choice(flux, "flux", "sdss_sample", ("model", "petro"))
    path = kcorrect_catalog_path()
    data = _read_table(path)
    z = np.asarray(data["Z"], dtype=float)
    ebv = np.asarray(data["EXTINCTION"], dtype=float)[:, 2] / _R_SDSS_R
    parts = [_galex_maggies(data, ebv), _sdss_maggies(data, flux), _twomass_maggies(data, ebv)]
    maggies = np.hstack([p[0] for p in parts])
    ivar = np.hstack([p[1] for p in parts])
    bands = GALEX + SDSS + TWOMASS
    mag, err = _to_magnitudes(maggies, ivar)
    cols: dict[str, Any] = {"ra": np.asarray(data["RA"], float), "dec": np.asarray(data["DEC"], float),
                            "redshift": z, "e_bv": ebv}
    cols.update({b: mag[:, i] for i, b in enumerate(bands.names)})
    cols.update({f"{b}_err": err[:, i] for i, b in enumerate(bands.names)})
    meta: dict[str, Any] = {"path": str(path), "flux": flux, "cosmology": "Planck18", "n": int(z.size)}
    if with_masses:
        cols["log_mstar"], info = _cached_masses(path, flux, z, maggies, ivar, cache)
        meta.update(info)
    catalog = pd.DataFrame(cols)
    return Dataset(name="sdss", catalog=catalog, bands=bands, source=SDSS_SOURCE, meta=meta)


# --- PICZL's demo galaxies ----------------------------------------------------------------------------
PICZL_SOURCE = (
    "PICZL demo galaxies (Legacy Survey DR10 griz + WISE W1-W4 cutouts, apertures and catalogue), shipped by "
    "PICZL 0.1.4 (Roster et al. 2024, arXiv:2411.07305; https://github.com/williamroster/PICZL, MIT) in "
    "piczl/demo_data/; read in place from the installed package (pip install --no-deps piczl==0.1.4)."
)


def _piczl_bands() -> BandSet:
    from .data.bands import LEGACY, WISE, _make_band

    i_band = _make_band("i", "legacy", "decam2014-i", 23.3)   # DR10 typical 5-sigma depth (approximate)
    return BandSet([LEGACY["g"], LEGACY["r"], i_band, LEGACY["z"], *WISE])


@dataclass(frozen=True)
class PiczlDemo:
    """PICZL's demo galaxies with its three model inputs, assembled by this project (see ``interpret._piczl``).

    Attributes
    ----------
    split : str
        "run" (50 galaxies) or "train" (50 galaxies with spectroscopic ``z``).
    mode : str
        "active" or "inactive": the ensemble the inputs are built for (inactive adds 4 PSF channels and
        morphology features).
    inputs : tuple of 3 float32 arrays
        In PICZL's order: ``images`` (n, 23, 23, 32|36), ``colour_images`` (n, 23, 23, 24), ``features``
        (n, 52|54); channel-last.
    catalog : pandas.DataFrame
        The demo catalogue (one row per galaxy; ``z`` = spectroscopic redshift for "train").
    bands : BandSet
        g r i z (Legacy Survey DR10, DECam) and W1-W4 (WISE).
    channels : dict
        Band name -> ``((input, axis, position), ...)``: every image channel and catalogue feature derived
        from the band (a colour belongs to both of its bands). Pass as ``band_layout=`` to
        :func:`interpret.band_ablation` / :func:`interpret.band_shapley` to remove a band everywhere.
    names : tuple of 3 tuples of str
        Name of every channel / feature of each input (e.g. ``"aperture_W1"``, ``"g-W1"``).
    source : str
        Citation.
    """

    split: str
    mode: str
    inputs: tuple[np.ndarray, np.ndarray, np.ndarray]
    catalog: pd.DataFrame
    bands: BandSet
    channels: dict[str, tuple[tuple[int, int, int], ...]]
    names: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
    source: str = PICZL_SOURCE

    def __len__(self) -> int:
        return len(self.catalog)

    @property
    def input_names(self) -> tuple[str, ...]:
        """``("images", "colour_images", "features")``."""
        from ._piczl import INPUT_NAMES

        return INPUT_NAMES


def piczl_demo(split: str = "run", *, mode: str = "active", n: int | None = None) -> PiczlDemo:
    """PICZL's demo galaxies (Legacy Survey DR10 + WISE) with the inputs of its trained ensemble.

    Parameters
    ----------
    split : {"run", "train"}, default "run"
        The 50 "run" galaxies, or the 50 "train" galaxies that have a spectroscopic redshift (``z``).
    mode : {"active", "inactive"}, default "active"
        Which PICZL ensemble the inputs are built for (:func:`interpret.zoo.piczl`).
    n : int, optional
        Use the first ``n`` galaxies only. PICZL min-max scales catalogue features over the galaxies it is
        given together, so ``n`` changes the features (its demo predictions use the first 20 "run" galaxies).

    Returns
    -------
    PiczlDemo

    Notes
    -----
    The files are read from the installed ``piczl`` package (``pip install --no-deps piczl==0.1.4``); PICZL
    itself is never imported. Its demo ``.npy`` files are partly pickled dicts: they are loaded with
    ``allow_pickle=True`` as an explicit exception for this trusted package resource (never for user files).

    References
    ----------
    Roster et al. (2024), "PICZL: Image-based photometric redshifts for AGN", arXiv:2411.07305.

    Examples
    --------
    >>> import interpret as ip
    >>> d = ip.datasets.piczl_demo("train")  # doctest: +SKIP
    >>> [a.shape for a in d.inputs], d.bands.names  # doctest: +SKIP
    ([(50, 23, 23, 32), (50, 23, 23, 24), (50, 52)], ('g', 'r', 'i', 'z', 'W1', 'W2', 'W3', 'W4'))
    """
    from . import _piczl

    check_choice(split, "split", "piczl_demo", ("run", "train"))
    check_choice(mode, "mode", "piczl_demo", _piczl.MODES)
    from ._validation import check_int

    n = None if n is None else check_int(n, "n", "piczl_demo", minimum=2, maximum=50)
    parts = _piczl.assemble(split, mode, n)
    return PiczlDemo(split=split, mode=mode, inputs=parts["inputs"], catalog=parts["catalog"],
                     bands=_piczl_bands(), channels=parts["channels"], names=parts["names"])
