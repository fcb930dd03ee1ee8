"""Spectral-line catalogue: known vacuum wavelengths, names used across the package, range queries."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interpret.data import lines as ln
from interpret.exceptions import ValidationError

EMISSION = ["[OII]3727", "[OII]3729", "[NeIII]3869", "Hdelta", "Hgamma", "Hbeta", "[OIII]4959", "[OIII]5007",
            "HeI5876", "[NII]6548", "Halpha", "[NII]6584", "[SII]6717", "[SII]6731"]
ABSORPTION = ["CaII_K", "CaII_H", "SrII4077", "SrII4216", "Gband", "Mgb", "Fe5270", "Fe5335", "NaD",
              "CaII8498", "CaII8542", "CaII8662"]


# --- known answers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, vacuum", [
    ("Halpha", 6564.61), ("Hbeta", 4862.68), ("[OIII]5007", 5008.24), ("[NII]6584", 6585.27),
    ("CaII_K", 3934.78), ("CaII_H", 3969.59), ("CaII8542", 8544.44),
])
def test_vacuum_wavelengths(name, vacuum):
    assert ln.get_line(name).wavelength == pytest.approx(vacuum, abs=0.02)


def test_air_to_vacuum_known_values():
    # Halpha: 6562.80 air -> 6564.61 vacuum; [OIII] 5006.84 air -> 5008.24 vacuum (NIST / SDSS).
    np.testing.assert_allclose(ln.air_to_vacuum(np.array([6562.80, 5006.84])), [6564.61, 5008.24], atol=0.02)
    assert isinstance(ln.air_to_vacuum(5000.0), float)


def test_d4000_balogh_windows():
    d = ln.get_line("D4000")
    assert d.kind == "break" and d.blue == (3850.0, 3950.0) and d.red == (4000.0, 4100.0)
    assert d.bounds == (3850.0, 4100.0)


def test_lick_windows_are_half_bandpasses():
    assert ln.get_line("Mgb").window == pytest.approx(16.25, abs=0.01)
    assert ln.get_line("Gband").window == pytest.approx(17.5, abs=0.01)
    assert ln.get_line("NaD").window == pytest.approx(16.25, abs=0.01)


def test_observed_wavelength():
    assert ln.observed_wavelength("Halpha", 0.1) == pytest.approx(6564.61 * 1.1)
    z = np.array([0.0, 0.5])
    np.testing.assert_allclose(ln.get_line("Hbeta").observed(z), 4862.683 * (1 + z))


# --- contract -------------------------------------------------------------------------------------------
def test_exact_names_and_kinds():
    assert set(EMISSION + ABSORPTION + ["D4000"]) == set(ln.LINE_NAMES)
    assert len(ln.LINE_NAMES) == len(set(ln.LINE_NAMES))
    for name in EMISSION:
        assert ln.get_line(name).kind == "emission"
    for name in ABSORPTION:
        assert ln.get_line(name).kind == "absorption"


@pytest.mark.parametrize("line", ln.LINES, ids=ln.LINE_NAMES)
def test_every_line_is_sane(line):
    assert 3000 < line.wavelength < 9000 and 0 < line.window <= 125
    assert line.label and line.kind in ln.KINDS
    assert ln.get_line(line.name) is line


def test_lines_table():
    t = ln.lines_table()
    assert isinstance(t, pd.DataFrame) and list(t.index) == list(ln.LINE_NAMES)
    assert {"wavelength", "kind", "window", "label"} <= set(t.columns)


def test_lines_in_range_rest_and_observed():
    names = [x.name for x in ln.lines_in_range(6500, 6600)]
    assert names == ["[NII]6548", "Halpha", "[NII]6584"]
    names = [x.name for x in ln.lines_in_range(4800, 5100, kind="emission")]
    assert names == ["Hbeta", "[OIII]4959", "[OIII]5007"]
    at_z = [x.name for x in ln.lines_in_range(6500 * 1.2, 6600 * 1.2, redshift=0.2)]
    assert at_z == names_at_rest(6500, 6600)
    assert [x.name for x in ln.lines_in_range(3800, 4200, kind="break", full_window=False)] == ["D4000"]
    assert ln.lines_in_range(3900, 4200, kind="break", full_window=True) == []
    both = ln.lines_in_range(3000, 10000, kind=["absorption", "break"])
    assert {x.kind for x in both} == {"absorption", "break"}


def names_at_rest(lo, hi):
    return [x.name for x in ln.lines_in_range(lo, hi)]


# --- refusals -------------------------------------------------------------------------------------------
def test_unknown_line_lists_valid():
    with pytest.raises(ValidationError, match="valid names are .*Halpha"):
        ln.get_line("Halfa")


def test_bad_range_kind_redshift():
    with pytest.raises(ValidationError, match="wmin < wmax"):
        ln.lines_in_range(7000, 6000)
    with pytest.raises(ValidationError, match="valid kinds"):
        ln.lines_in_range(3000, 9000, kind="forbidden")
    with pytest.raises(ValidationError, match="redshift"):
        ln.observed_wavelength("Halpha", -1.5)
