"""Studies: one scientific question answered end to end, from one command, on any model and data.

Each study is a subpackage with a frozen parameter dataclass (``Params``), pure steps (data + estimator +
params -> result) cached by content, and figure functions that read step outputs only. Its configs (full and
compact demo) ship with the package, so ``interpret demo``, ``interpret run photoz`` and
``interpret figures`` work from an installed wheel in any folder.

=======================  ================================================================================
study                    question
=======================  ================================================================================
``photoz``               any photo-z model on any catalogue: accuracy on the user's test rows, which
                         columns and bands it uses, what colours carry, causal structure
``sdss_real``            real SDSS galaxies (kcorrect's sample): photo-z and stellar mass from ugriz+JHK
``stellar_mass``         an image CNN for stellar mass on the mock universe (after Zhang et al.)
``band_utilization``     masking vs retraining: which bands a photo-z CNN relies on (after Engel et al.)
``optical_lines_to_ir``  which optical emission lines drive WISE W1-W4 predictions (after Jespersen et al.)
``piczl``                PICZL's published CNN ensemble with its real weights
=======================  ================================================================================

Examples
--------
>>> import interpret.studies as st
>>> "photoz" in st.STUDIES and st.config_path("photoz", demo=True).name
'photoz.toml'
>>> ctx = st.run("photoz", demo=True, out="runs/photoz-demo")          # doctest: +SKIP
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError
from ._params import StudyParams

__all__ = ["STUDIES", "StudyParams", "config_path", "configs", "run"]

#: The packaged studies, in the order ``interpret demo`` runs them.
STUDIES: tuple[str, ...] = ("photoz", "sdss_real", "band_utilization", "stellar_mass", "optical_lines_to_ir",
                            "piczl")


def _config_root(demo: bool) -> Path:
    root = Path(str(resources.files(__name__) / "configs"))
    return root / "demo" if demo else root


def configs(demo: bool = False) -> dict[str, Path]:
    """The packaged config files by study name (``demo=True``: the compact demo configs)."""
    return {p.stem: p for p in sorted(_config_root(demo).glob("*.toml"))}


def config_path(study: str, *, demo: bool = False) -> Path:
    """The packaged config of ``study`` (full, or the compact demo one)."""
    found = configs(demo)
    if study not in found:
        raise ConfigError(f"no packaged {'demo ' if demo else ''}config for study {study!r}; valid: "
                          f"{', '.join(found)}")
    return found[study]


def run(study_or_config: str | os.PathLike, *, demo: bool = False, out: str | os.PathLike | None = None,
        **overrides: Any) -> Any:
    """Run a packaged study (by name) or a config file; returns the run's :class:`~interpret.runner.RunContext`.

    ``overrides`` are top-level config values (``seed``, ``n``, ``jobs``, ``device``, ``progress``).
    """
    from ..runner import run_study

    path = Path(study_or_config)
    if not path.exists() and str(study_or_config) in STUDIES:
        path = config_path(str(study_or_config), demo=demo)
    return run_study(path, overrides={**overrides, "out": str(out) if out else None})
