"""The Adam optimizers of vid2vid, built in one place (reference §5 and §1.2):

- "G": over the finest generator scale only while --niter_fix_global holds the others, else over all;
- "D": over netD (and netD_f with --add_face_disc);
- "D_T<s>": one per temporal discriminator, always at --lr with (beta1, 0.999).

With --TTUR, G starts at lr/2 and D at 2 lr, both with betas (0, 0.9). The optimizer that the switch to all
scales builds takes the schedule's current lr and (beta1, 0.999), as the official one did; the official
decay then writes the same lr into G and D (TTUR's factors are lost) and never touches the D_T ones.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn as nn

from training.schedule import TrainingSchedule

ADAM_BETA2 = 0.999
TTUR_BETAS = (0.0, 0.9)
# names of the optimizers whose lr the official decay sets
DECAYED = ("G", "D")


def _adam(networks: list[nn.Module], lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    return torch.optim.Adam([p for net in networks for p in net.parameters()], lr=lr, betas=betas)


def build_generator_optimizer(opt: argparse.Namespace, schedule: TrainingSchedule, generator_scales: list[nn.Module],
                              switched: bool = False) -> torch.optim.Adam:
    """G's optimizer for the schedule's phase. switched: built at the end of --niter_fix_global (official
    settings of that moment: current lr, (beta1, 0.999))."""
    nets = generator_scales if schedule.train_all_scales else generator_scales[-1:]
    if switched:
        return _adam(nets, schedule.lr, (opt.beta1, ADAM_BETA2))
    if opt.TTUR:
        return _adam(nets, opt.lr / 2, TTUR_BETAS)
    return _adam(nets, opt.lr, (opt.beta1, ADAM_BETA2))


def build_optimizers(opt: argparse.Namespace, schedule: TrainingSchedule, networks: dict[str, nn.Module]
                     ) -> dict[str, torch.optim.Adam]:
    """Optimizers keyed "G", "D", "D_T0", ... for `networks` (checkpoint stem -> network: G0.., D, D_T<s>,
    D_f), as they are at the start of training (or of a resumed run, before its state is loaded).

    A resumed run that is past --niter_fix_global gets the optimizer of the switch, so that the saved
    optimizer state finds the same parameters and settings.
    """
    scales = [networks[f"G{s}"] for s in range(opt.n_scales_spatial)]
    past_switch = schedule.train_all_scales and opt.niter_fix_global != 0
    optimizers = {"G": build_generator_optimizer(opt, schedule, scales, switched=past_switch)}
    d_nets = [networks["D"]] + ([networks["D_f"]] if "D_f" in networks else [])
    d_lr, d_betas = (opt.lr * 2, TTUR_BETAS) if opt.TTUR else (opt.lr, (opt.beta1, ADAM_BETA2))
    optimizers["D"] = _adam(d_nets, d_lr, d_betas)
    for s in range(opt.n_scales_temporal):
        optimizers[f"D_T{s}"] = _adam([networks[f"D_T{s}"]], opt.lr, (opt.beta1, ADAM_BETA2))
    return optimizers


def set_learning_rate(optimizers: dict[str, torch.optim.Optimizer], lr: float) -> None:
    """The official decay: `lr` into every param group of G and D (not the D_T optimizers)."""
    for name in DECAYED:
        for group in optimizers[name].param_groups:
            group["lr"] = lr
