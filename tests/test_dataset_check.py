"""The data check: each kind of problem found, all of them in one run, and the command-line script."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data.dataset_check import check_dataset
from options.test_options import TestOptions
from options.train_options import TrainOptions
from scripts.datasets.synthetic_street import generate_dataset

REPO = Path(__file__).resolve().parent.parent


def frame(root: str, folder: str, seq: int, index: int) -> str:
    return sorted(glob.glob(os.path.join(root, folder, f"seq_{seq:03d}", "*.png")))[index]


@pytest.fixture
def root(tmp_path) -> str:
    generate_dataset(str(tmp_path), n_train=3, n_test=1, n_frames=6, width=64, height=32, seed=2)
    return str(tmp_path)


def options(root: str, *extra: str):
    return TrainOptions().parse(["--dataroot", root, "--label_nc", "35", "--use_instance", "--gpu_ids", "-1",
                                 *extra], save=False, quiet=True)


def test_clean_data_has_no_problem(root):
    report = check_dataset(options(root))
    assert report.problems == [] and (report.n_sequences, report.n_files) == (3, 54)
    test_report = check_dataset(TestOptions().parse(["--dataroot", root, "--label_nc", "35", "--use_real_img",
                                                     "--gpu_ids", "-1"], quiet=True))
    assert test_report.problems == [] and test_report.n_files == 12


def test_every_problem_is_reported_in_one_run(root):
    missing = frame(root, "train_B", 0, 3)
    os.remove(missing)  # a missing file, which is also a count mismatch
    truncated = frame(root, "train_B", 1, 2)
    with open(truncated, "r+b") as f:
        f.truncate(os.path.getsize(truncated) - 20)
    bad_label = frame(root, "train_A", 2, 5)
    labels = np.array(Image.open(bad_label))
    labels[0, 0] = 40
    Image.fromarray(labels).save(bad_label)
    resized = frame(root, "train_inst", 2, 1)
    Image.open(resized).resize((32, 16)).save(resized)
    problems = check_dataset(options(root)).problems
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert f"{missing[:-4]}.*: missing" in text
    assert "train_B/seq_000: 5 frames, but 6 in" in text
    assert f"{truncated}: truncated" in text
    assert f"{bad_label}: a label map must hold one channel of ids in [0, --label_nc 35), found ids" in text
    assert "sequence seq_002: frames of different sizes: 64x32" in text and f"32x16 ({resized})" in text


def test_full_decode_and_missing_folders(root, tmp_path):
    corrupt = frame(root, "train_B", 0, 1)
    data = bytearray(open(corrupt, "rb").read())
    data[60:80] = b"\x00" * 20  # damaged inside, complete at the end: only a decode finds it
    open(corrupt, "wb").write(bytes(data))
    assert check_dataset(options(root)).problems == []
    assert [p for p in check_dataset(options(root), full=True).problems if corrupt in p]
    empty = str(tmp_path / "empty")
    os.makedirs(empty)
    problems = check_dataset(options(empty)).problems
    assert any("train_inst: missing folder (needed by --use_instance)" in p for p in problems)


def test_command_line(root):
    script = REPO / "scripts" / "check_dataset.py"
    clean = subprocess.run([sys.executable, str(script), "--dataroot", root, "--label_nc", "35", "--use_instance"],
                           capture_output=True, text=True)
    assert clean.returncode == 0 and "54 files in 3 sequences, 0 problem(s)" in clean.stdout
    os.remove(frame(root, "train_A", 1, 0))
    dirty = subprocess.run([sys.executable, str(script), "--dataroot", root, "--label_nc", "35", "--full"],
                           capture_output=True, text=True)
    assert dirty.returncode == 1 and "frame_0000.*: missing" in dirty.stdout
