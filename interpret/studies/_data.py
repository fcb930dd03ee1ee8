"""Where a study's data come from: the user's files (``[data]``), the mock universe or a packaged sample.

Every study accepts, in its config, the user's own files instead of its default data::

    [data]
    catalog = "my_catalog.fits"     # interpret.data.read_catalog (FITS / HDF5 / Parquet / CSV / ECSV)
    fluxes = {FLUX = "{band}"}      #   read_catalog options: fluxes -> AB magnitudes, flux_unit
    flux_unit = "nanomaggy"         #   ("nanomaggy", "maggy", "jansky", ...), extinction, hdu, key
    images  = "my_cutouts.h5"       # interpret.data.read_cutouts -> (n, bands, H, W)
    spectra = "my_spectra.h5"       # interpret.data.read_spectra -> (n, L) + wavelength
    bands   = ["g", "r", "i"]       # image studies: the cutout bands to use, in this order (by the file's
                                    #   band names; a file without names gets these, one per channel)
    columns = ["u", "g", "r"]       # the model's inputs, in order (catalogue studies)
    target  = "redshift"            # the column the model predicts
    split   = "split"               # train / val / test per row: held-out results use the test rows only

A ``split`` column is how a study learns which galaxies the model never saw. Without one, a study that
trains its own reference model uses that model's seeded split; a user's model is scored on every row, and
the report says that the training rows are unknown (the metrics may be optimistic).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ConfigError

log = logging.getLogger(__name__)

__all__ = ["StudyData", "Split", "user_data", "study_data", "mock_universe", "split_rows", "colours",
           "BandNames", "require_columns", "held_out", "with_target", "finite_pixels",
           "fit_subset", "note_unknown_split"]

_SPLIT_VALUES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                 "test": "test", "testing": "test"}


@dataclass
class StudyData:
    """Inputs of a study, whatever their origin (mirrors the mock Universe's attributes)."""

    catalog: pd.DataFrame
    bands: Any = None
    images: np.ndarray | None = None
    wavelength: np.ndarray | None = None
    spectra: np.ndarray | None = None
    truth: Any = None
    source: str = "mock"
    universe: Any = None      # the mock Universe itself (None for user data)
    split: np.ndarray | None = None   # per-row "train" / "val" / "test" from the user's split column
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)   # what the cutout file says of itself (pixel_scale)

    def __len__(self) -> int:
        return len(self.catalog)

    @property
    def true_flux(self) -> np.ndarray | None:
        """The mock's noise-free band fluxes (None for user data): the IR reference is fitted on them."""
        return None if self.universe is None else self.universe.true_flux

    def noise_free_magnitudes(self, bands: Any = None) -> pd.DataFrame:
        """See :meth:`interpret.mock.Universe.noise_free_magnitudes` (mock data only)."""
        if self.universe is None:
            raise ValueError("noise-free magnitudes exist for the mock universe only")
        return self.universe.noise_free_magnitudes(bands)


@dataclass(frozen=True)
class Split:
    """Row indices of the training, validation and test galaxies, and where the split came from."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    origin: str     # "user" (the [data] split column), "reference" (the study's own model) or "none"

    @property
    def note(self) -> str | None:
        """One line for the report when the held-out rows are not known."""
        if self.origin == "none":
            return (f"The model's training rows are unknown (no [data] split column): its metrics are computed "
                    f"on all {len(self.test)} rows and may be optimistic.")
        return None


def _parse_split(values: Any, column: str) -> np.ndarray:
    series = pd.Series(values).reset_index(drop=True)
    missing = np.flatnonzero(series.isna().to_numpy())
    if len(missing):
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise ConfigError(f"[data] split column {column!r} has no label in {len(missing)} rows ({shown}); give "
                          "every row 'train', 'val' or 'test', or drop the unlabelled rows")
    raw = series.astype(str).str.strip().str.lower()
    mapped = raw.map(_SPLIT_VALUES)
    bad = sorted(set(raw[mapped.isna()]))
    if bad:
        raise ConfigError(f"[data] split column {column!r} has values {bad[:5]}; use 'train', 'val' or 'test' "
                          "per row")
    out = mapped.to_numpy(dtype=object)
    if not (out == "test").any():
        raise ConfigError(f"[data] split column {column!r} marks no row as 'test'; the held-out metrics need some")
    return out


def require_columns(catalog: pd.DataFrame, columns: list[str], study: str, why: str) -> None:
    """Refuse a catalogue that lacks ``columns``, naming them, the study and what they are for."""
    missing = [c for c in columns if c not in catalog]
    if missing:
        raise ConfigError(f"{study}: [data] catalog lacks column(s) {missing} ({why}); it has "
                          f"{', '.join(map(str, list(catalog.columns)[:20]))}{' ...' if catalog.shape[1] > 20 else ''}")


def _catalog_options(spec: dict[str, Any]) -> dict[str, Any]:
    opts = {k: spec[k] for k in ("fluxes", "flux_unit", "extinction", "hdu", "key") if k in spec}
    if "fluxes" in opts and isinstance(opts["fluxes"], list):
        opts["fluxes"] = list(opts["fluxes"])
    if "fluxes" in spec and "bands" in spec:
        opts["bands"] = list(spec["bands"])
    return opts


def _channels_last_hint(shape: tuple[int, ...]) -> str:
    """Advice for cutouts that look channels-last ``(n, H, W, C)``: square (H, W) in axes 1-2, few channels last."""
    if len(shape) == 4 and shape[1] == shape[2] and shape[3] < shape[1]:
        return (f" (shape {tuple(shape)} looks channels-last (n, H, W, C): write them as (n, C, H, W), "
                "interpret.data.write_cutouts(path, images.transpose(0, 3, 1, 2), bands))")
    return ""


def _check_unnamed(images: np.ndarray, found: list[str], file: str) -> None:
    """Refuse unnamed cutouts that look channels-last: read as (n, C, H, W) they would be H 'bands' of H x C."""
    hint = _channels_last_hint(images.shape)
    if hint and found == [f"band{i}" for i in range(len(found))]:
        raise ConfigError(f"[data] images {file!r} has no band names{hint}")


def _select_channels(images: np.ndarray, found: list[str], wanted: list[str], file: str) -> np.ndarray:
    """The cutout channels named ``wanted``, in that order: a subset or reordering of the file's named bands.

    A file without band names (``band0``, ``band1``, ... from :func:`~interpret.data.read_cutouts`) has its
    channels named by ``wanted`` in file order instead, so ``wanted`` must then name every channel.
    """
    generic = found == [f"band{i}" for i in range(len(found))]
    if generic:
        if len(wanted) != len(found):
            raise ConfigError(f"[data] bands names {len(wanted)} band(s) {wanted} but {file!r} has {len(found)} "
                              f"unnamed image channels{_channels_last_hint(images.shape)}; name every channel in "
                              "file order, or write the file with its band names (interpret.data.write_cutouts("
                              "path, images, bands))")
        return images
    missing = [b for b in wanted if b not in found]
    if missing or len(set(wanted)) != len(wanted):
        raise ConfigError(f"[data] bands {wanted}: {f'{missing} not among' if missing else 'repeated names in'} the "
                          f"bands of {file!r} ({found}); list the bands to use, by the names the file gives them")
    if wanted == found:
        return images
    return np.ascontiguousarray(images[:, [found.index(b) for b in wanted]])


def user_data(ctx: Any) -> StudyData | None:
    """The user's files named in ``[data]``, or None when the config has none."""
    from ..data import read_catalog, read_cutouts, read_spectra

    spec = ctx.config.get("data") or {}
    if not any(k in spec for k in ("catalog", "images", "spectra")):
        if spec:
            raise ConfigError(f"[data] names no file (catalog, images or spectra) but sets {sorted(spec)}")
        return None
    catalog = read_catalog(ctx.resolve(spec["catalog"]), **_catalog_options(spec)) if "catalog" in spec else None
    images = bands = wavelength = spectra = None
    meta: dict[str, Any] = {}
    if "images" in spec:
        cut = read_cutouts(ctx.resolve(spec["images"]))
        images, bands, meta = cut.images, list(cut.bands), dict(cut.meta)
        _check_unnamed(images, bands, spec["images"])
    if "spectra" in spec:
        spe = read_spectra(ctx.resolve(spec["spectra"]))
        spectra, wavelength = spe.flux, spe.wavelength
    if "bands" in spec:
        bands = list(map(str, spec["bands"]))
        if images is not None:
            images = _select_channels(images, list(cut.bands), bands, spec["images"])
    if catalog is None:
        n = len(images) if images is not None else len(spectra)
        catalog = pd.DataFrame(index=range(n))
    split = None
    if "split" in spec:
        require_columns(catalog, [spec["split"]], ctx.config["study"], "the train / val / test split")
        split = _parse_split(catalog[spec["split"]].to_numpy(), spec["split"])
    name = spec.get("name") or (ctx.resolve(spec["catalog"]).stem if "catalog" in spec else "user data")
    return StudyData(catalog=catalog, bands=bands, images=images, wavelength=wavelength, spectra=spectra,
                     source="user", split=split, name=name, meta=meta)


def finite_pixels(data: StudyData, notes: list[str]) -> StudyData:
    """``data`` with non-finite cutout pixels and spectral fluxes (masked, bad or off-chip) set to 0, one report
    line per array saying how many.

    0 is the sky level of background-subtracted cutouts and the zero-flux reference of the attributions; a
    network cannot take NaN (the reference trainer drops every galaxy with one, so a bad-pixel mask of 0.1 %
    left almost no cutout to train on, and a user's model returns NaN predictions).
    """
    import dataclasses

    changes = {}
    for name, what in (("images", "cutouts"), ("spectra", "spectra")):
        arr = getattr(data, name)
        if arr is None:
            continue
        arr = np.asarray(arr)
        bad = ~np.isfinite(arr)
        if not bad.any():
            continue
        rows = int(bad.reshape(len(arr), -1).any(axis=1).sum())
        notes.append(f"{rows} of {len(arr)} {what} had non-finite values ({int(bad.sum())} of {bad.size} "
                     f"{'pixels' if name == 'images' else 'flux values'}, masked or bad); they are set to 0 "
                     f"(sky / zero flux) for the networks and attributions.")
        changes[name] = np.where(bad, 0, arr).astype(arr.dtype, copy=False)
    return dataclasses.replace(data, **changes) if changes else data


def with_target(data: StudyData, column: str | None, target: str, study: str) -> StudyData:
    """``data`` whose catalogue holds the user's target ``column`` (``[data] target``) under the study's name
    ``target``; a catalogue column already called ``target`` gives way to it (one target, one name)."""
    if column is None or str(column) == target:
        return data
    import dataclasses

    require_columns(data.catalog, [str(column)], study, f"[data] target, read as {target!r}")
    log.info("%s: [data] target %r is read as %r", study, column, target)
    cat = data.catalog.drop(columns=[target], errors="ignore").rename(columns={str(column): target})
    return dataclasses.replace(data, catalog=cat)


def split_rows(data: StudyData, *, reference: tuple[int, int] | None = None) -> Split:
    """The study's split: the user's column when given, else the reference trainer's seeded split
    (``reference=(n, seed)``, for a model the study trains itself), else every row held out ("none")."""
    if data.split is not None:
        idx = np.arange(len(data))
        return Split(idx[data.split == "train"], idx[data.split == "val"], idx[data.split == "test"], "user")
    if reference is not None:
        from ..mock import reference_split

        s = reference_split(*reference)
        return Split(np.asarray(s.train), np.asarray(s.val), np.asarray(s.test), "reference")
    idx = np.arange(len(data))
    return Split(np.array([], dtype=int), np.array([], dtype=int), idx, "none")


def mock_universe(ctx: Any, n_default: int, **kwargs: Any) -> Any:
    """The seeded mock universe of this run, saved once in the run's cache under a digest of the generator's
    code and every parameter (so a changed generator or parameter never reuses an old universe).

    Images and spectra are written to the cache file chunk by chunk and read lazily
    (``make_universe(path=...)``, ``Universe.load(lazy=True)``): a survey-sized universe never has to fit
    in memory at once; a step that needs every cutout (training a network) reads them itself.
    """
    from .. import mock

    n = ctx.config["n"] or n_default
    key = mock.universe_digest(n=n, seed=ctx.seed, **kwargs)[:24]
    path = ctx.cache_dir / f"universe-{key}.h5"
    if path.exists():
        try:
            return mock.Universe.load(path, lazy=True)
        except Exception as exc:  # a damaged file (e.g. an interrupted older writer): rebuild it
            log.warning("mock universe cache %s unreadable (%s); regenerating", path, exc)
            path.unlink(missing_ok=True)
    return mock.make_universe(n=n, seed=ctx.seed, progress=ctx.progress, path=path, **kwargs)


def study_data(ctx: Any, n_default: int, *, target: str | None = None, **kwargs: Any) -> StudyData:
    """User data when ``[data]`` is given, else the mock universe. ``target`` is the column the study predicts
    (``log_mstar``, ``redshift``): a ``[data] target`` naming another column is read under that name."""
    data = user_data(ctx)
    if data is not None:
        n = ctx.config.get("n")
        if n is not None and int(n) != len(data):
            log.info("%s: n = %s is for the mock universe; the [data] files are used whole (%d rows)",
                     ctx.config["study"], n, len(data))
            ctx.notes.append(f"n = {n} applies to the mock universe only: all {len(data)} rows of the [data] files "
                             "are used (subsample the files to run on fewer).")
        data = finite_pixels(data, ctx.notes)
        return data if target is None else with_target(data, (ctx.config.get("data") or {}).get("target"), target,
                                                       ctx.config["study"])
    u = mock_universe(ctx, n_default, **kwargs)
    return StudyData(catalog=u.catalog, bands=u.bands, images=u.images, wavelength=u.wavelength,
                     spectra=u.spectra, truth=u.truth, source="mock", universe=u, name="mock universe")


def colours(cat: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Colour columns ``"a-b"`` = mag_a - mag_b for every name whose two bands are in ``cat``."""
    out = {}
    for name in names:
        a, b = name.split("-")
        if a in cat and b in cat:
            out[name] = cat[a].to_numpy(float) - cat[b].to_numpy(float)
    return pd.DataFrame(out, index=cat.index)


class BandNames:
    """Minimal band container for user data given as a list of names (the trainer reads ``.names`` and
    ``bands[name].name``)."""

    def __init__(self, names: list[str]):
        self.names = tuple(names)

    def __getitem__(self, key: str) -> Any:
        if key not in self.names:
            raise KeyError(key)
        return SimpleNamespace(name=key)


def held_out(n: int, seed: int) -> np.ndarray:
    """Indices of the held-out (test) split used by the reference estimators."""
    from ..mock import reference_split

    return np.asarray(reference_split(n, seed).test)


def fit_subset(data: StudyData) -> StudyData:
    """What a study's own models are fitted on: every row but the user's test rows (the data itself when there
    is no user split: the reference trainer then holds out its own seeded split)."""
    if data.split is None:
        return data
    import dataclasses

    keep = np.flatnonzero(data.split != "test")
    take = lambda a: None if a is None else a[keep]  # noqa: E731
    return dataclasses.replace(data, catalog=data.catalog.iloc[keep].reset_index(drop=True),
                               images=take(data.images), spectra=take(data.spectra), split=data.split[keep])


def note_unknown_split(ctx: Any, data: StudyData) -> None:
    """One report line when the user's model comes without a ``[data] split``: its training rows are unknown."""
    if data.split is None and ctx.config.get("model"):
        ctx.notes.append("Your model's training rows are unknown (no [data] split column): its held-out metrics "
                         "use the reference split and may be optimistic.")
