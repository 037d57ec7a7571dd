"""End-to-end training on the tiny synthetic dataset: official files, logs, pages, exact resume."""

from __future__ import annotations

import os
from unittest import mock

import pytest
import torch

import data.temporal_dataset as temporal
import train
from options.train_options import TrainOptions
from tests.conftest import tiny_train_args
from training.trainer import Trainer


def read_losses(path: str) -> list[str]:
    """The loss lines of loss_log.txt without their timing field."""
    lines = [line for line in open(path) if line.startswith("(epoch")]
    return [line.split(") ", 1)[0].split(", time")[0] + ") " + line.split(") ", 1)[1] for line in lines]


def test_training_writes_the_official_files(street_root, tmp_path):
    ckpt_dir = str(tmp_path / "ckpt")
    train.main(tiny_train_args(street_root, ckpt_dir, "run", "--niter_decay", "1", "--save_latest_freq", "1",
                               "--tf_log"))
    exp = os.path.join(ckpt_dir, "run")
    for label in ("latest", "1", "2"):
        for net in ("G0", "D", "D_T0", "D_T1"):
            assert os.path.isfile(os.path.join(exp, f"{label}_net_{net}.pth")), (label, net)
    assert open(os.path.join(exp, "iter.txt")).read().split() == ["3", "0"]
    assert "label_nc: 35" in open(os.path.join(exp, "opt.txt")).read()
    losses = read_losses(os.path.join(exp, "loss_log.txt"))
    assert len(losses) == 4  # 2 videos x 2 epochs, printed every step
    assert "G_GAN" in losses[0] and "D_T_real0" in losses[0] and "F_Flow" in losses[0]
    page = open(os.path.join(exp, "web", "index.html")).read()
    for label in ("input_image", "fake_image", "fake_raw_image", "real_image", "flow_ref", "conf_ref", "flow",
                  "weight"):
        assert f"epoch002_{label}.jpg" in page
        assert os.path.isfile(os.path.join(exp, "web", "images", f"epoch002_{label}.jpg"))
    assert any(f.startswith("events.out") for f in os.listdir(os.path.join(exp, "logs")))
    # plain state_dicts with the official keys, loadable with weights_only
    state = torch.load(os.path.join(exp, "latest_net_G0.pth"), weights_only=True)
    assert "model_down_seg.1.weight" in state and "indv_final.1.weight" in state
    assert not any(name.startswith(".tmp_") for name in os.listdir(exp))


def test_resumed_run_continues_exactly(street_root, tmp_path):
    straight = str(tmp_path / "straight")
    train.main(tiny_train_args(street_root, straight, "a", "--niter", "2"))
    resumed = str(tmp_path / "resumed")
    train.main(tiny_train_args(street_root, resumed, "a", "--niter", "1"))
    train.main(tiny_train_args(street_root, resumed, "a", "--niter", "2", "--continue_train"))

    expected = read_losses(os.path.join(straight, "a", "loss_log.txt"))
    got = read_losses(os.path.join(resumed, "a", "loss_log.txt"))
    assert len(expected) == 4 and got == expected
    for net in ("G0", "D", "D_T0"):
        a = torch.load(os.path.join(straight, "a", f"latest_net_{net}.pth"), weights_only=True)
        b = torch.load(os.path.join(resumed, "a", f"latest_net_{net}.pth"), weights_only=True)
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=f"{net} {key}")


def test_two_scales_with_fixed_global_train_every_scale_afterwards(street_root, tmp_path):
    """--niter_fix_global: only the finest scale moves at first, every scale after (the official bug fixed)."""
    ckpt_dir = str(tmp_path / "ckpt")
    args = tiny_train_args(street_root, ckpt_dir, "s2", "--n_scales_spatial", "2", "--niter_fix_global", "1",
                           "--niter", "2", "--save_epoch_freq", "1")
    train.main(args)
    exp = os.path.join(ckpt_dir, "s2")
    # G0's own image head gets no gradient (only its features reach G1), so look at its encoder
    key = "model_down_seg.1.weight"
    g0 = [torch.load(os.path.join(exp, f"{e}_net_G0.pth"), weights_only=True)[key] for e in (1, 2)]
    g1 = [torch.load(os.path.join(exp, f"{e}_net_G1.pth"), weights_only=True)[key] for e in (1, 2)]
    assert not torch.equal(g0[0], g0[1])
    assert not torch.equal(g1[0], g1[1])


def test_fixed_global_phase_leaves_the_coarse_scale_untouched(street_root, tmp_path):
    ckpt_dir = str(tmp_path / "ckpt")
    train.main(tiny_train_args(street_root, ckpt_dir, "fix", "--n_scales_spatial", "2", "--niter_fix_global", "2",
                               "--niter", "2", "--save_epoch_freq", "1"))
    exp = os.path.join(ckpt_dir, "fix")
    key = "model_down_seg.1.weight"
    g0 = [torch.load(os.path.join(exp, f"{e}_net_G0.pth"), weights_only=True)[key] for e in (1, 2)]
    assert torch.equal(g0[0], g0[1])


@pytest.mark.parametrize("extra", [["--no_flow"], ["--sparse_D", "--n_frames_D", "2"], ["--no_first_img"],
                                   ["--norm", "instance", "--no_ganFeat", "--TTUR"]])
def test_training_variants_run(street_root, tmp_path, extra):
    ckpt_dir = str(tmp_path / "ckpt")
    train.main(tiny_train_args(street_root, ckpt_dir, "v", *extra))
    assert os.path.isfile(os.path.join(ckpt_dir, "v", "latest_net_G0.pth"))


def test_max_dataset_size_ends_each_epoch_after_that_many_videos(street_root, tmp_path):
    """Official: every sequence stays in the dataset, and each epoch stops after N items."""
    ckpt_dir = str(tmp_path / "ckpt")
    seen = []
    original = temporal.TemporalDataset.__getitem__

    def record(self, index):
        seen.append(index)
        return original(self, index)

    with mock.patch.object(temporal.TemporalDataset, "__getitem__", record):
        train.main(tiny_train_args(street_root, ckpt_dir, "m", "--max_dataset_size", "1", "--niter", "3"))
    assert len(read_losses(os.path.join(ckpt_dir, "m", "loss_log.txt"))) == 3
    assert seen == [0, 0, 0]  # --serial_batches: the first video each epoch; both videos stay loadable


def test_continue_train_resumes_from_its_own_folder_even_with_load_pretrain(street_root, tmp_path):
    """The official code resumed from the --load_pretrain folder; here --continue_train wins."""
    ckpt_dir = str(tmp_path / "ckpt")
    train.main(tiny_train_args(street_root, ckpt_dir, "own", "--niter", "1"))
    train.main(tiny_train_args(street_root, ckpt_dir, "other", "--niter", "1", "--seed", "5"))
    own = torch.load(os.path.join(ckpt_dir, "own", "latest_net_G0.pth"), weights_only=True)
    trainer = Trainer(TrainOptions().parse(tiny_train_args(street_root, ckpt_dir, "own", "--niter", "2",
                                                           "--continue_train", "--load_pretrain",
                                                           os.path.join(ckpt_dir, "other")), save=False))
    loaded = trainer.networks["G0"].state_dict()
    for key, value in own.items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0, msg=key)
    assert trainer.start_epoch == 2
