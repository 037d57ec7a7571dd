"""Training that survives: signals and errors save first, resumed runs continue exactly, a broken latest
checkpoint falls back to an epoch one, non-finite losses skip their update, a full disk keeps the previous
checkpoint, unreadable items are skipped."""

from __future__ import annotations

import errno
import glob
import os
import signal
from unittest import mock

import pytest
import torch

import train
import util.state_dicts
from models.vid2vid.model import Vid2VidModel
from scripts.datasets.synthetic_street import generate_dataset
from tests.conftest import tiny_train_args
from training.trainer import Trainer

NETS = ("G0", "D", "D_T0")


@pytest.fixture(scope="module")
def three_videos(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("three_videos"))
    generate_dataset(root, n_train=3, n_test=1, n_frames=6, width=64, height=32, seed=1)
    return root


def shuffled_args(root: str, ckpt_dir: str, *extra: str) -> list[str]:
    """A seeded tiny run over 3 shuffled videos, 2 epochs, saving `latest` after every video."""
    args = [a for a in tiny_train_args(root, ckpt_dir, "r", "--niter", "2", "--save_latest_freq", "1", *extra)
            if a != "--serial_batches"]
    return args


def weights(ckpt_dir: str, label: str = "latest") -> dict[str, dict[str, torch.Tensor]]:
    return {net: torch.load(os.path.join(ckpt_dir, "r", f"{label}_net_{net}.pth"), weights_only=True) for net in NETS}


def assert_same_weights(a: dict, b: dict) -> None:
    for net in NETS:
        for key in a[net]:
            torch.testing.assert_close(a[net][key], b[net][key], rtol=0, atol=0, msg=f"{net} {key}")


def file_bytes(ckpt_dir: str) -> dict[str, bytes]:
    return {os.path.basename(p): open(p, "rb").read() for p in sorted(glob.glob(os.path.join(ckpt_dir, "r", "*")))
            if os.path.isfile(p) and not p.endswith("loss_log.txt")}


@pytest.fixture(scope="module")
def uninterrupted(three_videos, tmp_path_factory) -> dict:
    ckpt_dir = str(tmp_path_factory.mktemp("uninterrupted"))
    train.main(shuffled_args(three_videos, ckpt_dir))
    return weights(ckpt_dir)


def signal_at_video(n: int, signum: int = signal.SIGTERM):
    """Patches Trainer.train_video to send `signum` to this process during its n-th call."""
    original, calls = Trainer.train_video, []

    def train_video(self, data, where=""):
        calls.append(where)
        if len(calls) == n:
            os.kill(os.getpid(), signum)
        return original(self, data, where)

    return mock.patch.object(Trainer, "train_video", train_video)


def test_sigterm_mid_epoch_saves_and_resumes_at_the_same_iteration(three_videos, uninterrupted, tmp_path, capsys):
    ckpt_dir = str(tmp_path)
    with signal_at_video(2), pytest.raises(SystemExit) as stopped:
        train.main(shuffled_args(three_videos, ckpt_dir))
    assert stopped.value.code == 128 + signal.SIGTERM
    assert "stopped by SIGTERM: saved latest at epoch 1, iteration 2; resume with --continue_train" in \
        capsys.readouterr().err
    assert open(os.path.join(ckpt_dir, "r", "iter.txt")).read().split() == ["1", "2"]
    train.main(shuffled_args(three_videos, ckpt_dir, "--continue_train"))
    assert "Resuming from epoch 1 at iteration 2" in open(os.path.join(ckpt_dir, "r", "loss_log.txt")).read()
    assert_same_weights(weights(ckpt_dir), uninterrupted)


def test_an_error_in_the_loop_saves_first(three_videos, tmp_path, capsys):
    original, calls = Trainer.train_video, []

    def failing(self, data, where=""):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("CUDA out of memory (simulated)")
        return original(self, data, where)

    with mock.patch.object(Trainer, "train_video", failing), pytest.raises(RuntimeError, match="simulated"):
        train.main(shuffled_args(three_videos, str(tmp_path), "--save_latest_freq", "100"))
    assert "RuntimeError during training: CUDA out of memory (simulated): saved latest at epoch 1, iteration 2" in \
        capsys.readouterr().err
    assert open(tmp_path / "r" / "iter.txt").read().split() == ["1", "2"]


def test_truncated_latest_falls_back_to_the_epoch_checkpoint(three_videos, tmp_path, capsys):
    ckpt_dir = str(tmp_path)
    train.main(shuffled_args(three_videos, ckpt_dir, "--niter", "1"))
    latest = os.path.join(ckpt_dir, "r", "latest_net_G0.pth")
    with open(latest, "r+b") as f:
        f.truncate(os.path.getsize(latest) // 2)
    train.main(shuffled_args(three_videos, ckpt_dir, "--continue_train"))
    log = open(os.path.join(ckpt_dir, "r", "loss_log.txt")).read()
    assert "cannot resume from checkpoint 'latest'" in log and "latest_net_G0.pth" in log
    assert "resuming from '1'" in log and "1_net_G0.pth" in log
    assert "Resuming from epoch 2 at iteration 0" in log


def test_an_epoch_end_save_writes_latest_and_the_epoch_label_as_equal_checked_sets(three_videos, tmp_path):
    train.main(shuffled_args(three_videos, str(tmp_path), "--niter", "1", "--save_latest_freq", "1000"))
    files = file_bytes(str(tmp_path))
    latest = {name.removeprefix("latest_"): data for name, data in files.items() if name.startswith("latest_")}
    epoch = {name.removeprefix("1_"): data for name, data in files.items() if name.startswith("1_")}
    assert sorted(latest) == sorted(epoch)
    assert {*(f"net_{net}.pth" for net in NETS), "train_state.pth", "checkpoint.json"} <= set(latest)
    assert all(latest[name] == epoch[name] for name in latest if name != "checkpoint.json")
    for label in ("latest", "1"):
        info, problem = util.state_dicts.verify_manifest(os.path.join(tmp_path, "r", f"{label}_checkpoint.json"))
        assert problem == "" and (info["epoch"], info["epoch_iter"]) == (2, 0)


def test_a_set_and_its_copies_are_replaced_together_or_not_at_all(tmp_path):
    first, second = str(tmp_path / "a_x.pth"), str(tmp_path / "b_x.pth")
    sets = ({first: {"w": torch.ones(3)}}, str(tmp_path / "a.json"), {"epoch": 1},
            [({first: second}, str(tmp_path / "b.json"))])
    util.state_dicts.atomic_save_set(*sets)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert before["a_x.pth"] == before["b_x.pth"] and sorted(before) == ["a.json", "a_x.pth", "b.json", "b_x.pth"]
    for path in (first, second):
        assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(3))
    full = OSError(errno.ENOSPC, "No space left on device")
    with mock.patch.object(util.state_dicts.shutil, "copyfile", side_effect=full), pytest.raises(OSError):
        util.state_dicts.atomic_save_set({first: {"w": torch.zeros(3)}}, *sets[1:])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporaries either


def test_truncated_official_checkpoint_without_manifest_falls_back_too(three_videos, tmp_path):
    ckpt_dir = str(tmp_path)
    train.main(shuffled_args(three_videos, ckpt_dir, "--niter", "1"))
    for manifest in glob.glob(os.path.join(ckpt_dir, "r", "*_checkpoint.json")):
        os.remove(manifest)  # as official checkpoints come
    with open(os.path.join(ckpt_dir, "r", "latest_net_D.pth"), "wb") as f:
        f.write(b"\x00" * 10)
    trainer = Trainer(train.TrainOptions().parse(shuffled_args(three_videos, ckpt_dir, "--continue_train"),
                                                 save=False))
    assert (trainer.start_epoch, trainer.epoch_iter) == (2, 0)


def test_non_finite_losses_skip_updates_then_stop_with_the_last_good_files(three_videos, tmp_path, capsys):
    ckpt_dir = str(tmp_path)
    train.main(shuffled_args(three_videos, ckpt_dir, "--niter", "1"))
    before = file_bytes(ckpt_dir)
    chunk_losses = Vid2VidModel.chunk_losses

    def poisoned(self, chunk):
        losses = chunk_losses(self, chunk)
        losses.generator["G_Warp"] = losses.generator["G_Warp"] * float("nan")
        return losses

    with mock.patch.object(Vid2VidModel, "chunk_losses", poisoned), \
            pytest.raises(SystemExit):
        train.main(shuffled_args(three_videos, ckpt_dir, "--continue_train", "--max_nan_steps", "3"))
    err = capsys.readouterr().err
    assert "3 chunks in a row with non-finite losses (last: G_Warp" in err
    assert "the last saved checkpoint is kept" in err
    log = open(os.path.join(ckpt_dir, "r", "loss_log.txt")).read()
    assert log.count("warning: non-finite G_Warp") == 2  # the third one stops
    after = file_bytes(ckpt_dir)
    assert {k: v for k, v in after.items() if k != "opt.txt"} == {k: v for k, v in before.items() if k != "opt.txt"}


def test_full_disk_keeps_the_previous_checkpoint(three_videos, tmp_path, capsys):
    ckpt_dir = str(tmp_path)
    train.main(shuffled_args(three_videos, ckpt_dir, "--niter", "1"))
    before = file_bytes(ckpt_dir)
    real_save, calls = torch.save, []

    def save_until_full(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) >= 3:  # a few files of the next set are written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    with mock.patch.object(util.state_dicts.torch, "save", save_until_full), pytest.raises(SystemExit):
        train.main(shuffled_args(three_videos, ckpt_dir, "--continue_train"))
    err = capsys.readouterr().err
    assert "cannot save checkpoint 'latest'" in err and "No space left on device" in err
    assert "the previous checkpoint is intact" in err
    after = file_bytes(ckpt_dir)
    assert {k: v for k, v in after.items() if k != "opt.txt"} == {k: v for k, v in before.items() if k != "opt.txt"}
    assert not glob.glob(os.path.join(ckpt_dir, "r", ".tmp_*"))


def test_an_unreadable_item_is_skipped_up_to_the_limit(three_videos, tmp_path_factory, tmp_path, capsys):
    root = str(tmp_path_factory.mktemp("one_bad_frame"))
    generate_dataset(root, n_train=3, n_test=1, n_frames=6, width=64, height=32, seed=1)
    bad = sorted(glob.glob(os.path.join(root, "train_B", "seq_001", "*.png")))[0]
    with open(bad, "r+b") as f:  # the frame goes bad after the check
        f.truncate(100)
    args = [*shuffled_args(root, str(tmp_path), "--niter", "1"), "--skip_data_check", "--serial_batches"]
    train.main(args)
    log = open(tmp_path / "r" / "loss_log.txt").read()
    assert log.count("warning: skipped an unreadable item (1 so far): cannot read image") == 1 and bad in log
    with pytest.raises(SystemExit):
        train.main([*args, "--name", "limit", "--max_unreadable_items", "0"])
    assert "1 training items could not be read" in capsys.readouterr().err


def test_training_refuses_bad_data_and_lists_every_problem(three_videos, tmp_path_factory, tmp_path, capsys):
    root = str(tmp_path_factory.mktemp("bad_data"))
    generate_dataset(root, n_train=2, n_test=1, n_frames=6, width=64, height=32, seed=1)
    os.remove(sorted(glob.glob(os.path.join(root, "train_inst", "seq_000", "*.png")))[2])
    with pytest.raises(ValueError, match=r"the data check found 2 problem\(s\).*--skip_data_check"):
        train.main(tiny_train_args(root, str(tmp_path), "bad"))
    err = capsys.readouterr().err
    assert "frame_0002.*: missing" in err and "5 frames, but 6" in err
    assert not os.path.exists(tmp_path / "bad")  # nothing written


def test_latest_is_also_saved_every_n_seconds(three_videos, tmp_path):
    train.main(shuffled_args(three_videos, str(tmp_path), "--niter", "1", "--save_latest_freq", "1000",
                             "--save_latest_every_s", "0.001"))
    log = open(tmp_path / "r" / "loss_log.txt").read()
    assert log.count("saving the latest model") == 3  # after every video, although the step count never says so
