"""PICZL's installed files (trained Keras ensembles, demo galaxies) and this project's own input assembly.

PICZL (Roster et al. 2024, arXiv:2411.07305; https://github.com/williamroster/PICZL, MIT) photo-z for
Legacy Survey DR10 + WISE sources is used here as a *data package*: ``pip install --no-deps piczl==0.1.4``
installs its weights and demo files. The package itself is never imported (its ``__init__`` imports
TensorFlow); files are found with :func:`importlib.util.find_spec` and its ensemble configuration is read
from ``piczl/config/default_models.py`` as literals (:func:`ast.literal_eval`).

Input assembly (written from PICZL 0.1.4's pipeline: ``fetch_inputs``, ``cat_preprocessing``,
``feature_extraction``, ``image_processing``; checked against its shipped demo predictions):

* input 0, ``images`` ``(n, 23, 23, C)``: for g r i z the dereddened cutout, the aperture image, the model
  residual, the aperture inverse variance, the model image; for W1-W4 the aperture image, residual and
  inverse variance; in "inactive" mode also the g r i z PSF images (C = 32 or 36);
* input 1, ``colour_images`` ``(n, 23, 23, 24)``: six optical colour cutouts (gr gi gz ri rz iz), six
  aperture colours, six WISE aperture colours (W1W2 W1W3 W1W4 W2W3 W2W4 W3W4), six model flux ratios;
* input 2, ``features`` ``(n, F)``: catalogue features, each group min-max scaled *over the galaxies passed
  together* (as PICZL does), then colours (mag differences, -99 where a flux is not positive) and the type
  one-hot. PICZL selects features by column position; its "type" slice is shifted by one column, so its
  models see EXP PSF REX SER and the dereddened W1 aperture-1 flux there (reproduced by name here).

Loading the demo ``.npy`` files needs ``allow_pickle=True`` (some are pickled dicts): an explicit exception
for this trusted, installed package resource only; it never applies to user files.
"""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import DataFileError

__all__ = ["piczl_root", "ensemble_config", "assemble", "BANDS", "OPTICAL", "WISE_BANDS", "GRID", "MODES",
           "INPUT_NAMES"]

OPTICAL = ("g", "r", "i", "z")
WISE_BANDS = ("W1", "W2", "W3", "W4")
BANDS = OPTICAL + WISE_BANDS
MODES = ("active", "inactive")
INPUT_NAMES = ("images", "colour_images", "features")
#: PICZL's redshift grid: 4001 points over 0-8 (step 0.002)
GRID = np.linspace(0.0, 8.0, 4001)
_OPT_PAIRS = (("g", "r"), ("g", "i"), ("g", "z"), ("r", "i"), ("r", "z"), ("i", "z"))
_WISE_PAIRS = (("W1", "W2"), ("W1", "W3"), ("W1", "W4"), ("W2", "W3"), ("W2", "W4"), ("W3", "W4"))
_INSTALL = "install it with: pip install --no-deps piczl==0.1.4 (make install does this)"


def piczl_root() -> Path:
    """Folder of the installed ``piczl`` package (found without importing it)."""
    spec = importlib.util.find_spec("piczl")
    if spec is None or not spec.submodule_search_locations:
        raise DataFileError(f"PICZL is not installed; {_INSTALL}")
    return Path(next(iter(spec.submodule_search_locations)))


def ensemble_config(mode: str) -> tuple[list[Path], np.ndarray]:
    """Member files and raw ensemble weights of PICZL's ``mode`` ensemble, from its default_models.py."""
    path = piczl_root() / "config" / "default_models.py"
    tree = ast.parse(path.read_text())
    configs = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name) and t.id.endswith("_CONFIG")}
    config = configs.get(f"{mode.upper()}_CONFIG")
    if config is None:
        raise DataFileError(f"{path} has no {mode.upper()}_CONFIG; is this PICZL 0.1.4? ({_INSTALL})")
    files = [piczl_root() / "models" / mode / f for f in config["model_files"]]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise DataFileError(f"PICZL model files are missing: {missing}; reinstall PICZL ({_INSTALL})")
    return files, np.asarray(config["model_weights"], dtype=float)


# --- demo files ----------------------------------------------------------------------------------------
def _demo_dir(split: str) -> Path:
    path = piczl_root() / "demo_data" / split
    if not (path / "demo_catalog.fits").exists():
        raise DataFileError(f"PICZL's demo catalogue {path / 'demo_catalog.fits'} is missing ({_INSTALL})")
    return path


def read_catalog(split: str) -> pd.DataFrame:
    """The demo catalogue as a DataFrame (byte strings decoded)."""
    from astropy.table import Table

    frame = Table.read(_demo_dir(split) / "demo_catalog.fits").to_pandas()
    for col in frame.columns:
        if frame[col].dtype == object and len(frame) and isinstance(frame[col].iloc[0], bytes):
            frame[col] = frame[col].str.decode("utf-8").str.strip()
    return frame


def _load_npy(split: str, name: str) -> Any:
    # Trusted package resource: PICZL ships pickled dicts in .npy (documented exception; never user files).
    arr = np.load(_demo_dir(split) / "demo_images" / f"{name}.npy", allow_pickle=True)
    return arr.item() if arr.dtype == object else arr


def _image_stacks(split: str, mode: str, rows: slice) -> tuple[list[tuple[str, np.ndarray]], ...]:
    """(name, (n, 23, 23) array) lists for PICZL's two image inputs, in its channel order."""
    cut = _load_npy(split, "processed_dered_griz_images")
    ap = _load_npy(split, "aperture_images_LS10")
    ap_w = _load_npy(split, "aperture_images_WISE")
    res = _load_npy(split, "dered_griz_residuals")
    res_w = _load_npy(split, "aperture_images_WISE_residuals")
    ivar = _load_npy(split, "aperture_images_LS10_ivar")
    ivar_w = _load_npy(split, "aperture_images_WISE_ivar")
    model = _load_npy(split, "dered_griz_models")
    plain = ([(f"cutout_{b}", cut[k]) for k, b in enumerate(OPTICAL)]
             + [(f"aperture_{b}", ap[b]) for b in OPTICAL]
             + [(f"aperture_{w}", ap_w[w.lower()]) for w in WISE_BANDS]
             + [(f"residual_{b}", res[k]) for k, b in enumerate(OPTICAL)]
             + [(f"residual_{w}", res_w[w.lower()]) for w in WISE_BANDS]
             + [(f"ivar_{b}", ivar[b]) for b in OPTICAL]
             + [(f"ivar_{w}", ivar_w[w.lower()]) for w in WISE_BANDS]
             + [(f"model_{b}", model[k]) for k, b in enumerate(OPTICAL)])
    if mode == "inactive":
        psf = _load_npy(split, "psf_images")
        plain += [(f"psf_{b}", psf[k]) for k, b in enumerate(OPTICAL)]
    cut_col = _load_npy(split, "processed_dered_griz_colours")
    ap_col = _load_npy(split, "aperture_images_LS10_colours")
    w_col = _load_npy(split, "aperture_images_WISE_colours")
    colour = ([(f"cutout_{a}{b}", cut_col[k]) for k, (a, b) in enumerate(_OPT_PAIRS)]
              + [(f"aperture_{a}{b}", ap_col[k]) for k, (a, b) in enumerate(_OPT_PAIRS)]
              + [(f"aperture_{a}{b}", w_col[k]) for k, (a, b) in enumerate(_WISE_PAIRS)]
              + [(f"model_{a}/{b}", _ratio(model[OPTICAL.index(a)], model[OPTICAL.index(b)]))
                 for a, b in _OPT_PAIRS])
    return ([(n, a[rows]) for n, a in plain], [(n, a[rows]) for n, a in colour])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    safe = np.where(den != 0, den, 1.0)
    return np.nan_to_num(np.where(den != 0, num / safe, 0.0))


# --- catalogue features --------------------------------------------------------------------------------
def _flux(cat: pd.DataFrame, col: str) -> np.ndarray:
    """A flux column with NaN, inf and negative values set to 0 (PICZL's cleaning)."""
    x = cat[col].to_numpy(dtype=float)
    return np.where(np.isfinite(x) & (x > 0), x, 0.0)


def _minmax(block: np.ndarray) -> np.ndarray:
    """Min-max over the whole block (PICZL standardises then min-max scales each group jointly)."""
    lo, hi = np.min(block), np.max(block)
    return (block - lo) / (hi - lo) if hi > lo else np.zeros_like(block)


def _colour(cat: pd.DataFrame, a: str, b: str) -> np.ndarray:
    fa, fb = _flux(cat, f"dered_flux_{a.lower()}"), _flux(cat, f"dered_flux_{b.lower()}")
    ok = (fa > 0) & (fb > 0)
    out = np.full(len(cat), -99.0)
    out[ok] = -2.5 * np.log10(fa[ok] / fb[ok])
    return out


def _feature_groups(cat: pd.DataFrame, mode: str) -> list[tuple[list[str], list[tuple[str, ...]], np.ndarray]]:
    """(names, bands of each, (n, k) values) per scaled group, in PICZL's order."""
    snr = ("W1", "W2", "W3", "W4", "g", "r", "i", "z")
    frac = np.column_stack([cat[f"fracflux_{b.lower()}"].to_numpy(dtype=float) for b in BANDS])
    groups = [
        ([f"dchisq_{k}" for k in range(1, 6)], [()] * 5,
         np.column_stack([cat[f"dchisq_{k}"].to_numpy(dtype=float) for k in range(1, 6)])),
        ([f"snr_{b}" for b in snr], [(b,) for b in snr],
         np.column_stack([cat[f"snr_{b.lower()}"].to_numpy(dtype=float) for b in snr])),
        ([f"dered_flux_{w}" for w in WISE_BANDS], [(w,) for w in WISE_BANDS],
         np.column_stack([_flux(cat, f"dered_flux_{w.lower()}") for w in WISE_BANDS])),
        ([f"fracflux_{b}" for b in BANDS], [(b,) for b in BANDS], np.where(np.isfinite(frac), frac, 0.0)),
    ]
    if mode == "inactive":
        groups.append(([f"psfsize_{b}" for b in OPTICAL], [(b,) for b in OPTICAL],
                       np.column_stack([cat[f"PSFSIZE_{b.upper()}"].to_numpy(dtype=float) for b in OPTICAL])))
        for col in ("SHAPE_E1", "SHAPE_E1_IVAR", "SHAPE_E2", "SHAPE_E2_IVAR"):
            groups.append(([col.lower()], [()], cat[[col]].to_numpy(dtype=float)))
    return groups


def _features(cat: pd.DataFrame, mode: str) -> tuple[np.ndarray, list[str], list[tuple[str, ...]]]:
    names: list[str] = []
    bands: list[tuple[str, ...]] = []
    blocks: list[np.ndarray] = []
    for group_names, group_bands, values in _feature_groups(cat, mode):
        names += group_names
        bands += group_bands
        blocks.append(_minmax(values))
    pairs = [(o, w) for o in OPTICAL for w in WISE_BANDS]
    if mode == "active":
        pairs += list(_WISE_PAIRS)
    names += [f"{a}-{b}" for a, b in pairs]
    bands += [(a, b) for a, b in pairs]
    blocks.append(np.column_stack([_colour(cat, a, b) for a, b in pairs]))
    kinds = cat["type"].astype(str).str.strip().to_numpy()
    onehot = [(kinds == t).astype(float) for t in ("EXP", "PSF", "REX", "SER")]
    w1_ap1 = _flux(cat, "apflux_w1_1") / cat["mw_transmission_w1"].to_numpy(dtype=float)
    names += ["type_EXP", "type_PSF", "type_REX", "type_SER", "dered_apflux_W1_1"]
    bands += [(), (), (), (), ("W1",)]
    blocks.append(np.column_stack([*onehot, w1_ap1]))
    return np.concatenate(blocks, axis=1), names, bands


def _band_of_channel(name: str) -> tuple[str, ...]:
    """Bands a channel is derived from: 'aperture_W1' -> (W1,), 'cutout_gr' -> (g, r), 'model_g/r' -> (g, r)."""
    tail = name.split("_", 1)[1].replace("/", "")
    found: list[str] = []
    while tail:
        band = next(b for b in ("W1", "W2", "W3", "W4", *OPTICAL) if tail.startswith(b))
        found.append(band)
        tail = tail[len(band):]
    return tuple(found)


def assemble(split: str, mode: str, n: int | None) -> dict[str, Any]:
    """PICZL's three model inputs, channel names, the band map and the catalogue for ``split``."""
    cat = read_catalog(split)
    rows = slice(0, len(cat) if n is None else n)
    cat = cat.iloc[rows].reset_index(drop=True)
    plain, colour = _image_stacks(split, mode, rows)
    feats, feat_names, feat_bands = _features(cat, mode)
    inputs = (np.stack([a for _, a in plain], axis=-1).astype(np.float32),
              np.stack([a for _, a in colour], axis=-1).astype(np.float32),
              feats.astype(np.float32))
    names = (tuple(c for c, _ in plain), tuple(c for c, _ in colour), tuple(feat_names))
    per_input = ([_band_of_channel(c) for c in names[0]], [_band_of_channel(c) for c in names[1]], feat_bands)
    channels = {b: tuple((i, 1 if i == 2 else 3, p) for i, owners in enumerate(per_input)
                         for p, owner in enumerate(owners) if b in owner) for b in BANDS}
    return {"catalog": cat, "inputs": inputs, "names": names, "channels": channels}
