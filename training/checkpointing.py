"""Saving and restoring a training run: the official network files, iter.txt, and our train state
(optimizers, schedule, RNGs) that makes a resumed run continue exactly."""

from __future__ import annotations

import argparse
import os

import torch
import torch.nn as nn

from models import checkpoints as ckpt
from util.runtime import rng_state, set_rng_state
from util.state_dicts import atomic_save, load_state_dict_partial, load_weights_file, read_checkpoint, read_state_dict


def load_networks(opt: argparse.Namespace, networks: dict[str, nn.Module], save_dir: str) -> list[str]:
    """Loads the networks a run starts from; returns messages for the log.

    --continue_train: a strict load of <which_epoch> from this experiment (`save_dir`), even together
    with --load_pretrain (the official code then resumed from the pretrain folder, a bug). --load_pretrain:
    the official partial load from another experiment (same-named, same-shaped tensors). A missing file
    is skipped with a message, except G0's.
    """
    if opt.continue_train:
        directory, flag = save_dir, "--continue_train"
    elif opt.load_pretrain:
        directory, flag = opt.load_pretrain, "--load_pretrain"
    else:
        return []
    messages = []
    for name, net in networks.items():
        path = ckpt.network_path(directory, opt.which_epoch, name)
        if not os.path.isfile(path):
            if name == "G0":
                raise FileNotFoundError(f"{flag}: generator checkpoint '{path}' not found")
            messages.append(f"{path} not found: {name} starts from scratch")
            continue
        if opt.continue_train:
            load_weights_file(net, path)
            continue
        untouched = load_state_dict_partial(net, read_state_dict(path))
        if untouched:
            prefixes = sorted({k.split(".")[0] for k in untouched})
            messages.append(f"{path}: not initialised from the file: {', '.join(prefixes)}")
    return messages


def save_networks(networks: dict[str, nn.Module], save_dir: str, label: str) -> None:
    for name, net in networks.items():
        ckpt.save_network(net, ckpt.network_path(save_dir, label, name))


def save_train_state(save_dir: str, label: str, optimizers: dict[str, torch.optim.Optimizer],
                     schedule_state: dict) -> None:
    state = {"optimizers": {name: o.state_dict() for name, o in optimizers.items()}, "schedule": schedule_state,
             "rng": rng_state()}
    atomic_save(state, ckpt.train_state_path(save_dir, label))


def read_train_state(save_dir: str, label: str) -> dict | None:
    """The saved train state of <label>, or None when there is none (e.g. official checkpoints)."""
    path = ckpt.train_state_path(save_dir, label)
    return read_checkpoint(path, path) if os.path.isfile(path) else None


def restore_train_state(state: dict, optimizers: dict[str, torch.optim.Optimizer]) -> None:
    """Loads the optimizer states and the RNG states (the schedule's is loaded by its owner first)."""
    for name, optimizer in optimizers.items():
        optimizer.load_state_dict(state["optimizers"][name])
    set_rng_state(state["rng"])
