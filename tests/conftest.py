"""Test-session fixtures shared across files."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from _study_checks import run_config, tiny

from interpret.runner import RunContext


@pytest.fixture(scope="session")
def study_run(tmp_path_factory) -> Callable[[str], tuple[Path, RunContext]]:
    """``study_run(name) -> (folder, context)``: the study's tiny configuration, run once per test session.

    The parametrised contract test (``test_studies_e2e.py``) and each study's own science checks share the
    run. Under pytest-xdist, tests of one study carry ``xdist_group(name)`` so that a single worker runs it.
    """
    runs: dict[str, tuple[Path, RunContext]] = {}

    def get(name: str) -> tuple[Path, RunContext]:
        if name not in runs:
            folder = tmp_path_factory.mktemp(name)
            runs[name] = (folder, run_config(folder, "tiny", tiny(name)))
        return runs[name]

    return get
