"""test.py on a trained tiny model: the official frame files, mp4s and the results page."""

from __future__ import annotations

import glob
import os

import imageio.v3 as iio
import pytest

import test as test_script
import train
from tests.conftest import TINY_MODEL, tiny_train_args


@pytest.fixture(scope="module")
def trained(street_root, tmp_path_factory) -> str:
    checkpoints = str(tmp_path_factory.mktemp("ckpt"))
    train.main(tiny_train_args(street_root, checkpoints, "tiny"))
    return checkpoints


def render_args(street_root, checkpoints, results, *extra):
    return ["--dataroot", street_root, "--checkpoints_dir", checkpoints, "--results_dir", results, "--name", "tiny",
            *TINY_MODEL, *extra]


def test_renders_frames_videos_and_page(street_root, trained, tmp_path):
    results = str(tmp_path / "results")
    save_dir = test_script.render(test_script.TestOptions().parse(
        render_args(street_root, trained, results, "--use_real_img", "--fps", "5")))
    assert save_dir == os.path.join(results, "tiny", "test_latest")
    (seq,) = sorted(os.listdir(os.path.join(street_root, "test_A")))
    frames = sorted(os.listdir(os.path.join(street_root, "test_A", seq)))
    stems = [os.path.splitext(f)[0] for f in frames[2:]]  # outputs exist from frame tG-1 = 2 on
    for stem in stems:
        assert os.path.isfile(os.path.join(save_dir, seq, f"fake_B_{stem}.jpg"))
        assert os.path.isfile(os.path.join(save_dir, seq, f"real_A_{stem}.png"))
    assert len(glob.glob(os.path.join(save_dir, seq, "fake_B_*.jpg"))) == len(stems)

    video = iio.imread(os.path.join(save_dir, "videos", f"{seq}.mp4"))
    assert video.shape == (len(stems), 32, 64, 3)
    pair = iio.imread(os.path.join(save_dir, "videos", f"{seq}_real_A_fake_B.mp4"))
    assert pair.shape == (len(stems), 32, 128, 3)
    page = open(os.path.join(save_dir, "index.html")).read()
    assert f"videos/{seq}.mp4" in page and f"videos/{seq}_real_A_fake_B.mp4" in page


def test_how_many_and_start_frame(street_root, trained, tmp_path):
    results = str(tmp_path / "results")
    save_dir = test_script.render(test_script.TestOptions().parse(
        render_args(street_root, trained, results, "--use_real_img", "--how_many", "2", "--start_frame", "1",
                  "--no_video")))
    (seq,) = os.listdir(save_dir)
    names = sorted(os.listdir(os.path.join(save_dir, seq)))
    frames = sorted(os.listdir(os.path.join(street_root, "test_A", seq)))
    # start_frame 1: the first window is frames 1..3, so the first output is frame 3
    expected = [os.path.splitext(f)[0] for f in frames[3:5]]
    assert names == sorted([f"fake_B_{s}.jpg" for s in expected] + [f"real_A_{s}.png" for s in expected])


def test_no_first_img_needs_no_real_frames(street_root, tmp_path):
    checkpoints = str(tmp_path / "ckpt")
    train.main(tiny_train_args(street_root, checkpoints, "tiny", "--no_first_img"))
    save_dir = test_script.render(test_script.TestOptions().parse(
        render_args(street_root, checkpoints, str(tmp_path / "r"), "--no_first_img", "--no_video")))
    assert glob.glob(os.path.join(save_dir, "*", "fake_B_*.jpg"))
