"""``make_universe``: a mock galaxy survey (catalogue, images, spectra) with a planted causal truth.

The population (:mod:`~interpret.mock.population`) is drawn from documented structural equations; each galaxy
gets a rest-frame SED (:mod:`~interpret.mock.sed`, :mod:`~interpret.mock.infrared`), synthetic photometry
through real filter curves (:mod:`~interpret.mock.photometry`), multi-band cutouts
(:mod:`~interpret.mock.images`) and an SDSS-like spectrum (:mod:`~interpret.mock.spectra`). The planted DAG
and the IR-band/line mapping are in :mod:`~interpret.mock.truth`. Work is done in chunks through
:func:`interpret.parallel.parallel_map`; every noise term comes from a stream keyed by the seed and the column
(or the 64-galaxy block for image and spectrum noise), so results depend on ``seed`` only - not on
``chunk_size``, ``n_jobs`` or interventions on unrelated columns.

Images and spectra of a large survey do not fit in memory (10⁵ galaxies take about 7 GB), so
``make_universe(..., path="u.h5")`` writes them chunk by chunk into the HDF5 file and returns a universe whose
``images``, ``spectra`` and ``spectra_ivar`` are read from that file when indexed
(:class:`~interpret.mock._h5array.H5Array`); the values are bit-identical to the in-memory ones, and peak
memory is set by ``chunk_size``, not by ``n``.

Examples
--------
>>> import interpret as ip
>>> u = ip.mock.make_universe(n=8, seed=0, image_size=32, progress=False)
>>> u.images.shape, u.spectra.shape[0], u.catalog["r"].shape
((8, 9, 32, 32), 8, (8,))
>>> do = u.intervene({"dust_av": 0.0})
>>> bool((do.catalog["log_mstar"] == u.catalog["log_mstar"]).all()), bool((do.catalog["u"] != u.catalog["u"]).any())
(True, True)
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._digest import digest_file, digest_json
from .._seeding import int_seed
from .._validation import check_int
from ..data.bands import Band, BandSet, get_bandset
from ..data.lines import get_line
from ..exceptions import DataFileError, ValidationError
from ..parallel import parallel_map
from ._h5array import H5Array
from .images import DEFAULT_PIXEL_SCALE, check_image_size, pixel_noise, psf_fwhm_arcsec, render_images
from .photometry import (
    asinh_magnitude,
    asinh_magnitude_error,
    band_depths,
    band_maggies,
    flux_noise,
    sky_sigma,
)
from .population import (
    PHYSICAL_COLUMNS,
    check_redshift_range,
    column_rng,
    cosmology,
    simulate_population,
)
from .sed import EMISSION_LINES, attenuated_line_fluxes_10pc, coarse_grid, rest_frame_sed
from .spectra import DEFAULT_SKY_SIGMA, DLOG, noise_free_spectra, observed_grid, rest_grid_for, spectral_sigma
from .truth import LINE_FLUX_COLUMNS, Truth, line_column, make_truth

__all__ = ["Universe", "make_universe", "simulate_catalog", "universe_digest", "GENERATOR_VERSION"]

logger = logging.getLogger(__name__)
_BLOCK = 64  # galaxies per noise block (image/spectrum noise streams)
_FORMAT = 1
#: Version of the generator code. Bump it with every change that alters what :func:`make_universe` returns for
#: the same parameters; :func:`universe_digest` also digests the generator's source files, so an edit that
#: forgets the bump still changes the cache key.
GENERATOR_VERSION = 2
_GENERATOR_MODULES = ("universe", "population", "sed", "photometry", "images", "spectra", "infrared", "truth")
_NOT_IN_OUTPUT = ("progress", "n_jobs", "chunk_size", "path")   # results do not depend on these (module docstring)
_ON_DISK = ("images", "spectra", "spectra_ivar")     # the arrays that make_universe(path=...) leaves on disk
_ARRAYS = ("images", "wavelength", "spectra", "spectra_ivar", "true_flux")


@dataclass(frozen=True, eq=False, repr=False)
class Universe:
    """A simulated survey with planted truth (see :func:`make_universe`).

    Attributes
    ----------
    catalog : pandas.DataFrame
        One row per galaxy: physical columns, asinh AB magnitudes and errors per band, line fluxes.
    bands : BandSet
        Image bands, in channel order.
    images : numpy.ndarray, H5Array or None
        float32 (n, n_bands, H, W), nanomaggies per pixel. An :class:`~interpret.mock._h5array.H5Array`
        (rows read from the file when indexed) for a universe made with ``path=`` or loaded with ``lazy=True``.
    wavelength : numpy.ndarray or None
        (L,) observed-frame Angstrom.
    spectra, spectra_ivar : numpy.ndarray, H5Array or None
        float32 (n, L), 1e-17 erg/s/cm²/Å, and its inverse variance (H5Array as ``images``).
    truth : Truth
        Planted DAG over catalogue columns and IR-band -> lines map.
    seed : int
    config : dict
        Every argument needed to regenerate the universe (JSON-able).
    true_flux : numpy.ndarray
        (n, n_bands) noise-free band fluxes [nanomaggies]; the noise-free images sum to these.
    """

    catalog: pd.DataFrame
    bands: BandSet
    images: np.ndarray | H5Array | None
    wavelength: np.ndarray | None
    spectra: np.ndarray | H5Array | None
    spectra_ivar: np.ndarray | H5Array | None
    truth: Truth
    seed: int
    config: dict = field(default_factory=dict)
    true_flux: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.catalog)

    def __repr__(self) -> str:
        parts = [f"n={self.n}", f"bands={','.join(self.bands.names)}", f"seed={self.seed}"]
        if self.images is not None:
            parts.append(f"images={self.images.shape[1:]}")
        if self.spectra is not None:
            parts.append(f"spectra={self.spectra.shape[1]} px {self.wavelength[0]:.0f}-{self.wavelength[-1]:.0f} A")
        return f"Universe({', '.join(parts)})"

    @property
    def n(self) -> int:
        """Number of galaxies."""
        return len(self.catalog)

    def noise_free_magnitudes(self, bands: Sequence[str] | None = None) -> pd.DataFrame:
        """Asinh AB magnitudes of the noise-free band fluxes (``true_flux``), one column per band.

        The same softening as the catalogue's magnitudes (each band's 1σ sky noise), so that
        ``catalog[b] - noise_free_magnitudes()[b]`` is exactly the injected photometric noise in magnitudes.

        Parameters
        ----------
        bands : sequence of str, optional
            Band names (default: every band of :attr:`bands`).

        Examples
        --------
        >>> import interpret as ip
        >>> u = ip.mock.make_universe(n=50, seed=0, images=False, spectra=False, progress=False)
        >>> clean = u.noise_free_magnitudes(["r", "W3"])
        >>> list(clean.columns), bool(abs(float((u.catalog["r"] - clean["r"]).median())) < 0.01)
        (['r', 'W3'], True)
        """
        if self.true_flux is None:
            raise ValidationError("Universe.noise_free_magnitudes(): this universe has no 'true_flux' "
                                  "(made before it was stored); regenerate it with make_universe()")
        names = list(self.bands.names)
        wanted = names if bands is None else [str(b) for b in bands]
        unknown = [b for b in wanted if b not in names]
        if unknown:
            raise ValidationError(f"Universe.noise_free_magnitudes(): unknown bands {unknown}; this universe "
                                  f"has {', '.join(names)}")
        depths = self.config.get("depths", {})
        missing = [b for b in wanted if b not in depths]
        if missing:
            raise ValidationError(f"Universe.noise_free_magnitudes(): the config has no depth for {missing}")
        out = {}
        for b in wanted:
            out[b] = asinh_magnitude(self.true_flux[:, names.index(b)] * 1e-9, sky_sigma(depths[b]))
        return pd.DataFrame(out, index=self.catalog.index)

    def subset(self, idx: Any) -> Universe:
        """The galaxies ``idx`` (integer positions or boolean mask), as a new Universe (index reset)."""
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (self.n,):
                raise ValidationError(f"Universe.subset(): boolean 'idx' must have shape ({self.n},); got {idx.shape}")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).ravel()
        if idx.size and (idx.min() < -self.n or idx.max() >= self.n):
            raise ValidationError(f"Universe.subset(): 'idx' out of range for {self.n} galaxies")

        def take(a: np.ndarray | H5Array | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        return replace(self, catalog=self.catalog.iloc[idx].reset_index(drop=True), images=take(self.images),
                       spectra=take(self.spectra), spectra_ivar=take(self.spectra_ivar),
                       true_flux=take(self.true_flux))

    def intervene(self, interventions: Mapping[str, Any], *, images: bool = False,
                  spectra: bool = False) -> Universe:
        """Re-simulate this universe under ``do(column = value)`` with every noise term unchanged.

        Parameters
        ----------
        interventions : dict
            ``{physical column: scalar or (n,) array}``.
        images, spectra : bool, default False
            Also render images / spectra of the intervened universe.
        """
        cfg = {k: v for k, v in self.config.items() if k in _CONFIG_KEYS}
        return make_universe(self.n, self.seed, **cfg, images=images, spectra=spectra, progress=False,
                             interventions=interventions)

    # --- persistence (HDF5, no pickle) ---------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write to an HDF5 file (``.h5``); arrays, catalogue columns and JSON metadata only - no pickle.

        The file is written beside ``path`` under a temporary name and renamed into place, so a crash or a
        kill leaves either the previous file or none at ``path``, never a partial one. Arrays read from disk
        (:class:`~interpret.mock._h5array.H5Array`) are copied block by block, in bounded memory.
        """
        import h5py

        with _atomic_file(path) as tmp, h5py.File(tmp, "w") as fh:
            self._write_h5(fh)

    def _write_h5(self, fh: Any) -> None:
        """Metadata, catalogue and every array not yet in the open file ``fh``."""
        fh.attrs["format"] = _FORMAT
        fh.attrs["generator"] = GENERATOR_VERSION
        fh.attrs["kind"] = "interpret.mock.Universe"
        fh.attrs["seed"] = self.seed
        fh.attrs["config"] = json.dumps(self.config)
        fh.attrs["bands"] = json.dumps([[b.name, b.survey, b.wavelength, b.speclite_name, b.depth]
                                        for b in self.bands])
        fh.attrs["dag"] = json.dumps([list(e) for e in self.truth.dag.edges])
        fh.attrs["nodes"] = json.dumps(list(self.truth.dag.nodes))
        fh.attrs["ir_lines"] = json.dumps(self.truth.ir_lines)
        fh.attrs["columns"] = json.dumps(list(self.catalog.columns))
        cat = fh.create_group("catalog")
        for i, col in enumerate(self.catalog.columns):
            cat.create_dataset(f"c{i:03d}", data=self.catalog[col].to_numpy())
        for name in _ARRAYS:
            value = getattr(self, name)
            if value is None or name in fh:
                continue
            if isinstance(value, H5Array):
                ds = _create_row_dataset(fh, name, value.shape, value.dtype)
                step = max(_BLOCK, value._rows_per_block // _BLOCK * _BLOCK)
                for start in range(0, len(value), step):
                    ds[start:start + step] = value[start:start + step]
            else:
                fh.create_dataset(name, data=value, compression="gzip" if name == "images" else None,
                                  compression_opts=1 if name == "images" else None)

    @classmethod
    def load(cls, path: str | os.PathLike, *, lazy: bool = False) -> Universe:
        """Read a universe written by :meth:`save` or by ``make_universe(..., path=...)``.

        Parameters
        ----------
        path : str or path-like
            The HDF5 file.
        lazy : bool, default False
            Leave ``images``, ``spectra`` and ``spectra_ivar`` in the file as
            :class:`~interpret.mock._h5array.H5Array` (rows read when indexed) instead of reading them into
            memory; the file must then stay in place while they are used.
        """
        import h5py
        import networkx as nx

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"Universe.load(): no such file {str(path)!r}")
        try:
            fh = h5py.File(path, "r")
        except OSError as exc:
            raise DataFileError(f"Universe.load(): {str(path)!r} is not an HDF5 file ({exc})") from exc
        with fh:
            if fh.attrs.get("kind") != "interpret.mock.Universe":
                raise DataFileError(f"Universe.load(): {str(path)!r} does not hold a mock Universe")
            columns = json.loads(fh.attrs["columns"])
            catalog = pd.DataFrame({c: fh["catalog"][f"c{i:03d}"][()] for i, c in enumerate(columns)})
            bands = BandSet(Band(n, s, w, sl, d) for n, s, w, sl, d in json.loads(fh.attrs["bands"]))
            dag = nx.DiGraph()
            dag.add_nodes_from(json.loads(fh.attrs["nodes"]))
            dag.add_edges_from(tuple(e) for e in json.loads(fh.attrs["dag"]))
            arrays = {k: (None if k not in fh else H5Array(path, k) if lazy and k in _ON_DISK else fh[k][()])
                      for k in _ARRAYS}
            return cls(catalog=catalog, bands=bands, truth=Truth(dag, json.loads(fh.attrs["ir_lines"])),
                       seed=int(fh.attrs["seed"]), config=json.loads(fh.attrs["config"]), **arrays)


@contextlib.contextmanager
def _atomic_file(path: str | os.PathLike) -> Iterator[str]:
    """A temporary file beside ``path``, renamed onto it when the block succeeds and removed when it fails, so
    a crash or a kill leaves the previous file or none at ``path``, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _create_row_dataset(fh: Any, name: str, shape: tuple[int, ...], dtype: Any) -> Any:
    """An empty (n, ...) dataset chunked by 64-galaxy blocks, uncompressed: gzip saves 6 % of the noisy images'
    size and makes writing them 70 times slower (benchmarks/RESULTS.md)."""
    return fh.create_dataset(name, shape=shape, dtype=dtype, chunks=(max(1, min(_BLOCK, shape[0])), *shape[1:]))


_CONFIG_KEYS = ("bands", "image_size", "redshift_range", "pixel_scale", "depths", "spectral_noise",
                "wavelength_range", "chunk_size")


class _ChunkWorker:
    """Simulates the observables of galaxies [start, stop) (picklable for process/Dask backends)."""

    def __init__(self, pop: dict[str, np.ndarray], bands: BandSet, cfg: dict[str, Any], seed: int,
                 images: bool, spectra: bool):
        self.pop, self.bands, self.cfg, self.seed = pop, bands, cfg, seed
        self.do_images, self.do_spectra = images, spectra

    def _block_rng(self, kind: str, block: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(kind.encode()), block])

    def _noise(self, kind: str, start: int, shape: tuple[int, ...]) -> np.ndarray:
        blocks = []
        for b0 in range(start, start + shape[0], _BLOCK):
            m = min(_BLOCK, start + shape[0] - b0)
            blocks.append(self._block_rng(kind, b0 // _BLOCK).standard_normal((m, *shape[1:]), dtype=np.float32))
        return np.concatenate(blocks)

    def __call__(self, bounds: tuple[int, int]) -> dict[str, np.ndarray]:
        start, stop = bounds
        p = {k: v[start:stop] for k, v in self.pop.items()}
        z, d_l = p["redshift"], p["d_l_pc"]
        total, bulge = rest_frame_sed(p, coarse_grid())
        both = band_maggies(np.concatenate([total, bulge]), coarse_grid(), np.concatenate([z, z]),
                            np.concatenate([d_l, d_l]), self.bands)
        out = {"maggies": both[: stop - start], "bulge": both[stop - start:]}
        idx = [EMISSION_LINES.index(line) for line in LINE_FLUX_COLUMNS]
        out["lines"] = attenuated_line_fluxes_10pc(p)[:, idx] * ((10.0 / d_l) ** 2 * 1e17)[:, None]
        if self.do_images:
            out["images"] = self._images(p, out["maggies"] * 1e9, out["bulge"] * 1e9, start)
        if self.do_spectra:
            wave = observed_grid(*self.cfg["wavelength_range"])
            grid = rest_grid_for(wave, self.cfg["redshift_range"])
            spec = noise_free_spectra(p, z, d_l, wave, grid)
            sigma = spectral_sigma(spec, self.cfg["spectral_noise"])
            out["spectra"] = spec + sigma * self._noise("spectra", start, spec.shape)
            out["spectra_ivar"] = (1.0 / sigma**2).astype(np.float32)
        return out

    def _images(self, p: dict[str, np.ndarray], flux: np.ndarray, bulge: np.ndarray, start: int) -> np.ndarray:
        scale = self.cfg["pixel_scale"]
        fwhm = psf_fwhm_arcsec(self.bands.names, [b.survey for b in self.bands]) / scale
        sky = flux_noise(np.zeros((1, len(self.bands))), self.cfg["_depths"])[0] * 1e9
        morph = {"r_eff_px": p["r_eff"] / p["kpc_per_arcsec"] / scale, "sersic_n": p["sersic_n"],
                 "axis_ratio": p["axis_ratio"], "position_angle": p["position_angle"]}
        img = render_images(flux, bulge, morph, fwhm, pixel_noise(sky, fwhm), self.cfg["image_size"], None)
        sigma = pixel_noise(sky, fwhm).astype(np.float32)[None, :, None, None]
        img += sigma * self._noise("images", start, img.shape)
        return img


def _validate(n: Any, seed: Any, bands: Any, image_size: Any, redshift_range: Any, chunk_size: Any,
              pixel_scale: Any, spectral_noise: Any, wavelength_range: Any) -> tuple[int, int, BandSet]:
    func = "make_universe"
    n = check_int(n, "n", func, minimum=1)
    seed = check_int(int_seed(seed), "seed", func, minimum=0)
    check_int(image_size, "image_size", func, minimum=1)
    check_int(chunk_size, "chunk_size", func, minimum=1)
    check_redshift_range(redshift_range, func)
    try:
        bandset = get_bandset("sdss+wise" if bands is None else bands)
    except ValidationError as exc:
        raise ValidationError(f"{func}(): 'bands': {exc}") from exc
    if len(bandset) == 0:
        raise ValidationError(f"{func}(): 'bands' is empty; give at least one band, e.g. 'sdss'")
    for name, value in (("pixel_scale", pixel_scale), ("spectral_noise", spectral_noise)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise ValidationError(f"{func}(): '{name}' must be a positive number; got {value!r}")
    lo, hi = (float(v) for v in wavelength_range)
    if not (3000.0 <= lo < hi <= 11000.0 and hi / lo > 1.01):
        raise ValidationError(f"{func}(): 'wavelength_range' must satisfy 3000 <= lo < hi <= 11000 Angstrom; "
                              f"got {wavelength_range!r}")
    return n, seed, bandset


def make_universe(
    n: int = 2000,
    seed: int | np.random.Generator | None = None,
    *,
    bands: str | Sequence[str] | BandSet | None = None,
    image_size: int = 32,
    redshift_range: tuple[float, float] = (0.01, 1.0),
    images: bool = True,
    spectra: bool = True,
    chunk_size: int = 1024,
    progress: bool | None = None,
    pixel_scale: float = DEFAULT_PIXEL_SCALE,
    depths: str | Mapping[str, float] | None = "deep",
    spectral_noise: float = DEFAULT_SKY_SIGMA,
    wavelength_range: tuple[float, float] = (3800.0, 9200.0),
    interventions: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
    path: str | os.PathLike | None = None,
) -> Universe:
    """Simulate a mock galaxy survey with a planted causal truth.

    Parameters
    ----------
    n : int, default 2000
        Number of galaxies (>= 1).
    seed : int, Generator or None, default None
        Seed; the same int gives bit-identical outputs. None draws a fresh one (recorded as ``u.seed``).
    bands : str, list of str or BandSet, optional
        Image/photometry bands (anything :func:`interpret.data.bands.get_bandset` accepts); default
        ``"sdss+wise"`` = u g r i z W1 W2 W3 W4.
    image_size : int, default 32
        Stamp side in pixels; must be >= 8 and >= twice the broadest PSF FWHM in pixels.
    redshift_range : (float, float), default (0.01, 1.0)
        0 < lo < hi <= 3.
    images, spectra : bool, default True
        Render cutouts / spectra (the catalogue is always made).
    chunk_size : int, default 1024
        Galaxies simulated per task (rounded up to a multiple of 64); bounds memory. The values do not depend
        on it.
    progress : bool or None, default None
        Progress bar over chunks (None: on unless ``CI`` is set).
    pixel_scale : float, default 0.8
        Arcsec per pixel, common to all bands.
    depths : {"deep", "survey"} or dict, default "deep"
        5σ point-source depths: ``"survey"`` the real survey depths (SDSS, AllWISE), ``"deep"`` those plus
        2.0 mag (SDSS) / 2.5-4 mag (WISE) so every band carries signal, or ``{band: AB depth}``
        (see :func:`interpret.mock.photometry.band_depths`).
    spectral_noise : float, default 0.15
        Per-pixel sky σ of the spectra [1e-17 erg/s/cm²/Å]; SDSS depth is about 1.5 (see
        :mod:`interpret.mock.spectra`).
    wavelength_range : (float, float), default (3800, 9200)
        Observed spectral range [Angstrom]; log-λ pixels of 1e-4 dex, resolution R = 2000.
    interventions : dict, optional
        ``{physical column: value}`` applied with the do-operator (see :meth:`Universe.intervene`).
    n_jobs : int, optional
        Parallel workers for the chunks (:func:`interpret.parallel.parallel_map`).
    path : str or path-like, optional
        Write the universe to this HDF5 file as it is made, images and spectra chunk by chunk, and return it
        with ``images``, ``spectra`` and ``spectra_ivar`` read from the file when indexed
        (:meth:`Universe.load` with ``lazy=True``): peak memory is then about ``chunk_size`` galaxies of
        images and spectra plus the catalogue (under 2 GB for 10⁵ galaxies), whatever ``n``. The values are
        bit-identical to those made in memory; the file is replaced atomically, as :meth:`Universe.save`.

    Returns
    -------
    Universe
        ``catalog`` columns: physical (see :func:`interpret.mock.population.simulate_population`), one asinh
        AB magnitude per band named by the band (Lupton et al. 1999 softening = the band's 1σ sky noise;
        equal to AB for detected sources) with ``<band>_err``, and ``flux_<line>`` emission-line fluxes
        [1e-17 erg/s/cm²] for Hα, Hβ, [O III]5007, [N II]6584, [O II]3727. Their noise is that of a
        matched-filter measurement on the spectra's sky noise alone (drawn apart from the spectra's noise);
        the continuum's shot noise, left out, would add <= 4 % to it for 99 % of galaxies at the default depth.

    Raises
    ------
    ValidationError
        n <= 0, unknown band, image too small for the PSF, impossible redshift range, bad intervention, a depth
        that is not a finite 5-sigma AB magnitude in [10, 40], or arrays (``n`` x ``image_size``) that would
        not fit in the available memory (the message gives the estimate), or, with ``path``, on the disk.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import interpret as ip
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "u.h5")
    >>> big = ip.mock.make_universe(n=80, seed=0, image_size=16, bands="sdss", chunk_size=64, path=path,
    ...                             progress=False)
    >>> small = ip.mock.make_universe(n=80, seed=0, image_size=16, bands="sdss", progress=False)
    >>> type(big.images).__name__, bool((big.images[[3, 70]] == small.images[[3, 70]]).all())
    ('H5Array', True)
    >>> tmp.cleanup()
    """
    n, seed, bandset = _validate(n, seed, bands, image_size, redshift_range, chunk_size, pixel_scale,
                                 spectral_noise, wavelength_range)
    zr = (float(redshift_range[0]), float(redshift_range[1]))
    fwhm_px = psf_fwhm_arcsec(bandset.names, [b.survey for b in bandset]) / pixel_scale
    if images:
        check_image_size(image_size, fwhm_px, bandset.names, "make_universe")
    dep = _checked_depths(bandset, depths)
    _check_memory(n, bandset, int(image_size), images, spectra, wavelength_range, path)
    cfg = {"bands": [f"{b.survey}:{b.name}" for b in bandset], "image_size": int(image_size),
           "redshift_range": list(zr), "pixel_scale": float(pixel_scale),
           "depths": dict(zip(bandset.names, dep.tolist())), "spectral_noise": float(spectral_noise),
           "wavelength_range": [float(v) for v in wavelength_range], "chunk_size": int(chunk_size)}
    pop_df = simulate_population(n, seed, redshift_range=zr, interventions=interventions)
    pop = {c: pop_df[c].to_numpy(dtype=float) for c in PHYSICAL_COLUMNS}
    pop["d_l_pc"] = cosmology(pop["redshift"], "d_l_pc")
    pop["kpc_per_arcsec"] = cosmology(pop["redshift"], "kpc_per_arcsec")
    worker = _ChunkWorker(pop, bandset, {**cfg, "redshift_range": zr, "_depths": dep}, seed, images, spectra)

    def assemble(merged: dict[str, Any]) -> Universe:
        logger.info("simulated %d galaxies (%d bands, images=%s, spectra=%s)", n, len(bandset), images, spectra)
        return Universe(
            catalog=_observed_columns(pop_df, merged, bandset, dep, seed, cfg), bands=bandset,
            images=merged.get("images"), wavelength=observed_grid(*cfg["wavelength_range"]) if spectra else None,
            spectra=merged.get("spectra"), spectra_ivar=merged.get("spectra_ivar"),
            truth=make_truth(bandset, zr), seed=seed, config=cfg, true_flux=merged["maggies"] * 1e9,
        )

    if path is None:
        return assemble(_run_chunks(worker, n, chunk_size, n_jobs, progress, _in_memory))
    return _make_on_disk(path, worker, n, chunk_size, n_jobs, progress, assemble)


def _in_memory(key: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.empty(shape, dtype=dtype)


def _make_on_disk(path: str | os.PathLike, worker: _ChunkWorker, n: int, chunk_size: int, n_jobs: int | None,
                  progress: bool | None, assemble: Callable[[dict[str, Any]], Universe]) -> Universe:
    """Stream the chunks' images and spectra into HDF5 datasets, then add the catalogue and metadata."""
    import h5py

    with _atomic_file(path) as tmp, h5py.File(tmp, "w") as fh:
        def alloc(key: str, shape: tuple[int, ...], dtype: Any) -> Any:
            return _create_row_dataset(fh, key, shape, dtype) if key in _ON_DISK else np.empty(shape, dtype=dtype)

        assemble(_run_chunks(worker, n, chunk_size, n_jobs, progress, alloc))._write_h5(fh)
    return Universe.load(path, lazy=True)


@functools.lru_cache(maxsize=1)
def _generator_code_digest() -> str:
    """Digest of the generator's source files and of the libraries whose data it reads (filter curves)."""
    import astropy
    import speclite

    here = Path(__file__).parent
    files = [here / f"{m}.py" for m in _GENERATOR_MODULES] + [here.parent / "data" / f"{m}.py"
                                                              for m in ("bands", "lines")]
    return digest_json([[f.name, digest_file(f)] for f in files if f.exists()] +
                       [["speclite", speclite.__version__], ["astropy", astropy.__version__]])


def universe_digest(n: int = 2000, seed: int | None = None, **kwargs: Any) -> str:
    """Cache key of ``make_universe(n, seed, **kwargs)``: a digest of the generator code and every parameter.

    The key covers :data:`GENERATOR_VERSION`, a digest of the generator's source files, and all parameters of
    :func:`make_universe` with their defaults filled in and normalised (band names, depths in AB), so calls
    that give the same universe share a key and any change of code or parameters gives a new one.
    ``progress``, ``n_jobs`` and ``chunk_size`` do not change the output and are left out.

    Examples
    --------
    >>> from interpret.mock import universe_digest
    >>> universe_digest(100, 0) == universe_digest(n=100, seed=0, depths="deep", progress=False)
    True
    >>> universe_digest(100, 0) == universe_digest(100, 1)
    False
    """
    import inspect

    if seed is None or isinstance(seed, np.random.Generator):
        raise ValidationError("universe_digest(): a fresh (seed=None) universe has no reproducible key; pass the "
                              "int seed it was made with (u.seed)")
    try:
        bound = inspect.signature(make_universe).bind(n, seed, **kwargs)
    except TypeError as exc:
        raise ValidationError(f"universe_digest(): {exc}; pass make_universe()'s keywords") from exc
    bound.apply_defaults()
    params = {k: v for k, v in bound.arguments.items() if k not in _NOT_IN_OUTPUT}
    n, seed, bandset = _validate(params["n"], params["seed"], params["bands"], params["image_size"],
                                 params["redshift_range"], 64, params["pixel_scale"], params["spectral_noise"],
                                 params["wavelength_range"])
    params.update(n=n, seed=seed, bands=[f"{b.survey}:{b.name}" for b in bandset],
                  depths=_checked_depths(bandset, params["depths"]).tolist(),
                  interventions=dict(sorted((params["interventions"] or {}).items())))
    return digest_json({"generator": GENERATOR_VERSION, "code": _generator_code_digest(), "params": params})


def _checked_depths(bandset: BandSet, depths: Any) -> np.ndarray:
    """:func:`band_depths`, refusing non-numeric, non-finite or implausible values (naming the band)."""
    if isinstance(depths, Mapping):
        for band, value in depths.items():
            try:
                v = float(value)
            except (TypeError, ValueError):
                v = float("nan")
            if not (np.isfinite(v) and 10.0 <= v <= 40.0):
                raise ValidationError(f"make_universe(): depths[{band!r}] must be a 5-sigma AB depth between 10 and "
                                      f"40 mag; got {value!r}")
    return band_depths(bandset, depths)


def _check_memory(n: int, bandset: BandSet, image_size: int, images: bool, spectra: bool,
                  wavelength_range: Sequence[float], path: str | os.PathLike | None = None) -> None:
    """Refuse a universe whose arrays cannot fit in memory (or, with ``path``, whose images and spectra cannot
    fit on the disk), with the estimate and the knobs to turn."""
    import shutil

    from .._memory import available_memory

    n_pix = int(np.log10(float(wavelength_range[1]) / float(wavelength_range[0])) / DLOG) + 1
    parts = {"catalogue": n * 8 * 3 * (len(PHYSICAL_COLUMNS) + 3 * len(bandset) + 2 * len(LINE_FLUX_COLUMNS)),
             "images": n * len(bandset) * image_size ** 2 * 4 if images else 0,
             "spectra": n * n_pix * 4 * 3 if spectra else 0}
    if path is not None:
        folder = Path(path).resolve().parent
        while not folder.exists():
            folder = folder.parent
        disk, free = parts.pop("images") + parts.pop("spectra") * 2 // 3, shutil.disk_usage(folder).free
        if disk > free:
            raise ValidationError(f"make_universe(): n={n} with image_size={image_size} needs about "
                                  f"{disk / 2**30:.3g} GiB of disk for images and spectra but {str(folder)!r} has "
                                  f"{free / 2**30:.3g} GiB free; choose another 'path', or lower 'n' or 'image_size'")
    need, avail = sum(parts.values()), available_memory()
    if need > avail:
        what = ", ".join(f"{k} {v / 2**30:.3g} GiB" for k, v in parts.items() if v)
        raise ValidationError(f"make_universe(): n={n} with image_size={image_size} needs about "
                              f"{need / 2**30:.3g} GiB ({what}) but {avail / 2**30:.3g} GiB are available; lower "
                              "'n' or 'image_size', pass images=False / spectra=False, or give 'path' to write images "
                              "and spectra to disk chunk by chunk")


def _run_chunks(worker: _ChunkWorker, n: int, chunk_size: int, n_jobs: int | None, progress: bool | None,
                alloc: Callable[[str, tuple[int, ...], Any], Any]) -> dict[str, Any]:
    """Run ``worker`` over chunks, a few at a time, copying results into the arrays ``alloc(key, shape, dtype)``
    returns (numpy arrays, or HDF5 datasets for arrays that stay on disk): memory is bounded by a few chunks.

    BLAS runs single-threaded here: the chunk's products are thin (``(1024, ~10) @ (~10, L)``), so a second
    BLAS thread saves <= 10 % on an idle machine but costs ~3x when the other core is busy (OpenBLAS threads
    wait for each other) - the apparent super-linear cost of long runs on a shared 2-core machine (issue 21).
    Parallelism comes from ``n_jobs`` (one chunk per worker). Values are unchanged (bit-identical).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _run_chunk_groups(worker, n, chunk_size, n_jobs, progress, alloc)


def _run_chunk_groups(worker: _ChunkWorker, n: int, chunk_size: int, n_jobs: int | None, progress: bool | None,
                      alloc: Callable[[str, tuple[int, ...], Any], Any]) -> dict[str, Any]:
    from .._progress import progress_bar
    from ..parallel import effective_n_jobs

    step = -(-int(chunk_size) // _BLOCK) * _BLOCK
    bounds = [(s, min(s + step, n)) for s in range(0, n, step)]
    per_call = max(1, effective_n_jobs(n_jobs))
    groups = [bounds[i:i + per_call] for i in range(0, len(bounds), per_call)]
    out: dict[str, Any] = {}
    bar = progress_bar(range(len(bounds)), progress=progress, desc="make_universe", total=len(bounds))
    it = iter(bar)
    for group in groups:
        for (start, stop), part in zip(group, parallel_map(worker, group, n_jobs=n_jobs, progress=False)):
            for key, arr in part.items():
                if key not in out:
                    out[key] = alloc(key, (n, *arr.shape[1:]), arr.dtype)
                out[key][start:stop] = arr
            next(it, None)
    if hasattr(bar, "close"):
        bar.close()
    return out


def _observed_columns(pop_df: pd.DataFrame, merged: dict[str, np.ndarray], bands: BandSet, depths: np.ndarray,
                      seed: int, cfg: dict[str, Any]) -> pd.DataFrame:
    """Add noisy asinh magnitudes, their errors and noisy line fluxes to the physical catalogue."""
    true = merged["maggies"]
    soft = sky_sigma(depths)
    sigma = flux_noise(true, depths)
    cols: dict[str, np.ndarray] = {}
    errs: dict[str, np.ndarray] = {}
    for j, name in enumerate(bands.names):
        obs = true[:, j] + sigma[:, j] * column_rng(seed, f"noise:{name}").standard_normal(len(true))
        cols[name] = asinh_magnitude(obs, soft[j])
        errs[f"{name}_err"] = asinh_magnitude_error(obs, flux_noise(obs[:, None], depths[j:j + 1])[:, 0], soft[j])
    z = pop_df["redshift"].to_numpy()
    lines: dict[str, np.ndarray] = {}
    for j, line in enumerate(LINE_FLUX_COLUMNS):
        lam = get_line(line).wavelength * (1 + z)
        sig = 2.3 * cfg["spectral_noise"] * lam * np.log(10) * DLOG
        noise = column_rng(seed, f"noise:{line_column(line)}").standard_normal(len(z))
        lines[line_column(line)] = merged["lines"][:, j] + sig * noise
    return pd.concat([pop_df, pd.DataFrame({**cols, **errs, **lines})], axis=1)


def simulate_catalog(n: int = 2000, seed: int | np.random.Generator | None = None, *, interventions: Mapping[str, Any] | None = None,
                     **kwargs: Any) -> pd.DataFrame:
    """The catalogue of :func:`make_universe` alone (no images or spectra), optionally under interventions.

    Parameters
    ----------
    n, seed : int (seed: int, Generator or None)
        As :func:`make_universe`.
    interventions : dict, optional
        ``{physical column: scalar or (n,) array}`` (do-operator; all noise terms unchanged).
    **kwargs
        Other :func:`make_universe` keywords (bands, redshift_range, depths, ...).

    Examples
    --------
    >>> from interpret.mock.universe import simulate_catalog
    >>> a = simulate_catalog(50, seed=1, progress=False)
    >>> b = simulate_catalog(50, seed=1, interventions={"metallicity": 8.0}, progress=False)
    >>> bool((a["r_eff"] == b["r_eff"]).all()), bool((a["W3"] != b["W3"]).any())
    (True, True)
    """
    kwargs.setdefault("progress", False)
    return make_universe(n, seed, images=False, spectra=False, interventions=interventions, **kwargs).catalog
