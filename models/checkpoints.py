"""Checkpoint files of a vid2vid experiment: the official names and iter.txt.

Official layout in `<checkpoints_dir>/<name>/`: `<label>_net_G<s>.pth` per generator scale,
`<label>_net_D.pth`, `<label>_net_D_T<s>.pth`, `<label>_net_D_f.pth` (plain state_dicts, no `module.`
prefix) and `iter.txt` (epoch and epoch_iter, one per line, as np.savetxt wrote them), where label is
`latest` or an epoch number. Beyond the official files, `<label>_train_state.pth` holds the optimizer,
schedule and RNG states so that a resumed run continues exactly, and `<label>_checkpoint.json` records
the files of a complete checkpoint. Reading and writing go through `util.state_dicts` (atomic writes, one
strict loader).
"""

from __future__ import annotations

import os
import re

import torch.nn as nn

from util.state_dicts import CheckpointError, atomic_save, atomic_write_text


def network_path(directory: str, label: str, net_name: str) -> str:
    """e.g. network_path(d, 'latest', 'G0') -> d/latest_net_G0.pth."""
    return os.path.join(directory, f"{label}_net_{net_name}.pth")


def train_state_path(directory: str, label: str) -> str:
    return os.path.join(directory, f"{label}_train_state.pth")


def manifest_path(directory: str, label: str) -> str:
    """`<label>_checkpoint.json`: the resume position and the size and sha256 of each file of checkpoint label."""
    return os.path.join(directory, f"{label}_checkpoint.json")


def cpu_state_dict(network: nn.Module) -> dict:
    """The network's state_dict with every tensor on the CPU, as the official files hold it."""
    return {key: value.detach().cpu() for key, value in network.state_dict().items()}


def save_network(network: nn.Module, path: str) -> None:
    """Saves the network's state_dict on the CPU, as the official code does (atomically)."""
    atomic_save(cpu_state_dict(network), path)


def read_iter_file(directory: str) -> tuple[int, int]:
    """Returns (epoch, epoch_iter) from `directory`/iter.txt, or (1, 0) when there is none."""
    path = os.path.join(directory, "iter.txt")
    if not os.path.isfile(path):
        return 1, 0
    text = open(path).read()
    try:
        # the official np.savetxt puts one number per line; accept a comma-separated pair too
        epoch, epoch_iter = (int(float(x)) for x in re.split(r"[,\s]+", text.strip()))
    except ValueError as error:
        raise CheckpointError(f"{path}: expected two integers (epoch, epoch_iter), found {text!r}") from error
    return epoch, epoch_iter


def write_iter_file(directory: str, epoch: int, epoch_iter: int) -> None:
    atomic_write_text(f"{epoch}\n{epoch_iter}\n", os.path.join(directory, "iter.txt"))
