"""The planted truth of the mock universe: its causal DAG and which spectral lines drive each IR band.

``Truth.dag`` is a :class:`networkx.DiGraph` over the catalogue's column names holding exactly the parent
sets the simulator reads:

* the physical layer, :data:`interpret.mock.population.PARENTS` (plus ``r_eff_arcsec`` from ``r_eff`` and
  ``redshift``);
* every band magnitude depends on the SED parameters that can reach that band (:func:`band_parents`):
  redshift, log_mstar, log_sfr, age, metallicity, agn_frac, and dust_av unless the band only sees rest
  wavelengths beyond 3.1 µm where the Calzetti curve is zero (W3, W4 for z < 1.4);
* ``<band>_err`` is computed from the observed ``<band>`` flux only;
* ``flux_<line>`` columns depend on the quantities setting that line (:data:`LINE_DRIVERS`) plus dust_av
  (attenuation) and redshift (distance).

``Truth.ir_lines`` maps each IR band to the lines whose strength is set by the same physical quantities that
set that band's flux in the simulator: a line is listed when all of its primary drivers
(:data:`PRIMARY_LINE_DRIVERS`) are among the band's drivers (:data:`IR_DRIVERS`); stellar mass and redshift
scale everything and are left out.

Examples
--------
>>> from interpret.mock.truth import ir_lines
>>> "Halpha" in ir_lines()["W4"], "CaII8542" in ir_lines()["W1"]
(True, True)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx

from ..data.bands import BandSet
from .population import DERIVED_COLUMNS, PARENTS

__all__ = [
    "Truth",
    "SED_PARAMETERS",
    "LINE_DRIVERS",
    "IR_DRIVERS",
    "PRIMARY_LINE_DRIVERS",
    "LINE_FLUX_COLUMNS",
    "band_parents",
    "ir_lines",
    "build_dag",
    "line_column",
    "make_truth",
]

#: Physical columns the SED (hence every magnitude) is computed from.
SED_PARAMETERS: tuple[str, ...] = ("redshift", "log_mstar", "log_sfr", "age", "metallicity", "dust_av",
                                   "agn_frac")
_AGN = ("agn_frac", "log_mstar")
#: The quantities that set each line's luminosity (emission) or equivalent width (absorption, break).
LINE_DRIVERS: dict[str, tuple[str, ...]] = {
    **{n: ("log_sfr", *_AGN) for n in ("Hdelta", "Hgamma", "Hbeta", "Halpha", "HeI5876", "[SII]6717",
                                          "[SII]6731")},
    **{n: ("log_sfr", "metallicity", *_AGN) for n in ("[OII]3727", "[OII]3729", "[NeIII]3869", "[OIII]4959",
                                                        "[OIII]5007", "[NII]6548", "[NII]6584")},
    **{n: ("age", "metallicity") for n in ("CaII_K", "CaII_H", "SrII4077", "SrII4216", "Gband", "Mgb",
                                            "Fe5270", "Fe5335", "NaD", "CaII8498", "CaII8542", "CaII8662",
                                            "D4000")},
}
#: The quantity (or two) dominating each line's variation across the population in the simulator: Balmer
#: lines, He I and [S II] follow SFR; [O II] and [N II] follow SFR with a metallicity dependence (Kewley 2004,
#: N2 of Pettini & Pagel 2004); [O III] and [Ne III] are dominated by the AGN narrow-line region where one is
#: present; absorption lines and D4000 follow the stellar age and metallicity.
PRIMARY_LINE_DRIVERS: dict[str, tuple[str, ...]] = {
    **{n: ("log_sfr",) for n in ("Hdelta", "Hgamma", "Hbeta", "Halpha", "HeI5876", "[SII]6717", "[SII]6731")},
    **{n: ("log_sfr", "metallicity") for n in ("[OII]3727", "[OII]3729", "[NII]6548", "[NII]6584")},
    **{n: ("agn_frac",) for n in ("[NeIII]3869", "[OIII]4959", "[OIII]5007")},
    **{n: ("age", "metallicity") for n in ("CaII_K", "CaII_H", "SrII4077", "SrII4216", "Gband", "Mgb",
                                            "Fe5270", "Fe5335", "NaD", "CaII8498", "CaII8542", "CaII8662",
                                            "D4000")},
}
#: Quantities shaping each WISE band's flux (beyond overall mass and distance), per the simulator:
#: W1/W2 old stars (age, metallicity of the template mix) + AGN hot dust; W3 PAH (SFR, metallicity) + AGN
#: torus; W4 warm dust (SFR) + AGN torus. The 350 K torus peaks near 8 µm, so an AGN brightens W3 most
#: (``do(agn_frac=0)`` dims it by about a magnitude in AGN hosts).
IR_DRIVERS: dict[str, tuple[str, ...]] = {
    "W1": ("age", "metallicity", "agn_frac"),
    "W2": ("age", "metallicity", "agn_frac"),
    "W3": ("log_sfr", "metallicity", "agn_frac"),
    "W4": ("log_sfr", "agn_frac"),
}
#: Emission lines reported in the catalogue as ``flux_<line>``.
LINE_FLUX_COLUMNS: tuple[str, ...] = ("Halpha", "Hbeta", "[OIII]5007", "[NII]6584", "[OII]3727")
#: Rest wavelength [Angstrom] above which the Calzetti curve used by the simulator is zero.
_DUST_EDGE = 31000.0


def line_column(line: str) -> str:
    """Catalogue column of an emission-line flux: ``"flux_" + line``."""
    return f"flux_{line}"


def ir_lines(bands: Sequence[str] = ("W1", "W2", "W3", "W4")) -> dict[str, list[str]]:
    """IR band -> lines whose primary drivers are all among the quantities setting that band's flux.

    With the simulator's tables: W1/W2 -> [O III], [Ne III] (AGN) and the absorption lines + D4000 (old
    stars); W3 -> Balmer, He I, [S II], [O II], [N II] (SFR modulated by metallicity) and [O III], [Ne III]
    (AGN torus); W4 -> Balmer, He I, [S II], [O III], [Ne III] (SFR and AGN).
    """
    return {band: [line for line, d in PRIMARY_LINE_DRIVERS.items() if set(d) <= set(IR_DRIVERS[band])]
            for band in bands}


def band_parents(bands: BandSet, redshift_range: tuple[float, float]) -> dict[str, tuple[str, ...]]:
    """Parents of each band's magnitude column: the SED parameters that reach it at these redshifts."""
    out = {}
    for band in bands:
        fw, _ = band.transmission
        sees_dust = fw[0] / (1.0 + redshift_range[1]) < _DUST_EDGE
        out[band.name] = tuple(p for p in SED_PARAMETERS if p != "dust_av" or sees_dust)
    return out


@dataclass(frozen=True)
class Truth:
    """Planted truth of a mock universe.

    Attributes
    ----------
    dag : networkx.DiGraph
        Causal graph over catalogue column names (exact parent sets of the simulator).
    ir_lines : dict of str -> list of str
        For each IR band in the universe, the lines (names from :mod:`interpret.data.lines`) set by the
        quantities that set that band's flux.
    parents : dict of str -> tuple of str
        ``dag`` as a parent table.
    """

    dag: nx.DiGraph
    ir_lines: dict[str, list[str]] = field(default_factory=dict)

    @property
    def parents(self) -> dict[str, tuple[str, ...]]:
        return {n: tuple(self.dag.predecessors(n)) for n in self.dag.nodes}

    def descendants(self, column: str) -> set[str]:
        """Columns that change when ``column`` is intervened on."""
        return set(nx.descendants(self.dag, column))


def build_dag(bands: BandSet, redshift_range: tuple[float, float],
              line_columns: Sequence[str] = LINE_FLUX_COLUMNS) -> nx.DiGraph:
    """Assemble the planted DAG for a universe with these bands and line-flux columns."""
    g = nx.DiGraph()
    table: dict[str, tuple[str, ...]] = {**PARENTS, **DERIVED_COLUMNS}
    for name, parents in band_parents(bands, redshift_range).items():
        table[name] = parents
        table[f"{name}_err"] = (name,)
    for line in line_columns:
        table[line_column(line)] = (*LINE_DRIVERS[line], "dust_av", "redshift")
    for node, parents in table.items():
        g.add_node(node)
        g.add_edges_from((p, node) for p in dict.fromkeys(parents))
    if not nx.is_directed_acyclic_graph(g):  # pragma: no cover - guards edits of the tables
        raise RuntimeError("the planted graph has a cycle")
    return g


def make_truth(bands: BandSet, redshift_range: tuple[float, float]) -> Truth:
    """The :class:`Truth` of a universe with ``bands`` over ``redshift_range``."""
    ir = [b for b in bands.names if b in IR_DRIVERS]
    return Truth(dag=build_dag(bands, redshift_range), ir_lines=ir_lines(ir))
