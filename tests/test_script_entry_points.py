"""Every command-line script starts (its imports resolve after a refactor) and answers --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ENTRY_POINTS = [*REPO.glob("scripts/*.py"), *REPO.glob("scripts/datasets/make_*.py"),
                REPO / "train.py", REPO / "test.py"]
SCRIPTS = sorted(str(p.relative_to(REPO)) for p in ENTRY_POINTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script, tmp_path):
    # run from elsewhere, as a user would, so that the script finds the repository by itself
    result = subprocess.run([sys.executable, str(REPO / script), "--help"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage" in result.stdout.lower()
