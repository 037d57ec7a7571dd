"""End to end on a real video no one here made: OpenCV's vtest.avi (pedestrians, from Debian's opencv-doc,
fetched by scripts/fetch_test_clips.sh) -> scripts/pose/prepare_and_train_g1_256p.sh, which runs
scripts/pose/prepare_video.py, two training iterations of `--dataset_mode pose --openpose_only` with a tiny G
and test.py (frames, mp4s and HTML page).

At full frame (768x576) the pedestrians are about 100 pixels tall, too small for MediaPipe, so the run takes
the 272x240 box at (496, 140) of frames 55-77 (every second one), where a man in a dark jacket walks away
from the camera, and doubles it to 544x480; MediaPipe finds him on every frame of it. The checkpoint
then has the official file and key names (tests/fixtures/official_keys/pose_openpose_only.json).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import OFFICIAL_KEYS_DIR

REPO = Path(__file__).resolve().parent.parent
CLIP = REPO / "tests" / "clips" / "vtest.avi"
N_FRAMES = 12
PREPARE = ["--start", "55", "--every", "2", "--max_frames", str(N_FRAMES),
           "--crop", "496", "140", "272", "240", "--scale", "2"]
# pose_openpose_only.json's architecture (ngf 16, 2 downsamplings, 2 + 1 blocks) with a narrow D (ndf 8:
# same key names, smaller shapes) so that two iterations take seconds on a CPU
MODEL = ["--dataset_mode", "pose", "--openpose_only", "--input_nc", "3", "--ngf", "16", "--n_downsample_G", "2",
         "--n_blocks", "2", "--n_blocks_local", "1", "--resize_or_crop", "scaleHeight", "--loadSize", "128",
         "--gpu_ids", "-1"]
TRAIN = ["--ndf", "8", "--flownet", "dis", "--no_vgg", "--nThreads", "0", "--n_frames_total", "4",
         "--max_frames_per_gpu", "2", "--niter", "1", "--niter_decay", "0", "--max_dataset_size", "2",
         "--print_freq", "1", "--display_freq", "1", "--seed", "0"]
TEST = "--how_many 4"

pytestmark = [
    pytest.mark.skipif(not CLIP.is_file(), reason=f"{CLIP} missing: run bash scripts/fetch_test_clips.sh"),
    pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None,
                       reason="mediapipe is not installed (pip install -r requirements-pose.txt, see its comments)"),
]


def test_video_to_rendered_mp4_with_one_command(tmp_path: Path) -> None:
    # scripts/pose/prepare_and_train_g1_256p.sh with the tiny model and the quick schedule given as extra
    # flags (later flags win), and every output under tmp_path
    model = " ".join(MODEL)
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONUNBUFFERED": "1", "DATASETS_DIR": str(tmp_path),
           "CHECKPOINTS_DIR": str(tmp_path / "checkpoints"), "RESULTS_DIR": str(tmp_path / "results"),
           "PREP_ARGS": " ".join(PREPARE), "TRAIN_ARGS": f"{model} {' '.join(TRAIN)}", "TEST_ARGS": f"{model} {TEST}"}
    result = subprocess.run(["bash", str(REPO / "scripts" / "pose" / "prepare_and_train_g1_256p.sh"), str(CLIP),
                             "walk"], cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    log = result.stdout
    assert result.returncode == 0, f"{log[-3000:]}\n{result.stderr[-3000:]}"

    found, total = map(int, re.search(r"person found on (\d+) of (\d+) frames", log).groups())
    assert total == N_FRAMES and found >= 0.8 * N_FRAMES, log
    data = tmp_path / "walk"
    images = sorted(p.name for p in (data / "train_img" / "vtest").iterdir())
    keypoints = sorted(p.name for p in (data / "train_openpose" / "vtest").iterdir())
    assert images[0] == "000055.jpg" and len(images) == N_FRAMES
    assert keypoints == [name.replace(".jpg", "_keypoints.json") for name in images]
    first = json.loads((data / "train_openpose" / "vtest" / keypoints[0]).read_text())
    assert len(first["people"]) == 1 and len(first["people"][0]["pose_keypoints_2d"]) == 75
    assert sorted(p.name for p in (data / "test_img" / "vtest").iterdir()) == images  # the same video rendered

    assert "(epoch: 1, iters: 2," in log  # two training iterations
    assert_official_names(tmp_path / "checkpoints" / "walk")

    out = tmp_path / "results" / "walk" / "test_latest"
    fakes = sorted(p.name for p in (out / "vtest").glob("fake_B_*.jpg"))
    assert fakes == [f"fake_B_{55 + 2 * k:06d}.jpg" for k in range(2, 6)]  # outputs from frame tG - 1 on
    assert (out / "vtest" / "real_A_000059.jpg").is_file()
    for video in ("vtest.mp4", "vtest_real_A_fake_B.mp4"):
        assert (out / "videos" / video).stat().st_size > 1000
    assert "vtest.mp4" in (out / "index.html").read_text()


def assert_official_names(directory: Path) -> None:
    """Every official file is there with the official keys; G's shapes match too (D is narrower here)."""
    with open(os.path.join(OFFICIAL_KEYS_DIR, "pose_openpose_only.json")) as f:
        official = json.load(f)["files"]
    for name, keys in official.items():
        state = torch.load(directory / name, map_location="cpu", weights_only=True)
        assert sorted(state) == sorted(keys), name
        if "_G" in name:
            assert {k: list(v.shape) for k, v in state.items()} == keys
