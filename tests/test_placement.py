"""The device plan (util/placement.py) of the official recipes, built from their real flags with fake GPU
ids, its errors, and the sharded runs (models/parallel.py) that carry it out, checked on the CPU."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from models import create_training_model
from models.parallel import run_sharded
from options.train_options import TrainOptions
from tests.conftest import TINY_MODEL
from util.placement import BATCH_SPLIT, CPU, FRAME_SPLIT, SHARED, DevicePlan, PlacementError, shard_sizes

GPUS_8 = ["--gpu_ids", "0,1,2,3,4,5,6,7"]
# the GPU-related flags of the official scripts (reference §10); the others do not touch the placement
RECIPES = {
    "street/train_512": [*GPUS_8, "--n_gpus_gen", "6", "--n_frames_total", "6", "--max_frames_per_gpu", "2"],
    "street/train_512_bs": [*GPUS_8, "--n_gpus_gen", "-1", "--n_frames_total", "6", "--batchSize", "15"],
    "street/train_1024": [*GPUS_8, "--n_gpus_gen", "4", "--n_frames_total", "4"],
    "street/train_2048": [*GPUS_8, "--n_gpus_gen", "4", "--n_frames_total", "4"],
    "street/train_g1_256": ["--max_frames_per_gpu", "6", "--n_frames_total", "6"],
    "face/train_512": [*GPUS_8, "--n_gpus_gen", "6", "--n_frames_total", "12"],
    "face/train_512_bs7": [*GPUS_8, "--n_gpus_gen", "8", "--batchSize", "7", "--n_frames_total", "12"],
    "pose/train_256p": [*GPUS_8, "--batchSize", "8", "--max_frames_per_gpu", "3", "--n_frames_total", "12"],
    "pose/train_1024p": [*GPUS_8, "--n_gpus_gen", "4"],
}


def cuda(*ids: int) -> list[torch.device]:
    return [torch.device("cuda", i) for i in ids]


def plan_of(flags: list[str], monkeypatch) -> DevicePlan:
    """The plan of a command line, parsed as on a machine with CUDA (the ids are only numbers here)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    return DevicePlan.from_options(TrainOptions().parse(flags, save=False, quiet=True))


def chunk_frames(plan: DevicePlan) -> int:
    """Official L of a long video's first chunk: min(n_frames_total, max_frames_per_gpu * n_gpus)."""
    return min(plan.n_frames_total, plan.max_frames_per_gpu * plan.frame_gpus)


# recipe: (mode, G devices, L, device of each frame of a chunk, D devices, frames per D device,
#          sequences per G device)
EXPECTED = {
    "street/train_512": (FRAME_SPLIT, cuda(*range(7)), 6, cuda(1, 2, 3, 4, 5, 6), cuda(0, 7), [3, 3], [1]),
    "street/train_512_bs": (SHARED, cuda(*range(8)), 1, None, cuda(*range(8)), [1, 2, 2, 2, 2, 2, 2, 2],
                            [1, 2, 2, 2, 2, 2, 2, 2]),
    "street/train_1024": (FRAME_SPLIT, cuda(0, 1, 2, 3, 4), 4, cuda(1, 2, 3, 4), cuda(0, 5, 6, 7), [1, 1, 1, 1], [1]),
    "street/train_2048": (FRAME_SPLIT, cuda(0, 1, 2, 3, 4), 4, cuda(1, 2, 3, 4), cuda(0, 5, 6, 7), [1, 1, 1, 1], [1]),
    "street/train_g1_256": (SHARED, cuda(0), 6, None, cuda(0), [6], [1]),
    "face/train_512": (FRAME_SPLIT, cuda(*range(7)), 6, cuda(1, 2, 3, 4, 5, 6), cuda(0, 7), [3, 3], [1]),
    # GPU 0 only had the zero dummy sample: the 7 sequences are generated on GPUs 1..7
    "face/train_512_bs7": (SHARED, cuda(*range(8)), 1, None, cuda(*range(8)), [0, 1, 1, 1, 1, 1, 1, 1],
                           [0, 1, 1, 1, 1, 1, 1, 1]),
    "pose/train_256p": (SHARED, cuda(*range(8)), 3, None, cuda(*range(8)), [3] * 8, [1] * 8),
    "pose/train_1024p": (FRAME_SPLIT, cuda(0, 1, 2, 3, 4), 4, cuda(1, 2, 3, 4), cuda(0, 5, 6, 7), [1, 1, 1, 1], [1]),
}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_official_recipes(recipe, monkeypatch):
    plan = plan_of(RECIPES[recipe], monkeypatch)
    mode, g_devices, L, frame_devices, d_devices, d_shards, seq_shards = EXPECTED[recipe]
    assert plan.mode == mode
    assert plan.main_device == plan.flow_device == torch.device("cuda", 0)
    assert plan.generator_devices == g_devices
    assert chunk_frames(plan) == L
    assert plan.frame_devices(L) == frame_devices
    assert plan.discriminator_devices == d_devices
    assert plan.frame_shards(plan.batch_size * L) == list(zip(d_devices, d_shards))
    seq_devices = [plan.main_device] if mode == FRAME_SPLIT else g_devices
    assert plan.sequence_shards(plan.batch_size) == list(zip(seq_devices, seq_shards))


def test_frame_split_follows_the_official_frames_per_gpu(monkeypatch):
    """street/train_512 after the first doubling: 12 frames, 2 per GPU, frame t on gpu_ids[1 + t // 2]."""
    plan = plan_of(RECIPES["street/train_512"], monkeypatch)
    assert plan.frames_per_gpu == 1  # min(max_frames_per_gpu 2, n_frames_total 6 // 6 GPUs)
    assert plan.frame_devices(12) == cuda(*[1 + t // 2 for t in range(12)])
    # a short video's chunk stays on the G GPUs
    assert plan.frame_devices(3) == cuda(1, 3, 5)


def test_two_and_four_gpus_and_unordered_ids(monkeypatch):
    two = plan_of(["--gpu_ids", "0,1", "--n_gpus_gen", "1"], monkeypatch)
    assert (two.mode, two.generator_devices, two.frame_devices(1), two.discriminator_devices) == (
        FRAME_SPLIT, cuda(0, 1), cuda(1), cuda(0))
    shared = plan_of(["--gpu_ids", "0,1"], monkeypatch)  # batchSize 1, no split: GPU 0 had the dummy
    assert shared.sequence_shards(1) == [(torch.device("cuda", 0), 0), (torch.device("cuda", 1), 1)]
    assert shared.frame_gpus == 2 and shared.device_for_frame(3, 4) == torch.device("cuda", 1)
    four = plan_of(["--gpu_ids", "0,1,2,3", "--n_gpus_gen", "2", "--batchSize", "2"], monkeypatch)
    assert (four.mode, four.generator_devices, four.discriminator_devices) == (BATCH_SPLIT, cuda(0, 1), cuda(0, 2, 3))
    assert four.sequence_shards(2) == list(zip(cuda(0, 1), [1, 1])) and four.frame_gpus == 1
    assert four.device_for_frame(0, 1, sequence=1) == torch.device("cuda", 1)
    # the official `gpu_ids[1] + t` would have used GPU 4 here; the plan indexes the list
    odd = plan_of(["--gpu_ids", "2,3,5", "--n_gpus_gen", "2"], monkeypatch)
    assert odd.main_device == torch.device("cuda", 2) and odd.frame_devices(2) == cuda(3, 5)
    assert odd.discriminator_devices == cuda(2)


def test_cpu_plans_keep_the_official_chunk_length(monkeypatch):
    plan = DevicePlan.from_options(TrainOptions().parse(["--gpu_ids", "-1"], save=False, quiet=True))
    assert (plan.mode, plan.generator_devices, plan.discriminator_devices) == (CPU, [torch.device("cpu")] * 1,
                                                                               [torch.device("cpu")])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        opt = TrainOptions().parse(RECIPES["street/train_512"], save=False, quiet=True)
    fallback = DevicePlan.from_options(opt)
    assert fallback.mode == CPU and fallback.single_device and fallback.frame_gpus == 6 and chunk_frames(fallback) == 6
    assert fallback.frame_devices(6) is None and fallback.frame_shards(6) == [(torch.device("cpu"), 6)]


@pytest.mark.parametrize(("flags", "message"), [
    (["--gpu_ids", "0,1", "--n_gpus_gen", "3"], "--n_gpus_gen 3: expected -1 (all GPUs) or 1..2"),
    (["--gpu_ids", "0,1", "--n_gpus_gen", "0"], "--n_gpus_gen 0"),
    ([*GPUS_8, "--n_gpus_gen", "4", "--batchSize", "3"], "--batchSize 3 with --n_gpus_gen 4 of 8 --gpu_ids"),
    (["--gpu_ids", "0", "--batchSize", "0"], "--batchSize 0: expected at least 1"),
])
def test_bad_layouts_are_one_line_errors_even_without_cuda(flags, message, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PlacementError, match=re.escape(message)) as error:
        TrainOptions().parse(flags, save=False, quiet=True)
    assert "\n" not in str(error.value) and isinstance(error.value, ValueError)


def test_cli_reports_a_bad_layout_with_exit_code_2(tmp_path):
    result = subprocess.run([sys.executable, "train.py", "--gpu_ids", "0,1", "--n_gpus_gen", "5",
                             "--checkpoints_dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: --n_gpus_gen 5: expected")


def naive_shards(n_items: int, n_devices: int, n_dummies: int) -> list[int]:
    """DataParallel as the official code ran it: dummies first, torch.chunk over the devices, real ones counted."""
    padded = torch.tensor([0] * n_dummies + [1] * n_items)
    chunks = list(torch.chunk(padded, n_devices)) if len(padded) else []
    return [int(c.sum()) for c in chunks] + [0] * (n_devices - len(chunks))


def test_shard_sizes_match_dataparallel_with_dummies():
    for n_devices in (1, 2, 3, 8):
        for n_items in range(0, 20):
            dummies = [0, math.ceil(max(n_items, 1) / n_devices) * n_devices - max(n_items, 1)]
            for pad in dummies:
                assert shard_sizes(n_items, n_devices, pad) == naive_shards(n_items, n_devices, pad), (
                    n_items, n_devices, pad)


def test_run_sharded_normalises_each_shard_and_backpropagates():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
    x = torch.randn(5, 3, 8, 8, requires_grad=True)
    cpu = torch.device("cpu")
    out = run_sharded(net, x, [(cpu, 2), (cpu, 0), (cpu, 3)], cpu)
    assert torch.allclose(out, torch.cat([net(x[:2]), net(x[2:])]), atol=1e-6)
    assert not torch.allclose(out, net(x), atol=1e-3)  # one BatchNorm over the whole batch is different
    out.sum().backward()
    assert x.grad is not None and net[0].weight.grad is not None


def fake_plan(shards: list[int]) -> SimpleNamespace:
    """A placement whose shards all lie on the CPU (DevicePlan only names CUDA devices)."""
    cpu = torch.device("cpu")
    return SimpleNamespace(single_device=False, main_device=cpu, frame_devices=lambda n: None,
                           sequence_shards=lambda b: [(cpu, n) for n in shards],
                           frame_shards=lambda n: [(cpu, n // 2), (cpu, n - n // 2)])


def test_model_runs_each_sequence_shard_on_its_own_copy_of_g():
    opt = TrainOptions().parse([*TINY_MODEL, "--flownet", "dis", "--no_vgg", "--num_D", "1", "--n_layers_D", "2",
                                "--batchSize", "2", "--max_frames_per_gpu", "2"], save=False, quiet=True)
    torch.manual_seed(0)
    model = create_training_model(opt)
    g = torch.Generator().manual_seed(1)
    A = torch.randint(0, 35, (2, 4, 1, 32, 64), generator=g).float()
    B = torch.rand(2, 4, 3, 32, 64, generator=g) * 2 - 1
    inst = torch.randint(0, 3, (2, 4, 1, 32, 64), generator=g).float()
    with torch.no_grad():
        alone = [model.G(A[k : k + 1], B[k : k + 1], inst[k : k + 1], None) for k in range(2)]
        whole = model.G(A, B, inst, None)
        model.plan = fake_plan([1, 1])
        chunk = model.generate_chunk(A, B, inst, model.new_video(), 1, True)
        losses = model.chunk_losses(chunk)
    assert torch.allclose(chunk.generated.fake_B, torch.cat([o.fake_B for o in alone]), atol=1e-6)
    assert not torch.allclose(chunk.generated.fake_B, whole.fake_B, atol=1e-4)  # G's BatchNorm sees one shard
    assert all(torch.isfinite(v) for v in losses.discriminator.values())
