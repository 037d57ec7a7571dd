"""Distributed training launched by torchrun (2 CPU processes, gloo) on the tiny synthetic dataset: the
processes hold the same networks after every iteration, rank 0 alone writes the files of a single-process
run, a resumed launch continues exactly, and launches that cannot work stop with one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch

import train
from data.sampling import Shard, ShardedResumableSampler
from tests.conftest import tiny_train_args
from training.distributed import CHECKSUM_ENV, gpu_of_local_rank

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def uneven_root(street_root, tmp_path_factory) -> str:
    """The tiny street data with its second training video cut to 4 frames: 1 chunk instead of 2, and no group
    for the first temporal D, so that the process training it sits out the other's second chunk."""
    root = str(tmp_path_factory.mktemp("uneven"))
    shutil.copytree(street_root, root, dirs_exist_ok=True)
    for folder in ("train_A", "train_B", "train_inst"):
        for frame in sorted(os.listdir(os.path.join(root, folder, "seq_001")))[4:]:
            os.remove(os.path.join(root, folder, "seq_001", frame))
    return root


def torchrun(n_procs: int, args: list[str], checksums: str | None = None) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc_per_node n_procs train.py args` from the repository root."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if checksums:
        os.makedirs(checksums, exist_ok=True)
        env[CHECKSUM_ENV] = checksums
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n_procs),
               "train.py", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def iteration_checksums(folder: str, rank: int) -> list[str]:
    """One block of `<network> <sha256>` lines per iteration of process `rank`."""
    return open(os.path.join(folder, f"rank{rank}.txt")).read().split("--\n")[:-1]


def loss_lines(exp: str) -> list[str]:
    return [line for line in open(os.path.join(exp, "loss_log.txt")) if line.startswith("(epoch")]


def test_sharded_order_is_shared_split_and_resumable():
    shares = []
    for rank in range(3):
        sampler = ShardedResumableSampler(7, shuffle=True, shard=Shard(rank, 3, seed=4))
        sampler.set_epoch(2)
        shares.append(list(sampler))
    order = torch.randperm(7, generator=torch.Generator().manual_seed(4 + 2)).tolist()
    padded = order + order[:2]  # 9 items: 3 for each of the 3 processes
    assert shares == [padded[0::3], padded[1::3], padded[2::3]]
    assert len(sampler) == 3

    # after one item per process, the first three of the order are used; two processes share the rest
    state = sampler.state_dict(3)
    rest = []
    for rank in range(2):
        resumed = ShardedResumableSampler(7, shuffle=True, shard=Shard(rank, 2, seed=4))
        resumed.load_state_dict(state)
        rest.append(list(resumed))
    assert rest == [order[3::2], order[4::2]]


def test_too_few_gpus_for_the_local_ranks_is_one_clear_error():
    assert gpu_of_local_rank([2, 3], 1) == 3
    with pytest.raises(ValueError, match=r"--gpu_ids 0: torchrun started local rank 1 but only 1 GPU"):
        gpu_of_local_rank([0], 1)


def test_more_processes_than_videos_is_one_clear_error(street_root, tmp_path):
    result = torchrun(3, tiny_train_args(street_root, str(tmp_path), "three"))
    assert result.returncode != 0
    assert ("error: torchrun: 3 processes x --batchSize 1 need at least 3 training videos per epoch, but there "
            "are 2") in result.stderr
    assert not os.path.exists(tmp_path / "three" / "opt.txt")


def test_two_processes_train_in_step_and_rank_0_writes_a_single_run_files(uneven_root, tmp_path):
    single = str(tmp_path / "single")
    train.main(tiny_train_args(uneven_root, single, "run", "--niter", "2"))
    ddp, sums = str(tmp_path / "ddp"), str(tmp_path / "sums")
    result = torchrun(2, tiny_train_args(uneven_root, ddp, "run", "--niter", "2"), sums)
    assert result.returncode == 0, result.stderr[-3000:]

    # both processes hold the same networks after each of the 2 iterations (one video each per epoch), though
    # the second process has no chunk for the last steps of G, D and D_T0
    blocks = iteration_checksums(sums, 0)
    assert len(blocks) == 2 and blocks == iteration_checksums(sums, 1)
    nets = [dict(line.split() for line in block.splitlines()) for block in blocks]
    for net in ("G0", "D", "D_T0"):
        assert nets[0][net] != nets[1][net], net  # and they train

    exp_single, exp_ddp = os.path.join(single, "run"), os.path.join(ddp, "run")
    assert sorted(os.listdir(exp_ddp)) == sorted(os.listdir(exp_single))
    for name in os.listdir(exp_single):
        if name.endswith(".pth"):
            a = torch.load(os.path.join(exp_single, name), weights_only=True)
            b = torch.load(os.path.join(exp_ddp, name), weights_only=True)
            extra = {"distributed"} if name.endswith("_train_state.pth") else set()
            assert set(b) == set(a) | extra, name
    # rank 0 alone writes: one start-up header, one loss line per iteration (the mean over the processes)
    log = open(os.path.join(exp_ddp, "loss_log.txt")).read()
    assert log.count("Training Loss") == 1 and len(loss_lines(exp_ddp)) == 2
    assert open(os.path.join(exp_ddp, "iter.txt")).read().split() == ["3", "0"]
    state = torch.load(os.path.join(exp_ddp, "latest_train_state.pth"), weights_only=True)
    assert state["distributed"]["world_size"] == 2 and len(state["distributed"]["rngs"]) == 2

    # resumed from the checkpoint of epoch 1, a launch repeats epoch 2 exactly
    resumed, resumed_sums = str(tmp_path / "resumed"), str(tmp_path / "resumed_sums")
    os.makedirs(os.path.join(resumed, "run"))
    for name in os.listdir(exp_ddp):
        if name.startswith("1_"):
            shutil.copy(os.path.join(exp_ddp, name), os.path.join(resumed, "run", name))
    result = torchrun(2, tiny_train_args(uneven_root, resumed, "run", "--niter", "2", "--continue_train",
                                         "--which_epoch", "1"), resumed_sums)
    assert result.returncode == 0, result.stderr[-3000:]
    assert iteration_checksums(resumed_sums, 0) == iteration_checksums(resumed_sums, 1) == blocks[1:]
    again, before = loss_lines(os.path.join(resumed, "run"))[0], loss_lines(exp_ddp)[1]
    assert again.split(", time")[0] == before.split(", time")[0] == "(epoch: 2, iters: 2"
    assert again.split(") ", 1)[1] == before.split(") ", 1)[1]
