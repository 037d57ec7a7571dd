"""Running a network on several devices as `util/placement.py` decides: copies that share the master's
parameters, and a batch split along its first axis over them.

The official code used `nn.DataParallel`; these helpers do the same split (replicate, scatter, gather)
but with the shard sizes of the plan, so that no zero "dummy" samples are needed, and they also run on
the CPU (the tests split a batch over CPU "devices"). The shards run one after the other from Python
(CUDA still overlaps their kernels); with a single device every helper calls the network directly, so
a one-device run is exactly the plain one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn as nn
from torch.nn.parallel import replicate

Shards = Sequence[tuple[torch.device, int]]


def copies_on(module: nn.Module, devices: Sequence[torch.device]) -> dict[torch.device, nn.Module]:
    """device -> a copy of `module` on it that shares the master's parameters (gradients flow back to them).

    `module` must be on `devices[0]` (the master's device); with one device, the module itself.
    """
    if len(devices) == 1:
        return {devices[0]: module}
    return dict(zip(devices, replicate(module, list(devices))))


def split_batch(x: torch.Tensor | None, shards: Shards) -> list[torch.Tensor | None]:
    """`x (N, ...)` cut along its first axis into the non-empty shards' sizes, each moved to its device."""
    active = [(device, size) for device, size in shards if size]
    if x is None:
        return [None] * len(active)
    return [piece.to(device) for piece, (device, _) in zip(torch.split(x, [s for _, s in active]), active)]


def concat_on(device: torch.device, parts: list) -> Any:
    """Shards' outputs joined along the batch axis on `device`: tensors are concatenated, None stays None,
    and lists (of lists) of tensors are joined element by element."""
    if parts[0] is None:
        return None
    if isinstance(parts[0], (list, tuple)):
        return [concat_on(device, list(items)) for items in zip(*parts)]
    return torch.cat([part.to(device) for part in parts])


def run_sharded(module: nn.Module, x: torch.Tensor, shards: Shards, home: torch.device) -> Any:
    """`module(x)` with `x (N, ...)` split over `shards` [(device, size)], N = sum of the sizes.

    Each non-empty shard runs on a copy of `module` on its device (BatchNorm then normalises per shard,
    as DataParallel did); the outputs (tensors or nested lists of them) are concatenated on `home`, the
    device of `module`'s master copy.
    """
    active = [device for device, size in shards if size]
    if len(active) == 1 and active[0] == x.device == home:
        return module(x)
    copies = copies_on(module, [home, *[d for d in dict.fromkeys(active) if d != home]])
    outputs = [copies[device](piece) for device, piece in zip(active, split_batch(x, shards))]
    return concat_on(home, outputs)


class ShardedNet:
    """Calls a network with its batch split over devices by `shards_for(batch size)` (see run_sharded).
    A plain callable, not a module, so that the network's checkpoint keys stay as they are."""

    def __init__(self, net: nn.Module, shards_for: Callable[[int], Shards], home: torch.device) -> None:
        self.net, self.shards_for, self.home = net, shards_for, home

    def __call__(self, x: torch.Tensor) -> Any:
        return run_sharded(self.net, x, self.shards_for(x.shape[0]), self.home)
