"""vid2vid's discriminators under their official checkpoint names: `netD` (per frame, conditional),
`netD_T<s>` (one per temporal scale) and `netD_f` (face crop, with --add_face_disc). They hold no losses."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
import torch.nn as nn

from models.networks.factory import define_discriminators
from models.parallel import ShardedNet, Shards


class Vid2VidDiscriminators(nn.Module):
    """The `--netD` networks of one vid2vid model, built from the options (see `define_discriminators`)."""

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__()
        for name, net in define_discriminators(opt).items():
            self.add_module(f"net{name}", net)

    def net_names(self) -> list[str]:
        """Official checkpoint stems: D, D_T0.., D_f."""
        return [name.removeprefix("net") for name, _ in self.named_children()]

    def temporal(self, scale: int) -> nn.Module:
        """netD_T<scale>."""
        return getattr(self, f"netD_T{scale}")


class ShardedDiscriminators:
    """The interface of `Vid2VidDiscriminators` (netD, netD_T<s>, netD_f, `temporal`), each network called
    with its batch of frames split over the D devices by `shards_for(n_frames)` (util/placement.py)."""

    def __init__(self, nets: Vid2VidDiscriminators, shards_for: Callable[[int], Shards], home: torch.device):
        for name in nets.net_names():
            setattr(self, f"net{name}", ShardedNet(getattr(nets, f"net{name}"), shards_for, home))

    def temporal(self, scale: int) -> ShardedNet:
        """netD_T<scale>."""
        return getattr(self, f"netD_T{scale}")
