"""Mixed precision (--fp16 / --bf16, util/precision.py) on the CPU: bfloat16 losses next to float32's, the
float16 GradScaler path, the float32 islands, float32 checkpoints, resume with scaler state, test time, flags."""

from __future__ import annotations

import copy
import glob
import os
import warnings
from unittest import mock

import pytest
import torch
import torch.nn as nn

import models.networks.generators as generators
import models.vid2vid.losses as vid2vid_losses
from data import create_dataloader
from models.losses import GANLoss, MaskedL1Loss
from models.networks.warp import warp
from models.vid2vid.inference import Vid2VidInference
from options.test_options import TestOptions
from options.train_options import TrainOptions
from tests.conftest import TINY_MODEL, tiny_train_args
from training.guards import non_finite
from training.trainer import Trainer, backward, optimizer_step
from util.precision import Precision

FP16_CPU_WARNING = ("--fp16: float16 mixed precision needs CUDA; running on the cpu in bfloat16 autocast (as --bf16) "
                    "instead")


@pytest.fixture(scope="module")
def fp16_trainer(street_root, tmp_path_factory):
    """A tiny Trainer built with --fp16 on the CPU, the warnings its construction gave, and its initial
    weights."""
    ckpt_dir = str(tmp_path_factory.mktemp("amp"))
    opt = TrainOptions().parse(tiny_train_args(street_root, ckpt_dir, "amp", "--fp16"), save=False, quiet=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = Trainer(opt)
    return trainer, [str(w.message) for w in caught], copy.deepcopy(trainer.model.state_dict())


def use_precision(trainer: Trainer, precision: Precision, weights: dict) -> None:
    """Puts the trainer's networks back on `weights` and runs it under `precision` with fresh scalers."""
    trainer.model.load_state_dict(weights)
    trainer.precision = precision
    trainer.scalers = {name: precision.scaler() for name in trainer.optimizers}


def first_chunk(trainer: Trainer):
    """The first chunk of the first training video, generated under the trainer's precision from seed 0."""
    data = trainer.dataset[0]
    torch.manual_seed(0)
    A, B, inst = (data[key][None, :4] for key in ("A", "B", "inst"))
    with trainer.precision.autocast():
        return trainer.model.generate_chunk(A, B, inst, trainer.model.new_video(), 1, False)


def chunk_terms(trainer: Trainer, chunk) -> dict[str, torch.Tensor]:
    with trainer.precision.autocast():
        losses = trainer.model.chunk_losses(chunk)
    temporal = {name: value for terms in losses.temporal.values() for name, value in terms.items()}
    return {**losses.generator, **losses.discriminator, **temporal}


def test_fp16_on_the_cpu_warns_once_and_runs_bfloat16(fp16_trainer):
    trainer, messages, _ = fp16_trainer
    assert [m for m in messages if "--fp16" in m] == [FP16_CPU_WARNING]
    assert trainer.precision.dtype == torch.bfloat16
    assert all(scaler is None for scaler in trainer.scalers.values())


def test_fp16_falls_back_to_float32_without_cpu_autocast():
    opt = TrainOptions().parse(["--gpu_ids", "-1", "--fp16"], save=False, quiet=True)
    with mock.patch("util.precision.cpu_autocast_available", return_value=False), \
            pytest.warns(UserWarning, match="running on the cpu in float32 instead"):
        precision = Precision.from_options(opt, torch.device("cpu"))
    assert precision.dtype is None and precision.scaler() is None


def test_fp16_and_bf16_together_is_an_error():
    with pytest.raises(ValueError, match=r"^--fp16 and --bf16: choose one"):
        TrainOptions().parse(["--gpu_ids", "-1", "--fp16", "--bf16"], save=False, quiet=True)


def test_neither_flag_means_no_autocast_at_all():
    opt = TrainOptions().parse(["--gpu_ids", "-1"], save=False, quiet=True)
    precision = Precision.from_options(opt, torch.device("cpu"))
    with precision.autocast():
        assert not torch.is_autocast_enabled("cpu")
    assert precision.scaler() is None


def test_bf16_losses_are_within_a_few_percent_of_float32_and_warps_stay_float32(fp16_trainer):
    trainer, _, weights = fp16_trainer
    use_precision(trainer, Precision(None, "cpu"), weights)
    reference = {name: value.item() for name, value in chunk_terms(trainer, first_chunk(trainer)).items()}

    use_precision(trainer, Precision(torch.bfloat16, "cpu"), weights)
    warp_dtypes = []

    def recording_warp(image, flow):
        out = warp(image, flow)
        warp_dtypes.append((image.dtype, flow.dtype, out.dtype))
        return out

    with mock.patch.object(generators, "warp", recording_warp), mock.patch.object(vid2vid_losses, "warp",
                                                                                   recording_warp):
        chunk = first_chunk(trainer)
        terms = chunk_terms(trainer, chunk)
    assert chunk.generated.fake_B_raw.dtype == torch.float32  # G's blend with a float32 warp promotes
    assert chunk.frames.flow.dtype == torch.bfloat16  # G's flow head ran under autocast
    # G warps its previous frames with its own bf16 flow; the losses warp with G's and the reference flow
    assert any(flow == torch.bfloat16 for _, flow, _ in warp_dtypes)
    assert warp_dtypes and all(out == torch.float32 for _, _, out in warp_dtypes)
    assert all(value.dtype == torch.float32 for value in terms.values())
    assert not non_finite(terms)
    # the first chunk has no temporal groups; G_VGG (--no_vgg) and W are 0: 7 terms remain
    relative = {name: abs(terms[name].item() - ref) / abs(ref) for name, ref in reference.items() if abs(ref) > 1e-3}
    print("bf16 vs float32 relative differences:", {name: round(r, 5) for name, r in relative.items()})
    assert len(relative) == 7 and max(relative.values()) < 0.05

    # one bf16 training step: finite, and the parameters (and BatchNorm statistics) stay float32
    before = [p.detach().clone() for p in trainer.networks["G0"].parameters()]
    assert not non_finite(trainer.train_chunk(chunk, "test"))
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.networks["G0"].parameters()))
    assert all(t.dtype == torch.float32 for t in trainer.model.state_dict().values() if t.is_floating_point())


def test_float32_islands_under_bf16_autocast():
    gen = torch.Generator().manual_seed(0)
    image, flow = torch.rand(2, 3, 8, 12, generator=gen), torch.randn(2, 2, 8, 12, generator=gen) * 3
    prediction, mask = torch.rand(2, 3, 8, 12, generator=gen), (torch.rand(2, 1, 8, 12, generator=gen) > 0.5).float()
    scores = [[torch.randn(2, 4, 5, 5, generator=gen), torch.randn(2, 1, 3, 3, generator=gen)]]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        warped = warp(image.bfloat16(), flow.bfloat16())
        l1 = MaskedL1Loss()(prediction.bfloat16(), image.bfloat16(), mask)
        gan = GANLoss()([[t.bfloat16() for t in s] for s in scores], True)
    # exactly the float32 computation on the same (rounded) inputs
    assert warped.dtype == l1.dtype == gan.dtype == torch.float32
    assert torch.equal(warped, warp(image.bfloat16().float(), flow.bfloat16().float()))
    assert torch.equal(l1, MaskedL1Loss()(prediction.bfloat16().float(), image.bfloat16().float(), mask))
    assert torch.equal(gan, GANLoss()([[t.bfloat16().float() for t in s] for s in scores], True))


def step(optimizer, loss, scaler=None):
    """The trainer's update of one process: its backward, then its (scaled) optimizer step."""
    backward(optimizer, loss, scaler)
    optimizer_step(optimizer, scaler)


def test_scaler_steps_like_float32_and_skips_overflowing_steps_without_counting_them():
    torch.manual_seed(0)
    x = torch.randn(8, 4)
    plain, scaled = nn.Linear(4, 1), nn.Linear(4, 1)
    scaled.load_state_dict(plain.state_dict())
    opt_plain, opt_scaled = torch.optim.Adam(plain.parameters(), lr=0.1), torch.optim.Adam(scaled.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 16)
    step(opt_plain, plain(x).pow(2).mean())
    step(opt_scaled, scaled(x).pow(2).mean(), scaler)
    for a, b in zip(plain.parameters(), scaled.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)

    # a scale so large that the gradients overflow: the scaler skips the step and halves the scale, while the
    # loss itself is finite, so the non-finite guard has nothing to count
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 127)
    before = [p.detach().clone() for p in scaled.parameters()]
    loss = scaled(x).pow(2).mean() * 1e3
    assert non_finite({"loss": loss}) == []
    step(opt_scaled, loss, scaler)
    assert all(torch.equal(a, b) for a, b in zip(before, scaled.parameters()))
    assert scaler.get_scale() == 2.0 ** 126


def test_fp16_scalers_train_save_and_resume(fp16_trainer, street_root):
    trainer, _, weights = fp16_trainer
    use_precision(trainer, Precision(torch.float16, "cpu"), weights)
    assert set(trainer.scalers) == set(trainer.optimizers) and all(trainer.scalers.values())
    before = {name: [p.detach().clone() for g in trainer.optimizers[name].param_groups for p in g["params"]]
              for name in ("G", "D")}
    terms = trainer.train_chunk(first_chunk(trainer), "test")  # float16 autocast on the CPU, GradScaler steps
    assert not non_finite(terms) and trainer.non_finite.healthy
    for name in ("G", "D"):  # each step was either taken at the initial scale, or skipped and the scale halved
        params = [p for g in trainer.optimizers[name].param_groups for p in g["params"]]
        stepped = any(not torch.equal(a, b) for a, b in zip(before[name], params))
        assert trainer.scalers[name].get_scale() == (2.0 ** 16 if stepped else 2.0 ** 15), name
    trainer.scalers["G"].update(1234.0)  # a recognisable scale to find again
    trainer.save("latest", 1, 0)

    ckpt_dir = os.path.join(trainer.opt.checkpoints_dir, trainer.opt.name)
    for path in glob.glob(os.path.join(ckpt_dir, "latest_net_*.pth")):
        state = torch.load(path, weights_only=True)
        assert all(t.dtype == torch.float32 for t in state.values() if t.is_floating_point()), path
    args = tiny_train_args(street_root, trainer.opt.checkpoints_dir, "amp", "--continue_train")
    with mock.patch("training.trainer.Precision.from_options", return_value=Precision(torch.float16, "cpu")):
        resumed = Trainer(TrainOptions().parse(args, save=False, quiet=True))
    assert resumed.scalers["G"].get_scale() == 1234.0
    plain = Trainer(TrainOptions().parse(args, save=False, quiet=True))  # float32 ignores the scaler state
    assert plain.precision.dtype is None and all(s is None for s in plain.scalers.values())
    for name, net in plain.networks.items():
        for key, value in net.state_dict().items():
            assert torch.equal(value, trainer.networks[name].state_dict()[key]), (name, key)


def test_test_time_autocast_gives_float32_frames_close_to_float32(fp16_trainer, street_root):
    trainer, _, weights = fp16_trainer
    use_precision(trainer, Precision(None, "cpu"), weights)
    trainer.save("init", 1, 0)
    frames = {}
    for flag in ((), ("--bf16",)):
        opt = TestOptions().parse(["--dataroot", street_root, "--checkpoints_dir", trainer.opt.checkpoints_dir,
                                   "--name", "amp", "--which_epoch", "init", *TINY_MODEL, "--use_real_img", *flag],
                                  save=False, quiet=True)
        model = Vid2VidInference(opt, torch.device("cpu"))
        data = next(iter(create_dataloader(opt)))
        torch.manual_seed(0)
        frames[flag] = model.next_frame(data)[0]
    fp32, bf16 = frames[()], frames[("--bf16",)]
    assert bf16.dtype == fp32.dtype == torch.float32
    difference = (bf16 - fp32).abs()
    print(f"test-time bf16 vs float32: max {difference.max().item():.4f}, mean {difference.mean().item():.5f}")
    assert difference.mean() < 0.02
