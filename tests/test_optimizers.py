"""build_optimizers: which parameters each Adam holds and its lr/betas, TTUR, the switch to all scales,
the official decay; and the step's zero_grad rule."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from options.train_options import TrainOptions
from training.optimizers import build_generator_optimizer, build_optimizers, set_learning_rate
from training.schedule import TrainingSchedule
from training.trainer import backward


def parse(*flags: str):
    return TrainOptions().parse(["--gpu_ids", "-1", *flags], save=False)


def networks(opt) -> dict[str, nn.Module]:
    """One small Linear per checkpoint stem, as a model's `networks()` would give."""
    names = [f"G{s}" for s in range(opt.n_scales_spatial)] + ["D"]
    names += [f"D_T{s}" for s in range(opt.n_scales_temporal)] + (["D_f"] if opt.add_face_disc else [])
    return {name: nn.Linear(2, 2) for name in names}


def params_of(optimizer: torch.optim.Optimizer) -> set[int]:
    return {id(p) for group in optimizer.param_groups for p in group["params"]}


def ids(*nets: nn.Module) -> set[int]:
    return {id(p) for net in nets for p in net.parameters()}


def settings(optimizer: torch.optim.Optimizer) -> tuple[float, tuple]:
    group = optimizer.param_groups[0]
    return group["lr"], tuple(group["betas"])


def test_default_optimizers():
    opt = parse("--n_scales_spatial", "2", "--add_face_disc", "--lr", "0.001", "--beta1", "0.3")
    nets = networks(opt)
    optimizers = build_optimizers(opt, TrainingSchedule(opt, 30), nets)
    assert sorted(optimizers) == ["D", "D_T0", "D_T1", "G"]
    assert params_of(optimizers["G"]) == ids(nets["G0"], nets["G1"])
    assert params_of(optimizers["D"]) == ids(nets["D"], nets["D_f"])
    assert params_of(optimizers["D_T1"]) == ids(nets["D_T1"])
    for name in optimizers:
        assert settings(optimizers[name]) == (0.001, (0.3, 0.999))


def test_ttur_changes_g_and_d_only():
    opt = parse("--TTUR", "--lr", "0.001")
    optimizers = build_optimizers(opt, TrainingSchedule(opt, 30), networks(opt))
    assert settings(optimizers["G"]) == (0.0005, (0.0, 0.9))
    assert settings(optimizers["D"]) == (0.002, (0.0, 0.9))
    assert settings(optimizers["D_T0"]) == (0.001, (0.5, 0.999))


def test_fixed_global_phase_steps_the_finest_scale_only_then_every_scale():
    opt = parse("--n_scales_spatial", "3", "--niter_fix_global", "2", "--TTUR", "--lr", "0.001", "--niter", "1")
    nets = networks(opt)
    schedule = TrainingSchedule(opt, 30)
    optimizers = build_optimizers(opt, schedule, nets)
    assert params_of(optimizers["G"]) == ids(nets["G2"])
    schedule.end_of_epoch(1)
    schedule.end_of_epoch(2)
    switched = build_generator_optimizer(opt, schedule, [nets["G0"], nets["G1"], nets["G2"]], switched=True)
    assert params_of(switched) == ids(nets["G0"], nets["G1"], nets["G2"])
    # the switch takes the decayed lr and (beta1, 0.999), not TTUR's settings (official)
    assert settings(switched) == (pytest.approx(0.0009), (0.5, 0.999))
    # a run resumed past the switch builds the same optimizer, so the saved state fits it
    resumed = build_optimizers(opt, schedule, nets)["G"]
    assert params_of(resumed) == params_of(switched) and settings(resumed) == settings(switched)


def test_decay_sets_g_and_d_but_not_the_temporal_ds():
    opt = parse("--TTUR", "--lr", "0.001")
    optimizers = build_optimizers(opt, TrainingSchedule(opt, 30), networks(opt))
    set_learning_rate(optimizers, 0.0004)
    assert [settings(optimizers[n])[0] for n in ("G", "D", "D_T0", "D_T1")] == [0.0004, 0.0004, 0.001, 0.001]


def test_backward_zeroes_gradients_so_adam_keeps_moving_an_idle_parameter():
    used, idle = nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1))
    optimizer = torch.optim.Adam([used, idle], lr=0.1)
    backward(optimizer, (used * idle).sum())
    optimizer.step()
    before = idle.detach().clone()
    backward(optimizer, used.sum() * 2)  # idle gets no gradient now: a zero one, so Adam's momentum moves it
    optimizer.step()
    assert idle.grad is not None and idle.grad.item() == 0
    assert not torch.equal(idle.detach(), before)
