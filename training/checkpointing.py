"""Saving and restoring a training run: the official network files and iter.txt, our train state
(optimizers, schedule, RNGs, the epoch's item order) that makes a resumed run continue exactly, and the
manifest that tells a complete checkpoint from one a crash cut short.

A checkpoint `<label>` is written as one set (util.state_dicts.atomic_save_set): every network file and
`<label>_train_state.pth` are written in full before any replaces the previous one, and
`<label>_checkpoint.json` (the resume position and each file's size and sha256) comes last. `--continue_train`
takes `--which_epoch` when its manifest checks out (or, for official checkpoints without one, when its files
load), and otherwise the newest epoch checkpoint that does, with a warning naming both.
"""

from __future__ import annotations

import argparse
import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from models import checkpoints as ckpt
from util.state_dicts import (
    CheckpointError,
    atomic_save_set,
    check_state_dict,
    load_state_dict,
    load_state_dict_partial,
    read_checkpoint,
    read_state_dict,
    verify_manifest,
)


@dataclass
class ResumePoint:
    """A checkpoint a run can continue from: its label, where training resumes, and its checked contents."""

    label: str
    epoch: int
    epoch_iter: int
    network_states: dict[str, dict[str, torch.Tensor]]
    train_state: dict | None
    messages: list[str] = field(default_factory=list)


def save_checkpoint(save_dir: str, labels: Sequence[str], networks: dict[str, nn.Module], train_state: dict,
                    epoch: int, epoch_iter: int) -> None:
    """Writes `<label>_net_<name>.pth` for every network, `<label>_train_state.pth` and the manifest, as one
    set per label (the first label's files are serialised, the others' are byte copies of them); (epoch,
    epoch_iter) is where a run resumed from them starts."""
    def paths(label: str) -> dict[str, str]:
        return {**{name: ckpt.network_path(save_dir, label, name) for name in networks},
                "train_state": ckpt.train_state_path(save_dir, label)}

    first, *others = labels
    objects: dict[str, object] = {paths(first)[name]: ckpt.cpu_state_dict(net) for name, net in networks.items()}
    objects[paths(first)["train_state"]] = train_state
    copies = [({paths(first)[key]: path for key, path in paths(label).items()}, ckpt.manifest_path(save_dir, label))
              for label in others]
    atomic_save_set(objects, ckpt.manifest_path(save_dir, first), {"epoch": epoch, "epoch_iter": epoch_iter}, copies)


def remove_stale_temporaries(save_dir: str) -> None:
    """Deletes the `.tmp_*` files of saves that a crash or a kill cut short (their targets are untouched)."""
    for path in glob.glob(os.path.join(save_dir, ".tmp_*")):
        os.remove(path)


def _epoch_labels(save_dir: str) -> list[str]:
    """The epoch checkpoints in `save_dir`, newest first."""
    labels = (os.path.basename(p).split("_net_")[0] for p in glob.glob(os.path.join(save_dir, "*_net_G0.pth")))
    return sorted((label for label in labels if label.isdigit()), key=int, reverse=True)


def _read_resume_point(save_dir: str, label: str, networks: dict[str, nn.Module], requested: str) -> ResumePoint:
    """Reads and checks checkpoint `label` without touching the networks; CheckpointError or
    FileNotFoundError when it cannot be used."""
    manifest = ckpt.manifest_path(save_dir, label)
    if os.path.isfile(manifest):
        info, reason = verify_manifest(manifest)
        if info is None:
            raise CheckpointError(reason)
        epoch, epoch_iter = info["epoch"], info["epoch_iter"]
    else:  # official checkpoints: iter.txt belongs to --which_epoch; an epoch file resumes after its epoch
        epoch, epoch_iter = ckpt.read_iter_file(save_dir) if label == requested else (int(label) + 1, 0)
    point = ResumePoint(label, epoch, epoch_iter, {}, None)
    for name, net in networks.items():
        path = ckpt.network_path(save_dir, label, name)
        if not os.path.isfile(path):
            if name == "G0":
                raise FileNotFoundError(f"--continue_train: generator checkpoint '{path}' not found")
            point.messages.append(f"{path} not found: {name} starts from scratch")
            continue
        state = read_state_dict(path)
        check_state_dict(net, state, path)
        point.network_states[name] = state
    state_path = ckpt.train_state_path(save_dir, label)
    if os.path.isfile(state_path):
        point.train_state = read_checkpoint(state_path, state_path)
    return point


def find_resume_point(save_dir: str, which_epoch: str, networks: dict[str, nn.Module]) -> ResumePoint:
    """--continue_train: checkpoint `which_epoch`, or the newest epoch checkpoint that is complete and fits
    when it is not (a warning in `messages` names both). Raises the error of `which_epoch` when none fits."""
    failures: list[Exception] = []
    for label in dict.fromkeys([which_epoch, *_epoch_labels(save_dir)]):
        try:
            point = _read_resume_point(save_dir, label, networks, which_epoch)
        except (CheckpointError, FileNotFoundError) as error:
            failures.append(error)
            continue
        if failures:
            point.messages.insert(0, f"warning: cannot resume from checkpoint '{which_epoch}' ({failures[0]}); "
                                     f"resuming from '{label}' ({ckpt.network_path(save_dir, label, 'G0')}) instead")
        return point
    raise failures[0]


def apply_resume_point(point: ResumePoint, networks: dict[str, nn.Module]) -> None:
    for name, state in point.network_states.items():
        load_state_dict(networks[name], state, name)


def load_pretrained(opt: argparse.Namespace, networks: dict[str, nn.Module]) -> list[str]:
    """--load_pretrain: the official partial load from another experiment (same-named, same-shaped tensors);
    a missing file is skipped with a message, except G0's. Returns messages for the log."""
    messages = []
    for name, net in networks.items():
        path = ckpt.network_path(opt.load_pretrain, opt.which_epoch, name)
        if not os.path.isfile(path):
            if name == "G0":
                raise FileNotFoundError(f"--load_pretrain: generator checkpoint '{path}' not found")
            messages.append(f"{path} not found: {name} starts from scratch")
            continue
        untouched = load_state_dict_partial(net, read_state_dict(path))
        if untouched:
            prefixes = sorted({k.split(".")[0] for k in untouched})
            messages.append(f"{path}: not initialised from the file: {', '.join(prefixes)}")
    return messages
