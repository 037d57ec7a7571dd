"""scripts/benchmark.py runs the real training code end to end on its tiny configuration and reports every
phase of a chunk (a renamed trainer function would leave a phase at zero or stop the script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_tiny_benchmark_times_every_phase(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "scripts/benchmark.py", "--configs", "tiny", "--videos", "1",
                           "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads(out.read_text())
    phases = row["train_seconds_per_chunk"]
    assert set(phases) == {"data", "reference flow", "G forward", "D forwards", "backward + step", "other", "save"}
    for phase in ("reference flow", "G forward", "D forwards", "backward + step"):
        assert phases[phase] > 0, phase
    assert row["fps"] > 0 and row["gflop_per_frame"] > 0 and "misses" in row["flow_cache"]
    assert "| tiny | cpu | 64x32 |" in done.stdout


def test_generation_only_skips_training_and_prints_dashes(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "scripts/benchmark.py", "--configs", "tiny", "--generation_only",
                           "--frames", "2", "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads(out.read_text())
    assert row["train_seconds_per_chunk"] is None and row["fps"] > 0 and row["gflop_per_frame"] > 0
    assert "| tiny | cpu | 64x32 | - | - |" in done.stdout
