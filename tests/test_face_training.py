"""Training on face data: the face discriminator's box on face inputs, checkpoints with the official names
and keys, and the official scripts/face/*.sh command lines parsing and building with the face dataset."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import torch

import train
from data import create_dataset
from models.networks import factory
from models.vid2vid.face_region import face_box
from options.test_options import TestOptions
from options.train_options import TrainOptions
from tests.conftest import OFFICIAL_KEYS_DIR
from tests.test_face_dataset import write_sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_face_box_on_face_data():
    # 15 channels: edges, then 14 distance maps that are 1 (far) except near the facial edges
    real_A = torch.ones(2, 15, 32, 48)
    real_A[0, 3, 10:13, 30:37] = 0  # frame 0: an edge at rows 10-12, columns 30-36
    real_A[1, 9, 14:17, 28:31] = 1 / 255  # frame 1: within 3-5 pixels of an edge
    real_A[1, 9, 20, 5] = 2 / 255  # not near enough
    # face pixels span rows 10..16, columns 28..36: centre (13, 32); side 8
    assert face_box(real_A, 8, openpose_only=False, face_data=True) == (9, 17, 28, 36)
    # the official rule (channel 2 > 0.9) would take the whole frame here, and find nothing on real data
    assert face_box(real_A, 8, openpose_only=False) == (11, 19, 19, 27)
    assert face_box(torch.full((1, 15, 32, 48), 0.5), 8, False, face_data=True) is None
    with pytest.raises(ValueError, match="drop --no_dist_map"):
        face_box(torch.ones(1, 1, 32, 48), 8, False, face_data=True)


def test_face_pose_rules_unchanged():
    pose = -torch.ones(1, 6, 32, 48)
    pose[0, 2, 4:8, 40:44] = 1.0  # DensePose head parts
    assert face_box(pose, 8, openpose_only=False) == (1, 9, 37, 45)


@pytest.fixture(scope="module")
def face_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("face_train")
    write_sequence(root, "train", "clip", 4)
    return root


def test_face_checkpoints_have_the_official_names_and_keys(face_root, tmp_path):
    spec = json.load(open(os.path.join(OFFICIAL_KEYS_DIR, "face_s2.json")))
    train.main([*spec["flags"], "--dataroot", str(face_root), "--checkpoints_dir", str(tmp_path), "--name", "face",
                "--loadSize", "160", "--fineSize", "160", "--add_face_disc", "--gpu_ids", "-1", "--nThreads", "0",
                "--flownet", "dis", "--no_vgg", "--niter", "1", "--niter_decay", "0", "--n_frames_total", "2",
                "--max_frames_per_gpu", "2", "--seed", "0"])
    exp = tmp_path / "face"
    for name, expected in spec["files"].items():
        state = torch.load(exp / name, weights_only=True)
        assert {k: list(v.shape) for k, v in state.items()} == expected, name
    # D_f: D with max(1, num_D - 2) = 1 scale, so the official D's scale 0 keys (input 15 + 3 channels)
    face_d = torch.load(exp / "latest_net_D_f.pth", weights_only=True)
    d_keys = spec["files"]["latest_net_D.pth"]
    assert {k: list(v.shape) for k, v in face_d.items()} == {k: s for k, s in d_keys.items()
                                                             if k.startswith("scale0_")}
    assert list(face_d["scale0_layer0.0.weight"].shape)[1] == 18
    assert os.path.isfile(exp / "1_net_G1.pth") and (exp / "iter.txt").read_text().split() == ["2", "0"]


def official_command(script: str) -> tuple[str, list[str]]:
    """(train.py or test.py, its flags) of a one-command official script."""
    lines = [line for line in open(os.path.join(REPO, "scripts", "face", script)) if line.startswith("python ")]
    assert len(lines) == 1, script
    words = shlex.split(lines[0].replace('"$@"', ""))
    return words[1], words[2:]


SCRIPTS = sorted(f for f in os.listdir(os.path.join(REPO, "scripts", "face"))
                 if f.endswith(".sh") and f.startswith(("train_", "test_")))


@pytest.mark.parametrize("script", SCRIPTS)
def test_official_scripts_parse_and_build(script, face_root, tmp_path):
    entry, flags = official_command(script)
    flags[flags.index("--dataroot") + 1] = str(face_root)
    common = ["--phase", "train", "--checkpoints_dir", str(tmp_path), "--gpu_ids", "-1"]
    if entry == "train.py":
        opt = TrainOptions().parse([*flags, *common], save=False)
    else:
        opt = TestOptions().parse([*flags, *common])
    assert opt.dataset_mode == "face" and opt.input_nc == 15
    item = create_dataset(opt)[0]
    assert item["A"].shape[1:] == (15, opt.loadSize, opt.loadSize)
    with torch.device("meta"):  # the official sizes (up to ~365M parameters): no storage
        generators = factory.define_generators(opt)
        if entry == "train.py":
            factory.define_discriminators(opt)
        if opt.use_single_G:
            factory.define_face_single_frame_networks(opt)
    assert len(generators) == opt.n_scales_spatial



def test_train_with_a_bad_keypoint_file_ends_with_one_line(tmp_path):
    write_sequence(tmp_path, "train", "clip", 3)
    (tmp_path / "train_keypoints" / "clip" / "00001.txt").write_text("12,13\n" * 67)
    result = subprocess.run([sys.executable, os.path.join(REPO, "train.py"), "--dataroot", str(tmp_path),
                             "--dataset_mode", "face", "--input_nc", "15", "--gpu_ids", "-1", "--checkpoints_dir",
                             str(tmp_path / "ck")], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "clip/00001.txt" in errors[0] and "67 rows" in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
