"""Test-session set-up: make the study modules in analyses/ importable for their tests."""
from __future__ import annotations

import sys
from pathlib import Path

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"
if str(ANALYSES) not in sys.path:
    sys.path.insert(0, str(ANALYSES))
