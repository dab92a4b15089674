from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KUBEVET_SHARED", ROOT.parent / "shared"))
CORPUS_CHARTS = SHARED / "corpus" / "mycharts" / "charts"
NETPOL_CASES = SHARED / "corpus" / "netpol"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def need(path: Path) -> Path:
    """Skip the calling test, with the reason, when a shared-corpus folder is absent."""
    if not path.exists():
        pytest.skip(f"shared corpus folder {path} is absent (set KUBEVET_SHARED to use it)")
    return path
