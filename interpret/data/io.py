"""Readers and writers for survey catalogues, image cutouts and spectra (FITS, HDF5, Parquet, CSV, NPZ).

* :func:`read_catalog` returns a :class:`pandas.DataFrame` with one scalar column per quantity: vector
  columns such as SDSS ``MODELFLUX`` (n, 5) are expanded into per-band columns, and flux columns can be
  converted to AB magnitudes with errors from their inverse variances.
* :func:`read_cutouts` returns :class:`Cutouts` (float32 images (n, bands, H, W) and band names).
* :func:`read_spectra` returns :class:`Spectra` (float32 flux (n, L), wavelength grid in Angstrom, units).

Every error names the file, the column or extension, and the problem
(:class:`~interpret.exceptions.DataFileError`); a missing file raises ``FileNotFoundError``.

Examples
--------
>>> import numpy as np, os, tempfile
>>> from interpret.data.io import write_catalog, read_catalog
>>> tmp = tempfile.TemporaryDirectory()
>>> path = os.path.join(tmp.name, "cat.fits")
>>> _ = write_catalog({"FLUX": np.array([[100.0, 1.0]]), "FLUX_IVAR": np.array([[1.0, 4.0]])}, path)
>>> cat = read_catalog(path, bands=["g", "r"], fluxes={"FLUX": "{band}"})
>>> cat[["g", "g_err", "r", "r_err"]].round(4).values.tolist()
[[17.5, 0.0109, 22.5, 0.5429]]
>>> tmp.cleanup()
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataFileError

__all__ = [
    "FLUX_ZERO_POINTS",
    "Cutouts",
    "Spectra",
    "flux_to_mag",
    "read_catalog",
    "write_catalog",
    "read_cutouts",
    "write_cutouts",
    "read_spectra",
    "write_spectra",
]

logger = logging.getLogger(__name__)

#: AB zero points: ``mag = ZP - 2.5 log10(flux)`` for fluxes in these units.
FLUX_ZERO_POINTS: dict[str, float] = {"nanomaggy": 22.5, "maggy": 0.0, "Jy": 8.90, "mJy": 16.40,
                                      "uJy": 23.90, "nJy": 31.40}
_POGSON = 2.5 / np.log(10.0)  # 1.0857...

_FORMATS = {".fits": "fits", ".fit": "fits", ".fts": "fits", ".fz": "fits", ".h5": "hdf5", ".hdf5": "hdf5",
            ".hdf": "hdf5", ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".ecsv": "ecsv",
            ".npz": "npz"}


# --- shared helpers --------------------------------------------------------------------------------------
def _format(path: Path, func: str, allowed: Sequence[str]) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1:
        suffixes = suffixes[:-1]
    fmt = _FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt not in allowed:
        raise DataFileError(f"{func}(): cannot tell the format of {str(path)!r} from its extension; supported: "
                            f"{', '.join(sorted(k for k, v in _FORMATS.items() if v in allowed))}")
    return fmt


def _existing(path: str | os.PathLike, func: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{func}(): no such file {str(p)!r}")
    return p


def _native(arr: np.ndarray) -> np.ndarray:
    """Native byte order (FITS is big-endian; pandas and torch prefer native)."""
    if arr.dtype.byteorder not in ("=", "|") and arr.dtype.kind in "biufc":
        return arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _h5_key(h5: Any, key: str | None, path: Path, func: str, default: str | None = None) -> Any:
    if key is None:
        names = [n for n in h5.keys() if not n.endswith(".__table_column_meta__")]  # astropy's metadata
        key = default if default in names else (names[0] if len(names) == 1 else None)
        if key is None:
            raise DataFileError(f"{func}(): {str(path)!r} holds several HDF5 entries {names}; pass key=")
    if key not in h5:
        raise DataFileError(f"{func}(): {str(path)!r} has no HDF5 entry {key!r}; available: {list(h5.keys())}")
    return h5[key]


# --- magnitudes -----------------------------------------------------------------------------------------
def flux_to_mag(flux: Any, ivar: Any = None, *, unit: str = "nanomaggy") -> tuple[np.ndarray, np.ndarray]:
    """AB magnitudes and errors from fluxes and inverse variances.

    ``mag = ZP - 2.5 log10(f)`` (``ZP = 22.5`` for nanomaggies) and ``err = 1.0857 / (f sqrt(ivar))``.
    Non-positive fluxes give ``mag = NaN`` (no magnitude exists; use the fluxes themselves, or asinh
    magnitudes, for non-detections); non-positive or missing inverse variances give ``err = NaN``.

    Parameters
    ----------
    flux : array-like
        Fluxes in ``unit``.
    ivar : array-like, optional
        Inverse variances of ``flux`` (``unit**-2``); None gives NaN errors.
    unit : str, default "nanomaggy"
        One of :data:`FLUX_ZERO_POINTS` ("nanomaggy", "maggy", "Jy", "mJy", "uJy", "nJy").

    Returns
    -------
    mag, err : numpy.ndarray
        Same shape as ``flux``, float64.

    Examples
    --------
    >>> mag, err = flux_to_mag([1.0, 100.0, -3.0], [1.0, 1.0, 1.0])
    >>> mag.tolist(), err.round(5).tolist()
    ([22.5, 17.5, nan], [1.08574, 0.01086, nan])
    """
    if unit not in FLUX_ZERO_POINTS:
        raise DataFileError(f"flux_to_mag(): unknown flux unit {unit!r}; valid: {', '.join(FLUX_ZERO_POINTS)}")
    f = np.asarray(flux, dtype=float)
    good = f > 0
    mag = np.full(f.shape, np.nan)
    mag[good] = FLUX_ZERO_POINTS[unit] - 2.5 * np.log10(f[good])
    err = np.full(f.shape, np.nan)
    if ivar is not None:
        iv = np.broadcast_to(np.asarray(ivar, dtype=float), f.shape)
        ok = good & (iv > 0)
        err[ok] = _POGSON / (f[ok] * np.sqrt(iv[ok]))
    return mag, err


# --- catalogues --------------------------------------------------------------------------------------------
def _read_raw_table(path: Path, fmt: str, hdu: int | str | None, key: str | None) -> dict[str, np.ndarray]:
    """Columns of the table as arrays (vector columns kept 2-D)."""
    if fmt in ("fits", "ecsv"):
        from astropy.table import Table

        kwargs = {"hdu": hdu} if fmt == "fits" and hdu is not None else {}
        try:
            table = Table.read(path, format="fits" if fmt == "fits" else "ascii.ecsv", **kwargs)
        except (OSError, ValueError, IndexError, KeyError) as exc:
            raise DataFileError(f"read_catalog(): cannot read a table from {str(path)!r}"
                                f"{f' (hdu={hdu!r})' if hdu is not None else ''}: {exc}") from exc
        return {name: _masked_to_array(table[name]) for name in table.colnames}
    if fmt == "hdf5":
        return _read_h5_table(path, key)
    if fmt == "parquet":
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path)
    return {str(c): _stack_lists(frame[c].to_numpy(), path, str(c)) for c in frame.columns}


def _masked_to_array(col: Any) -> np.ndarray:
    arr = np.ma.asarray(col)
    if np.ma.is_masked(arr) and arr.dtype.kind in "fc":
        return _native(arr.filled(np.nan))
    if np.ma.is_masked(arr) and arr.dtype.kind in "iu":
        return _native(arr.astype(float).filled(np.nan))
    if np.ma.is_masked(arr) and arr.dtype.kind in "US":      # a blank text cell, not the fill value ("N/A", "0")
        arr = arr.filled("" if arr.dtype.kind == "U" else b"")
    data = np.asarray(arr.data if isinstance(arr, np.ma.MaskedArray) else arr)
    if data.dtype.kind == "S":
        data = np.char.decode(data, "ascii").astype(object)
    return _native(data)


def _stack_lists(values: np.ndarray, path: Path, name: str, func: str = "read_catalog") -> np.ndarray:
    """Parquet list columns arrive as object arrays of arrays: stack them into (n, k)."""
    if values.dtype != object or not len(values) or not isinstance(values[0], (np.ndarray, list, tuple)):
        return values
    try:
        return np.stack([np.asarray(v, dtype=float) for v in values])
    except ValueError as exc:
        raise DataFileError(f"{func}(): column {name!r} of {str(path)!r} holds lists of different "
                            f"lengths; cannot expand it into per-band columns") from exc


def _read_h5_table(path: Path, key: str | None) -> dict[str, np.ndarray]:
    import h5py

    with h5py.File(path, "r") as h5:
        node = _h5_key(h5, key, path, "read_catalog")
        if isinstance(node, h5py.Dataset):
            data = node[()]
            if data.dtype.names is None:
                raise DataFileError(f"read_catalog(): HDF5 dataset {node.name!r} of {str(path)!r} is a plain "
                                    f"array, not a table; store a compound dataset or a group of columns")
            cols = {name: _native(np.asarray(data[name])) for name in data.dtype.names}
        elif "pandas_type" in node.attrs:
            raise DataFileError(f"read_catalog(): HDF5 group {node.name!r} of {str(path)!r} was written by "
                                f"pandas.to_hdf (PyTables layout); read it with pandas.read_hdf, or re-save it "
                                f"as Parquet")
        else:
            cols = {name: _native(np.asarray(ds[()])) for name, ds in node.items() if isinstance(ds, h5py.Dataset)}
    for name, arr in cols.items():
        if arr.dtype.kind == "S":
            cols[name] = np.char.decode(arr, "utf-8").astype(object)
    return cols


def _select(cols: dict[str, np.ndarray], columns: Sequence[str] | None, path: Path) -> dict[str, np.ndarray]:
    if columns is None:
        return cols
    missing = [c for c in columns if c not in cols]
    if missing:
        raise DataFileError(f"read_catalog(): {str(path)!r} has no column(s) {missing}; available: "
                            f"{', '.join(list(cols)[:30])}{', ...' if len(cols) > 30 else ''}")
    return {c: cols[c] for c in columns}


def _suffixes(k: int, bands: Sequence[str] | None) -> list[str]:
    return list(bands) if bands is not None and len(bands) == k else [str(i) for i in range(k)]


def _expand(cols: dict[str, np.ndarray], bands: Sequence[str] | None, path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, arr in cols.items():
        if arr.ndim == 1:
            out[name] = arr
        elif arr.ndim == 2:
            for i, suffix in enumerate(_suffixes(arr.shape[1], bands)):
                out[f"{name}_{suffix}"] = arr[:, i]
        else:
            raise DataFileError(f"read_catalog(): column {name!r} of {str(path)!r} has per-row shape "
                                f"{arr.shape[1:]}; only scalar and vector columns expand into a table "
                                f"(leave it out with columns=, or read it with read_cutouts)")
    return out


def _add_magnitudes(cols: dict[str, np.ndarray], frame: dict[str, np.ndarray], fluxes: Mapping[str, str],
                    bands: Sequence[str] | None, ivar_suffix: str, unit: str, extinction: str | None,
                    path: Path) -> None:
    for fcol, template in fluxes.items():
        if fcol not in cols:
            raise DataFileError(f"read_catalog(): flux column {fcol!r} is not in {str(path)!r}; available: "
                                f"{', '.join(list(cols)[:30])}")
        _check_numeric_column(cols, fcol, "flux", path)
        flux = np.atleast_2d(cols[fcol].T).T.astype(float)
        ivar = cols.get(fcol + ivar_suffix)
        if ivar is not None:
            _check_numeric_column(cols, fcol + ivar_suffix, "inverse-variance", path)
        if ivar is not None and np.shape(ivar) != np.shape(cols[fcol]):
            raise DataFileError(f"read_catalog(): {fcol + ivar_suffix!r} has shape {np.shape(ivar)} but "
                                f"{fcol!r} has {np.shape(cols[fcol])} in {str(path)!r}")
        if ivar is None:
            logger.info("read_catalog(): no %r column in %s; magnitude errors are NaN", fcol + ivar_suffix, path)
        mag, err = flux_to_mag(flux, None if ivar is None else np.atleast_2d(ivar.T).T, unit=unit)
        mag = mag - _extinction(cols, extinction, mag.shape, path)
        n_bad = int(np.sum(flux <= 0))
        if n_bad:
            logger.info("read_catalog(): %d non-positive fluxes in %r of %s -> NaN magnitudes", n_bad, fcol, path)
        for i, band in enumerate(_suffixes(mag.shape[1], bands)):
            name = template.format(band=band, column=fcol)
            frame[name], frame[f"{name}_err"] = mag[:, i], err[:, i]


def _check_numeric_column(cols: dict[str, np.ndarray], name: str, role: str, path: Path) -> None:
    """A flux / ivar / extinction column must hold numbers; the error names it and shows a value."""
    arr = np.asarray(cols[name])
    if arr.dtype.kind in "fiub":
        return
    try:
        arr.astype(float)
    except (TypeError, ValueError):
        example = next((v for v in arr.ravel()[:1000] if not isinstance(v, (int, float, np.number))), arr.flat[0])
        raise DataFileError(f"read_catalog(): {role} column {name!r} of {str(path)!r} is not numeric (dtype "
                            f"{arr.dtype}, e.g. {example!r}); name a numeric column, or fix the file") from None


def _extinction(cols: dict[str, np.ndarray], extinction: str | None, shape: tuple[int, ...],
                path: Path) -> np.ndarray | float:
    if extinction is None:
        return 0.0
    if extinction not in cols:
        raise DataFileError(f"read_catalog(): extinction column {extinction!r} is not in {str(path)!r}")
    _check_numeric_column(cols, extinction, "extinction", path)
    ext = np.atleast_2d(cols[extinction].T).T.astype(float)
    if ext.shape != shape:
        raise DataFileError(f"read_catalog(): extinction column {extinction!r} has shape {ext.shape}; the fluxes "
                            f"have {shape} in {str(path)!r}")
    return ext


def read_catalog(path: str | os.PathLike, *, columns: Sequence[str] | None = None,
                 bands: Sequence[str] | str | None = None, fluxes: Sequence[str] | Mapping[str, str] | None = None,
                 flux_unit: str = "nanomaggy", ivar_suffix: str = "_IVAR", extinction: str | None = None,
                 hdu: int | str | None = None, key: str | None = None) -> pd.DataFrame:
    """Read a catalogue into a DataFrame with one scalar column per quantity.

    Parameters
    ----------
    path : str or path-like
        ``.fits``/``.fit`` (astropy; ``hdu`` picks the extension, default the first table), ``.h5``/``.hdf5``
        (a compound dataset or a group with one dataset per column; ``key`` picks it), ``.parquet``,
        ``.csv`` (pandas) or ``.ecsv`` (astropy).
    columns : sequence of str, optional
        Columns to read (before expansion); default all.
    bands : sequence of str or str, optional
        Band names for vector columns: ``MODELFLUX`` (n, 5) with ``bands="ugriz"`` becomes ``MODELFLUX_u`` ...
        ``MODELFLUX_z``. Vector columns of another length get index suffixes ``_0``, ``_1``, ...
    fluxes : sequence of str or mapping, optional
        Flux columns to convert to AB magnitudes. A mapping gives the output name template per column
        (``{"MODELFLUX": "{band}"}`` makes ``u``, ``u_err``, ...); a sequence uses ``"{column}_{band}_mag"``.
        Errors use ``<column><ivar_suffix>`` (inverse variance) when present, else NaN.
    flux_unit : str, default "nanomaggy"
        Unit of the flux columns (see :data:`FLUX_ZERO_POINTS`).
    ivar_suffix : str, default "_IVAR"
    extinction : str, optional
        Column of Galactic extinctions (mag, same shape as the fluxes) subtracted from the magnitudes.
    hdu, key : optional
        FITS extension, HDF5 dataset/group name.

    Returns
    -------
    pandas.DataFrame
        Expanded columns plus the magnitude columns; ``attrs["source"]`` holds the path. Magnitudes of
        non-positive fluxes are NaN (logged), as are errors of non-positive inverse variances.

    Examples
    --------
    >>> import importlib.resources
    >>> sdss = importlib.resources.files("kcorrect") / "data/test/gst_tests_small.fits"
    >>> cat = read_catalog(sdss, bands="ugriz", fluxes={"MODELFLUX": "{band}"}, extinction="EXTINCTION")
    >>> cat[["u", "g", "r", "i", "z"]].shape
    (10000, 5)
    """
    path = _existing(path, "read_catalog")
    fmt = _format(path, "read_catalog", ("fits", "hdf5", "parquet", "csv", "ecsv"))
    bands = list(bands) if isinstance(bands, str) else bands
    raw = _select(_read_raw_table(path, fmt, hdu, key), columns, path)
    data = _expand(raw, bands, path)
    if fluxes is not None:
        mapping = dict(fluxes) if isinstance(fluxes, Mapping) else {c: "{column}_{band}_mag" for c in fluxes}
        _add_magnitudes(raw, data, mapping, bands, ivar_suffix, flux_unit, extinction, path)
    frame = pd.DataFrame(data)
    frame.attrs["source"] = str(path)
    return frame


def write_catalog(table: pd.DataFrame | Mapping[str, Any], path: str | os.PathLike, *, key: str = "catalog",
                  overwrite: bool = True) -> Path:
    """Write a table (DataFrame, or mapping of column -> array, vector columns allowed) by extension.

    FITS/ECSV via astropy, HDF5 as a group with one dataset per column (``key``), Parquet via pyarrow
    (vector columns become list columns), CSV via pandas (scalar columns only).

    Examples
    --------
    >>> import os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = write_catalog({"z": [0.1, 0.2]}, os.path.join(tmp.name, "c.csv"))
    >>> read_catalog(p)["z"].tolist()
    [0.1, 0.2]
    >>> tmp.cleanup()
    """
    path = Path(path).expanduser()
    fmt = _format(path, "write_catalog", ("fits", "hdf5", "parquet", "csv", "ecsv"))
    cols = {str(k): _native(np.asarray(v)) for k, v in (table.items() if isinstance(table, Mapping) else table.items())}
    if fmt in ("fits", "ecsv", "hdf5"):        # pandas and pyarrow store object columns themselves
        cols = {k: _writable(v, k, path) for k, v in cols.items()}
    if fmt == "fits":
        for name, arr in cols.items():
            text = [str(v) for v in arr.ravel() if not v.isascii()] if arr.dtype.kind == "U" else []
            if text:
                raise DataFileError(f"write_catalog(): FITS tables hold ASCII text only; column {name!r} has "
                                    f"{len(text)} other values (e.g. {text[0]!r}); write .h5 or .parquet instead")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("fits", "ecsv"):
        from astropy.table import Table

        Table(cols).write(path, format="fits" if fmt == "fits" else "ascii.ecsv", overwrite=overwrite)
    elif fmt == "hdf5":
        import h5py

        with h5py.File(path, "w" if overwrite else "w-") as h5:
            group = h5.create_group(key)
            for name, arr in cols.items():
                group.create_dataset(name, data=np.char.encode(arr, "utf-8") if arr.dtype.kind == "U" else arr)
    else:
        vector = [k for k, v in cols.items() if v.ndim > 1]
        if fmt == "csv" and vector:
            raise DataFileError(f"write_catalog(): CSV cannot hold vector columns {vector}; use FITS, HDF5 or "
                                f"Parquet, or expand them first")
        frame = pd.DataFrame({k: list(v) if v.ndim > 1 else v for k, v in cols.items()})
        frame.to_parquet(path) if fmt == "parquet" else frame.to_csv(path, index=False)
    return path


def _writable(arr: np.ndarray, name: str, path: Path) -> np.ndarray:
    """A column FITS, ECSV and HDF5 can store: pandas' object columns of text become fixed-width unicode (a
    missing value, None or NaN, becomes ""), of numbers floats (None becomes NaN), and of equal-length lists
    (n, k) float arrays."""
    if arr.dtype != object or arr.ndim != 1 or not len(arr):
        return arr
    if all(isinstance(v, str) or v is None or (isinstance(v, float) and np.isnan(v)) for v in arr):
        return np.array([v if isinstance(v, str) else "" for v in arr], dtype=str)
    if all(isinstance(v, (np.ndarray, list, tuple)) for v in arr):
        return _stack_lists(arr, path, name, "write_catalog")
    if all(isinstance(v, (int, float, np.number)) or v is None for v in arr):
        return np.array([np.nan if v is None else v for v in arr], dtype=float)
    kinds = sorted({type(v).__name__ for v in arr})
    raise DataFileError(f"write_catalog(): column {name!r} mixes Python types {kinds}; convert it to numbers or "
                        f"text first (e.g. frame[{name!r}].astype(str))")


# --- cutouts ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cutouts:
    """Image cutouts: ``images`` float32 (n, n_bands, H, W) and the band name of each channel.

    Attributes
    ----------
    images : numpy.ndarray, float32, shape (n, n_bands, H, W)
    bands : tuple of str
        One name per channel, in channel order.
    meta : dict
        Extra header values (e.g. ``pixel_scale`` in arcsec/pixel, units) when the file has them.

    Examples
    --------
    :func:`read_cutouts` returns one; :func:`write_cutouts` writes the files it reads:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> images = np.random.default_rng(0).normal(size=(3, 2, 8, 8))      # 3 galaxies, 2 bands, 8 x 8 pixels
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_cutouts(Path(tmp) / "cutouts.fits", images, ["g", "r"], pixel_scale=0.262)
    ...     c = read_cutouts(path)
    >>> len(c), c.bands, c.images.shape, c.images.dtype, c.meta["pixel_scale"]
    (3, ('g', 'r'), (3, 2, 8, 8), dtype('float32'), 0.262)
    >>> bool(np.allclose(c.images, images, atol=1e-6))
    True
    """

    images: np.ndarray
    bands: tuple[str, ...]
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.images.shape[0])


def _cube(arr: np.ndarray, layout: str, path: Path) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise DataFileError(f"read_cutouts(): images in {str(path)!r} have shape {arr.shape}; expected "
                            f"(n, bands, H, W) or (bands, H, W)")
    if layout == "NHWC":
        arr = np.moveaxis(arr, -1, 1)
    elif layout != "NCHW":
        raise DataFileError(f"read_cutouts(): unknown layout {layout!r}; valid values are 'NCHW', 'NHWC'")
    return np.ascontiguousarray(_native(arr), dtype=np.float32)


def _read_fits_cutouts(path: Path, hdu: int | str | None) -> tuple[np.ndarray, list[str] | None, dict]:
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        if hdu is not None:
            return np.asarray(hdul[hdu].data), _header_bands(hdul[hdu].header), _header_meta(hdul[hdu].header)
        images = [h for h in hdul if h.is_image and h.data is not None and h.data.ndim >= 2]
        if not images:
            raise DataFileError(f"read_cutouts(): {str(path)!r} has no image extension")
        if len(images) == 1 or images[0].data.ndim == 4:
            return np.asarray(images[0].data), _header_bands(images[0].header), _header_meta(images[0].header)
        shapes = {h.data.shape for h in images}
        if len(shapes) > 1:
            raise DataFileError(f"read_cutouts(): the image extensions of {str(path)!r} differ in shape "
                                f"{sorted(shapes)}; one extension per band must share (n, H, W)")
        names = [str(h.header.get("BAND", h.name or f"band{i}")) for i, h in enumerate(images)]
        data = np.stack([np.asarray(h.data) for h in images], axis=-3)
        return data, names, _header_meta(images[0].header)


def _header_bands(header: Any) -> list[str] | None:
    value = header.get("BANDS")
    return [b.strip() for b in str(value).split(",")] if value else None


def _header_meta(header: Any) -> dict:
    keys = {"PIXSCALE": "pixel_scale", "BUNIT": "unit"}
    return {name: header[k] for k, name in keys.items() if k in header}


def _read_npz_or_h5_cutouts(path: Path, fmt: str, key: str | None) -> tuple[np.ndarray, list[str] | None, dict]:
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as npz:
            name = key or ("images" if "images" in npz.files else None)
            if name is None or name not in npz.files:
                raise DataFileError(f"read_cutouts(): {str(path)!r} has no array {key or 'images'!r}; "
                                    f"arrays: {npz.files}")
            bands = [str(b) for b in npz["bands"]] if "bands" in npz.files else None
            meta = {"pixel_scale": float(npz["pixel_scale"])} if "pixel_scale" in npz.files else {}
            return npz[name], bands, meta
    import h5py

    with h5py.File(path, "r") as h5:
        ds = _h5_key(h5, key, path, "read_cutouts", default="images")
        if not isinstance(ds, h5py.Dataset):
            raise DataFileError(f"read_cutouts(): HDF5 entry {ds.name!r} of {str(path)!r} is a group; pass key=")
        bands = ds.attrs.get("bands")
        if bands is None and "bands" in h5:
            bands = h5["bands"][()]
        bands = [b.decode() if isinstance(b, bytes) else str(b) for b in bands] if bands is not None else None
        meta = {k: ds.attrs[k].item() for k in ("pixel_scale",) if k in ds.attrs}
        return ds[()], bands, meta


def read_cutouts(path: str | os.PathLike, *, bands: Sequence[str] | str | None = None, layout: str = "NCHW",
                 hdu: int | str | None = None, key: str | None = None) -> Cutouts:
    """Read image cutouts into float32 ``(n, n_bands, H, W)`` with band names.

    Parameters
    ----------
    path : str or path-like
        * FITS: one image extension per band (band name from the ``BAND`` card, else ``EXTNAME``; data
          (n, H, W)), or one 4-D cube
          (n, bands, H, W) / 3-D (bands, H, W) with an optional ``BANDS = 'g,r,z'`` header card;
        * NPZ: array ``images`` (or ``key``) plus optional string array ``bands`` (read with
          ``allow_pickle=False``);
        * HDF5: dataset ``images`` (or ``key``) with a ``bands`` attribute or a ``bands`` dataset.
    bands : sequence of str, optional
        Band names, overriding those in the file; needed when the file has none (else ``band0`` ...).
    layout : {"NCHW", "NHWC"}, default "NCHW"
        Axis order in the file; "NHWC" (channels last) is transposed.
    hdu, key : optional
        FITS extension or NPZ/HDF5 array name.

    Returns
    -------
    Cutouts
        ``images`` float32 (n, n_bands, H, W), ``bands`` tuple of str, ``meta`` dict (``pixel_scale``,
        ``unit`` when present). Non-finite pixels are kept (count logged).

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = write_cutouts(os.path.join(tmp.name, "c.npz"), np.zeros((2, 3, 8, 8)), ["g", "r", "z"])
    >>> c = read_cutouts(p)
    >>> c.images.shape, c.bands
    ((2, 3, 8, 8), ('g', 'r', 'z'))
    >>> tmp.cleanup()
    """
    path = _existing(path, "read_cutouts")
    fmt = _format(path, "read_cutouts", ("fits", "npz", "hdf5"))
    if fmt == "fits":
        data, names, meta = _read_fits_cutouts(path, hdu)
    else:
        data, names, meta = _read_npz_or_h5_cutouts(path, fmt, key)
    images = _cube(data, layout, path)
    names = _band_names(bands, names, images.shape[1], path)
    n_bad = int(np.size(images) - np.isfinite(images).sum())
    if n_bad:
        logger.info("read_cutouts(): %s has %d non-finite pixels", path, n_bad)
    return Cutouts(images=images, bands=tuple(names), meta=meta)


def _band_names(given: Sequence[str] | str | None, found: list[str] | None, n: int, path: Path) -> list[str]:
    names = list(given) if given is not None else found
    if names is None:
        return [f"band{i}" for i in range(n)]
    if len(names) != n:
        raise DataFileError(f"read_cutouts(): {len(names)} band names {names} for {n} image channels in "
                            f"{str(path)!r}; give one name per channel")
    return [str(b) for b in names]


def write_cutouts(path: str | os.PathLike, images: Any, bands: Sequence[str], *,
                  pixel_scale: float | None = None) -> Path:
    """Write cutouts (n, n_bands, H, W): FITS (one extension per band), NPZ or HDF5, by extension.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = write_cutouts(os.path.join(tmp.name, "c.fits"), np.ones((1, 2, 4, 4)), ["W1", "W2"])
    >>> read_cutouts(p).bands
    ('W1', 'W2')
    >>> tmp.cleanup()
    """
    path = Path(path).expanduser()
    fmt = _format(path, "write_cutouts", ("fits", "npz", "hdf5"))
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] != len(bands):
        raise DataFileError(f"write_cutouts(): 'images' must be (n, {len(bands)}, H, W) for bands {list(bands)}; "
                            f"got shape {images.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "fits":
        from astropy.io import fits

        hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(images[:, i], name=b) for i, b in enumerate(bands)]
        for h, band in zip(hdus[1:], bands):
            h.header["BAND"] = (band, "band name (EXTNAME is upper-cased by FITS)")
            if pixel_scale is not None:
                h.header["PIXSCALE"] = (pixel_scale, "arcsec / pixel")
        fits.HDUList(hdus).writeto(path, overwrite=True)
    elif fmt == "npz":
        extra = {"pixel_scale": np.float64(pixel_scale)} if pixel_scale is not None else {}
        np.savez_compressed(path, images=images, bands=np.asarray(bands, dtype=str), **extra)
    else:
        import h5py

        with h5py.File(path, "w") as h5:
            ds = h5.create_dataset("images", data=images, compression="gzip")
            ds.attrs["bands"] = np.asarray(bands, dtype="S")
            if pixel_scale is not None:
                ds.attrs["pixel_scale"] = pixel_scale
    return path


# --- spectra ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spectra:
    """Spectra on a common wavelength grid.

    Attributes
    ----------
    flux : numpy.ndarray, float32, shape (n, L)
    wavelength : numpy.ndarray, float64, shape (L,)
        Strictly increasing, in Angstrom (vacuum or air as the file says; not converted).
    flux_unit : str
        E.g. ``"1e-17 erg / (s cm2 Angstrom)"`` (SDSS); ``""`` when the file does not say.
    ivar : numpy.ndarray or None
        Inverse variances of ``flux``, shape (n, L).

    Examples
    --------
    :func:`read_spectra` returns one; :func:`write_spectra` writes the files it reads:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> wavelength = np.linspace(3800.0, 9200.0, 50)
    >>> flux = np.ones((4, 50))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_spectra(Path(tmp) / "spectra.fits", flux, wavelength,
    ...                          flux_unit="1e-17 erg / (s cm2 Angstrom)", ivar=np.full((4, 50), 4.0))
    ...     s = read_spectra(path)
    >>> len(s), s.flux.shape, s.wavelength[[0, -1]].tolist(), s.flux_unit, float(s.ivar[0, 0])
    (4, (4, 50), [3800.0, 9200.0], '1e-17 erg / (s cm2 Angstrom)', 4.0)
    """

    flux: np.ndarray
    wavelength: np.ndarray
    flux_unit: str = ""
    ivar: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.flux.shape[0])


def _to_angstrom(wave: np.ndarray, unit: str | None, path: Path) -> np.ndarray:
    if not unit:
        return wave
    import astropy.units as u

    try:
        return (wave * u.Unit(unit)).to_value(u.AA, equivalencies=u.spectral())
    except (ValueError, u.UnitsError) as exc:
        raise DataFileError(f"read_spectra(): wavelength unit {unit!r} in {str(path)!r} is not a length "
                            f"astropy understands") from exc


def _fits_wavelength(hdul: Any, header: Any, n_pix: int, path: Path) -> np.ndarray:
    for name in ("WAVELENGTH", "WAVE", "LOGLAM"):
        if name in hdul:
            wave = np.asarray(hdul[name].data, dtype=float).ravel()
            if name == "LOGLAM":
                return 10**wave
            return _to_angstrom(wave, hdul[name].header.get("BUNIT"), path)
    if "COEFF0" in header and "COEFF1" in header:  # SDSS log10 grid
        return 10 ** (header["COEFF0"] + header["COEFF1"] * np.arange(n_pix))
    if "CRVAL1" in header:
        step = header.get("CDELT1", header.get("CD1_1"))
        if step is None:
            raise DataFileError(f"read_spectra(): {str(path)!r} has CRVAL1 but neither CDELT1 nor CD1_1")
        grid = header["CRVAL1"] + step * (np.arange(n_pix) + 1 - header.get("CRPIX1", 1.0))
        grid = 10**grid if header.get("DC-FLAG", 0) == 1 else grid
        return _to_angstrom(grid, header.get("CUNIT1"), path)
    raise DataFileError(f"read_spectra(): {str(path)!r} has no wavelength grid (no WAVELENGTH extension, "
                        f"COEFF0/COEFF1 or CRVAL1/CDELT1 header cards)")


def _read_fits_spectra(path: Path, hdu: int | str | None) -> tuple:
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        target = hdul[hdu if hdu is not None else ("FLUX" if "FLUX" in hdul else 0)]
        if target.data is None:
            raise DataFileError(f"read_spectra(): the flux extension of {str(path)!r} is empty; pass hdu=")
        flux = np.atleast_2d(np.asarray(target.data))
        wave = _fits_wavelength(hdul, target.header, flux.shape[-1], path)
        ivar = np.asarray(hdul["IVAR"].data) if "IVAR" in hdul else None
        return flux, wave, str(target.header.get("BUNIT", "")), ivar


def _read_array_spectra(path: Path, fmt: str, key: str | None) -> tuple:
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as npz:
            for need in (key or "flux", "wavelength"):
                if need not in npz.files:
                    raise DataFileError(f"read_spectra(): {str(path)!r} has no array {need!r}; arrays: {npz.files}")
            unit = str(npz["flux_unit"]) if "flux_unit" in npz.files else ""
            wunit = str(npz["wavelength_unit"]) if "wavelength_unit" in npz.files else None
            ivar = npz["ivar"] if "ivar" in npz.files else None
            return npz[key or "flux"], _to_angstrom(npz["wavelength"], wunit, path), unit, ivar
    import h5py

    with h5py.File(path, "r") as h5:
        ds = _h5_key(h5, key, path, "read_spectra", default="flux")
        if "wavelength" not in h5:
            raise DataFileError(f"read_spectra(): {str(path)!r} has no 'wavelength' dataset")
        wave = _to_angstrom(h5["wavelength"][()], h5["wavelength"].attrs.get("unit"), path)
        unit = ds.attrs.get("unit", "")
        ivar = h5["ivar"][()] if "ivar" in h5 else None
        return ds[()], wave, unit.decode() if isinstance(unit, bytes) else str(unit), ivar


def read_spectra(path: str | os.PathLike, *, hdu: int | str | None = None, key: str | None = None,
                 flux_unit: str | None = None) -> Spectra:
    """Read spectra (n, L) and their wavelength grid (Angstrom) with flux units.

    Parameters
    ----------
    path : str or path-like
        * FITS: flux image (n, L) in extension ``FLUX`` (or ``hdu``; default the primary), ``BUNIT`` its unit;
          wavelengths from a ``WAVELENGTH``/``WAVE`` extension (``BUNIT``: length unit, default Angstrom),
          a ``LOGLAM`` extension (log10 Angstrom), SDSS ``COEFF0``/``COEFF1`` cards, or a linear
          ``CRVAL1``/``CDELT1``/``CRPIX1``/``CUNIT1`` WCS (``DC-FLAG = 1``: log10 grid); optional ``IVAR``.
        * NPZ: arrays ``flux``, ``wavelength`` and optional ``ivar``, ``flux_unit``, ``wavelength_unit``.
        * HDF5: datasets ``flux`` (attr ``unit``), ``wavelength`` (attr ``unit``), optional ``ivar``.
    hdu, key : optional
        FITS extension or NPZ/HDF5 name of the flux array.
    flux_unit : str, optional
        Overrides (or supplies) the flux unit.

    Returns
    -------
    Spectra

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = os.path.join(tmp.name, "s.h5")
    >>> _ = write_spectra(p, np.ones((2, 5)), np.linspace(4000, 8000, 5), flux_unit="erg/s/cm2/AA")
    >>> s = read_spectra(p)
    >>> s.flux.shape, float(s.wavelength[0]), s.flux_unit
    ((2, 5), 4000.0, 'erg/s/cm2/AA')
    >>> tmp.cleanup()
    """
    path = _existing(path, "read_spectra")
    fmt = _format(path, "read_spectra", ("fits", "npz", "hdf5"))
    flux, wave, unit, ivar = (_read_fits_spectra(path, hdu) if fmt == "fits"
                              else _read_array_spectra(path, fmt, key))
    flux = np.atleast_2d(np.asarray(flux))
    wave = np.asarray(wave, dtype=float).ravel()
    _check_grid(flux, wave, ivar, path)
    ivar_out = None if ivar is None else np.ascontiguousarray(_native(np.asarray(ivar)), dtype=np.float32)
    return Spectra(flux=np.ascontiguousarray(_native(flux), dtype=np.float32), wavelength=wave,
                   flux_unit=flux_unit if flux_unit is not None else unit, ivar=ivar_out)


def _check_grid(flux: np.ndarray, wave: np.ndarray, ivar: np.ndarray | None, path: Path) -> None:
    if flux.ndim != 2:
        raise DataFileError(f"read_spectra(): flux in {str(path)!r} has shape {flux.shape}; expected (n, L)")
    if wave.size != flux.shape[1]:
        raise DataFileError(f"read_spectra(): {str(path)!r} has {wave.size} wavelengths for {flux.shape[1]} "
                            f"flux pixels; they must match")
    if not np.all(np.isfinite(wave)) or np.any(np.diff(wave) <= 0) or np.any(wave <= 0):
        raise DataFileError(f"read_spectra(): the wavelength grid of {str(path)!r} must be positive, finite and "
                            f"strictly increasing")
    if ivar is not None and np.shape(ivar) != flux.shape:
        raise DataFileError(f"read_spectra(): 'ivar' in {str(path)!r} has shape {np.shape(ivar)}; flux has "
                            f"{flux.shape}")


def write_spectra(path: str | os.PathLike, flux: Any, wavelength: Any, *, flux_unit: str = "",
                  ivar: Any = None) -> Path:
    """Write spectra (n, L) with their wavelength grid (Angstrom): FITS, NPZ or HDF5, by extension.

    FITS files get the flux in extension ``FLUX`` (``BUNIT``), the grid in ``WAVELENGTH`` and ``IVAR``.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = write_spectra(os.path.join(tmp.name, "s.fits"), np.ones((1, 3)), [1.0, 2.0, 3.0])
    >>> read_spectra(p).wavelength.tolist()
    [1.0, 2.0, 3.0]
    >>> tmp.cleanup()
    """
    path = Path(path).expanduser()
    fmt = _format(path, "write_spectra", ("fits", "npz", "hdf5"))
    flux, wave = np.atleast_2d(np.asarray(flux, dtype=np.float32)), np.asarray(wavelength, dtype=float)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "fits":
        from astropy.io import fits

        hdus = [fits.PrimaryHDU(), fits.ImageHDU(flux, name="FLUX"), fits.ImageHDU(wave, name="WAVELENGTH")]
        hdus[1].header["BUNIT"] = flux_unit
        hdus[2].header["BUNIT"] = "Angstrom"
        if ivar is not None:
            hdus.append(fits.ImageHDU(np.asarray(ivar, dtype=np.float32), name="IVAR"))
        fits.HDUList(hdus).writeto(path, overwrite=True)
    elif fmt == "npz":
        extra = {"ivar": np.asarray(ivar, dtype=np.float32)} if ivar is not None else {}
        np.savez_compressed(path, flux=flux, wavelength=wave, flux_unit=np.asarray(flux_unit), **extra)
    else:
        import h5py

        with h5py.File(path, "w") as h5:
            h5.create_dataset("flux", data=flux, compression="gzip").attrs["unit"] = flux_unit
            h5.create_dataset("wavelength", data=wave).attrs["unit"] = "Angstrom"
            if ivar is not None:
                h5.create_dataset("ivar", data=np.asarray(ivar, dtype=np.float32), compression="gzip")
    return path
