"""Bad input ends with a one-line error naming the file or flag, exit status 2, and nothing overwritten."""

from __future__ import annotations

import hashlib
import os
import shutil

import numpy as np
import pytest
from PIL import Image

import test as test_script
import train
from tests.conftest import TINY_MODEL, tiny_train_args
from util.cli import run_main


def fail(main, args, capsys) -> str:
    """Runs an entry point as the command line does; returns its one error line."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(lambda: main(args))
    assert exit_info.value.code == 2
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err_lines) == 1
    return err_lines[0]


def snapshot(folder: str) -> dict[str, str]:
    """Hashes of what a failed run must not lose: the checkpoints and iter.txt (logs may gain lines)."""
    return {name: hashlib.md5(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(folder)) if name.endswith(".pth") or name == "iter.txt"}


@pytest.fixture(scope="module")
def experiment(street_root, tmp_path_factory) -> str:
    """A finished tiny training run, whose files a failing command must leave as they are."""
    checkpoints = str(tmp_path_factory.mktemp("ckpt"))
    train.main(tiny_train_args(street_root, checkpoints, "exp"))
    return checkpoints


@pytest.fixture
def broken_root(street_root, tmp_path) -> str:
    """A writable copy of the tiny dataset for a test to break."""
    root = str(tmp_path / "data")
    shutil.copytree(street_root, root)
    return root


def first_frame(root: str, folder: str) -> str:
    seq = sorted(os.listdir(os.path.join(root, folder)))[0]
    return os.path.join(root, folder, seq, sorted(os.listdir(os.path.join(root, folder, seq)))[0])


def check_train_fails(root, experiment, capsys, *extra) -> str:
    before = snapshot(os.path.join(experiment, "exp"))
    message = fail(train.main, tiny_train_args(root, experiment, "exp", *extra), capsys)
    assert snapshot(os.path.join(experiment, "exp")) == before
    return message


def test_missing_dataroot(experiment, tmp_path, capsys):
    message = check_train_fails(str(tmp_path / "nowhere"), experiment, capsys)
    assert "--dataroot" in message and "train_A" in message


def test_sequence_counts_differ(broken_root, experiment, capsys):
    seq = sorted(os.listdir(os.path.join(broken_root, "train_B")))[0]
    shutil.rmtree(os.path.join(broken_root, "train_B", seq))
    message = check_train_fails(broken_root, experiment, capsys)
    assert "train_A" in message and "train_B" in message


def test_sequence_lengths_differ(broken_root, experiment, capsys):
    os.remove(first_frame(broken_root, "train_inst"))
    message = check_train_fails(broken_root, experiment, capsys)
    assert "train_inst" in message and "train_A" in message


def test_label_out_of_range(broken_root, experiment, capsys):
    path = first_frame(broken_root, "train_A")
    labels = np.array(Image.open(path))
    labels[0, 0] = 40
    Image.fromarray(labels).save(path)
    message = check_train_fails(broken_root, experiment, capsys)
    assert path in message and "40" in message and "--label_nc" in message


def test_size_not_divisible_suggests_a_load_size(street_root, experiment, capsys):
    message = check_train_fails(street_root, experiment, capsys, "--n_downsample_G", "6")
    assert "--loadSize" in message and "divisible" in message


def test_corrupt_image_names_its_path(broken_root, experiment, capsys):
    path = first_frame(broken_root, "train_B")
    with open(path, "wb") as f:
        f.write(b"not a png")
    message = check_train_fails(broken_root, experiment, capsys)
    assert path in message


def test_mismatched_checkpoint_on_resume(street_root, experiment, capsys):
    message = check_train_fails(street_root, experiment, capsys, "--continue_train", "--ngf", "16")
    assert "latest_net_G0.pth" in message and "shape" in message
    assert "(16," in message and "(8," in message


def test_missing_vgg_weights_names_the_flag(street_root, experiment, tmp_path, capsys):
    args = [a for a in tiny_train_args(street_root, experiment, "exp") if a != "--no_vgg"]
    before = snapshot(os.path.join(experiment, "exp"))
    message = fail(train.main, [*args, "--vgg_weights", str(tmp_path / "vgg19.pth")], capsys)
    assert "--vgg_weights" in message and "vgg19.pth" in message
    assert snapshot(os.path.join(experiment, "exp")) == before


def test_missing_flownet_checkpoint_names_the_flag(street_root, experiment, tmp_path, capsys):
    message = check_train_fails(street_root, experiment, capsys, "--flownet", "flownet2",
                                "--flownet_checkpoint", str(tmp_path / "FlowNet2_checkpoint.pth.tar"))
    assert "--flownet_checkpoint" in message


def test_test_without_first_frame_source(street_root, experiment, tmp_path, capsys):
    args = ["--dataroot", street_root, "--checkpoints_dir", experiment, "--name", "exp",
            "--results_dir", str(tmp_path), *TINY_MODEL]
    message = fail(test_script.main, args, capsys)
    assert "--use_real_img" in message and "--use_single_G" in message


def test_test_with_missing_checkpoint(street_root, tmp_path, capsys):
    args = ["--dataroot", street_root, "--checkpoints_dir", str(tmp_path), "--name", "none", "--use_real_img",
            *TINY_MODEL]
    message = fail(test_script.main, args, capsys)
    assert "latest_net_G0.pth" in message
