"""Data-parallel training over several processes started by `torchrun` (one process per GPU, or per CPU slot
with --gpu_ids -1): PyTorch's launcher and process group, gradients averaged with `torch.distributed`.

Why gradients are averaged here and the networks are not wrapped in `DistributedDataParallel`: every
discriminator forward is shared by the G and the D losses, and each optimizer backpropagates into its own
parameters only (`backward(inputs=..., retain_graph=True)`, training/trainer.py::step). DDP's reducer expects
one forward and one backward per wrapped module and iteration; here D runs four forwards before one
backward, which parameters get a gradient changes from chunk to chunk (the face D without a face, the
temporal Ds before they have groups, the coarse G scales during --niter_fix_global), and videos of
different lengths give the processes different numbers of chunks. Averaging each optimizer's gradients
just before its step, with one bucketed all_reduce, is exact whatever the graph, keeps the networks and
their state_dict keys as they are (no `module.` prefix), and lets a process that has no chunk left take
part in the others' steps with no gradient of its own.

The rules that keep every process in step: each optimizer is synchronised at every chunk, in a fixed
order, by every process; a non-finite loss on any process skips that update everywhere; a chunk's
gradient is the mean over the processes that had one; once per iteration the processes exchange their
losses (printed: the mean over the processes), unreadable-item notes, stop signals and RNG states, and
rank 0's buffers (BatchNorm statistics) are copied to the others. Only rank 0 writes files.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
from collections.abc import Iterable

import torch
import torch.distributed as dist
import torch.nn as nn

from data.sampling import Shard
from util.runtime import rng_state, seed_everything

# Debugging and tests: a folder where every process appends a checksum of each network after every iteration.
CHECKSUM_ENV = "VID2VID_DDP_CHECKSUMS"
# Gradients are averaged in flat buckets of at most this many elements (fewer, larger all_reduce calls).
_BUCKET_ELEMENTS = 1 << 24


def launched_by_torchrun() -> bool:
    """True when torchrun (or torch.distributed.launch) started this process with a world of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "LOCAL_RANK" in os.environ


def gpu_of_local_rank(gpu_ids: list[int], local_rank: int) -> int:
    """The GPU of local process `local_rank`: the `local_rank`-th of --gpu_ids; ValueError when too few are listed."""
    if local_rank >= len(gpu_ids):
        raise ValueError(f"--gpu_ids {','.join(map(str, gpu_ids))}: torchrun started local rank {local_rank} but "
                         f"only {len(gpu_ids)} GPU(s) are listed; list one GPU per process on this machine "
                         "(--nproc_per_node at most the number of --gpu_ids), or --gpu_ids -1 for the CPU")
    return gpu_ids[local_rank]


class Distributed:
    """This process's part in a torchrun launch; with no launch, a world of one in which every method leaves
    the single-process run exactly as it was.

    Args:
        opt: the training options. In a launch, `gpu_ids` becomes this process's one GPU (and `n_gpus_gen`
            1), and `seed` is shared: --seed, or one rank 0 draws.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        self.active = launched_by_torchrun()
        self.rank = int(os.environ["RANK"]) if self.active else 0
        self.world_size = int(os.environ["WORLD_SIZE"]) if self.active else 1
        self.seed = opt.seed
        self.rank_rngs: list[dict] = []
        self.networks: dict[str, nn.Module] = {}
        if not self.active:
            return
        local_rank = int(os.environ["LOCAL_RANK"])
        if opt.gpu_ids:
            opt.gpu_ids = [gpu_of_local_rank(opt.gpu_ids, local_rank)]
            torch.cuda.set_device(opt.gpu_ids[0])
        opt.n_gpus_gen = 1  # each process generates its own sequences on its one device
        self.device = torch.device(f"cuda:{opt.gpu_ids[0]}") if opt.gpu_ids else torch.device("cpu")
        dist.init_process_group("nccl" if opt.gpu_ids else "gloo",
                                device_id=self.device if opt.gpu_ids else None)
        if self.seed is None:
            self.seed = self.from_main(random.randrange(2**31))

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that prints and writes files."""
        return self.rank == 0

    @property
    def shard(self) -> Shard | None:
        """This process's share of the data, or None outside a launch."""
        return Shard(self.rank, self.world_size, self.seed) if self.active else None

    def from_main(self, value: object) -> object:
        """Rank 0's `value` on every process."""
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def main_checks(self, check, *args) -> None:
        """Runs `check(*args)` on rank 0 only; a ValueError it raises is raised on every process."""
        if not self.active:
            check(*args)
            return
        message = None
        if self.is_main:
            try:
                check(*args)
            except ValueError as error:
                message = str(error)
        message = self.from_main(message)
        if message is not None:
            raise ValueError(message)

    def check_work(self, dataset_size: int, batch_size: int) -> None:
        """ValueError when one step of all processes (world size x --batchSize items) exceeds an epoch."""
        if self.active and self.world_size * batch_size > dataset_size:
            raise ValueError(f"torchrun: {self.world_size} processes x --batchSize {batch_size} need at least "
                             f"{self.world_size * batch_size} training videos per epoch, but there are {dataset_size} "
                             "(--dataroot, --max_dataset_size); start fewer processes (--nproc_per_node, --nnodes)")

    # ---- start and resume ---------------------------------------------------------------------------
    def start(self, networks: dict[str, nn.Module]) -> None:
        """Every process starts from rank 0's weights and buffers, and draws its own data randomness
        (--seed + rank); a resumed run then restores the saved random states (`rank_train_state`)."""
        self.networks = networks
        if not self.active:
            return
        for tensor in _tensors(networks.values(), parameters=True):
            dist.broadcast(tensor, src=0)
        seed_everything(self.seed + self.rank)

    def rank_train_state(self, train_state: dict, sampler) -> tuple[dict, list[str]]:
        """The saved train state as this process resumes it: its own random state and the run's shared
        seed; returns it and messages for the log."""
        if not self.active:
            return train_state, []
        saved = train_state.get("distributed", {"world_size": 1, "seed": self.seed, "rngs": []})
        self.seed = saved["seed"]
        sampler.shard = self.shard
        if len(saved["rngs"]) != self.world_size:  # another world size, or saved before the first iteration
            # the rest of the epoch is split anew; each process keeps the random state seeded in `start`
            return ({**train_state, "rng": rng_state()},
                    [f"resuming a run of {saved['world_size']} process(es) with {self.world_size}: their random "
                     "states are seeded afresh"])
        return {**train_state, "rng": saved["rngs"][self.rank]}, []

    def train_state(self) -> dict:
        """What a distributed resume needs besides rank 0's train state (for `<label>_train_state.pth`)."""
        return {"world_size": self.world_size, "seed": self.seed, "rngs": self.rank_rngs}

    # ---- every step ---------------------------------------------------------------------------------
    def most(self, count: int) -> int:
        """The largest `count` over the processes (e.g. the chunks of their videos)."""
        if not self.active:
            return count
        value = torch.tensor([count], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return int(value.item())

    def average_gradients(self, params: list[nn.Parameter], contributed: bool, bad: list[str]
                          ) -> tuple[list[str], bool]:
        """Makes the gradients of `params` the mean over the processes that `contributed` one.

        bad: this process's non-finite loss names (it then contributed nothing). Returns the non-finite
        names, with a note when another process had some, and whether to step: only when no process had a
        non-finite loss and at least one contributed. A parameter gets a gradient when one process had it.
        """
        if not self.active:
            return bad, contributed and not bad
        has_grad = [contributed and p.grad is not None for p in params]
        counts = torch.tensor([float(contributed), float(bool(bad)), *map(float, has_grad)], device=self.device)
        dist.all_reduce(counts)
        n_contributed, n_bad = int(counts[0].item()), int(counts[1].item())
        if n_bad > bool(bad):
            bad = [*bad, "a loss on another process"]
        if n_bad or not n_contributed:
            return bad, False
        present = [p for p, n in zip(params, counts[2:].tolist()) if n > 0]
        for bucket in _buckets(present):
            # a process without a gradient for a parameter (idle, or not reached) adds zeros
            flat = torch.cat([p.grad.reshape(-1) if p.grad is not None else p.new_zeros(p.numel()) for p in bucket])
            dist.all_reduce(flat)
            flat /= n_contributed
            for p, piece in zip(bucket, flat.split([p.numel() for p in bucket])):
                p.grad = piece.view_as(p).clone()
        return bad, True

    def end_iteration(self, errors: dict[str, float], notes: list[str], signals) -> tuple[dict[str, float], list[str]]:
        """After every process's iteration: returns the losses averaged over the processes that have them and
        every process's unreadable-item notes; a stop signal any process got is set on `signals`; rank 0's
        buffers are copied to all; and every process's RNG state is kept for the next save."""
        if not self.active:
            return errors, notes
        reports: list[tuple] = [None] * self.world_size
        dist.all_gather_object(reports, (errors, notes, signals.signal_name, signals.signal_number, rng_state()))
        self.rank_rngs = [report[4] for report in reports]
        for _, _, name, number, _ in reports:
            if name is not None and signals.signal_name is None:
                signals.signal_name, signals.signal_number = name, number
        for tensor in _tensors(self.networks.values(), parameters=False):
            dist.broadcast(tensor, src=0)
        self._write_checksums()
        names = dict.fromkeys(name for report in reports for name in report[0])
        averaged = {name: sum(r[0][name] for r in reports if name in r[0]) / sum(name in r[0] for r in reports)
                    for name in names}
        return averaged, [note for report in reports for note in report[1]]

    def close(self) -> None:
        if self.active and dist.is_initialized():
            dist.destroy_process_group()

    def _write_checksums(self) -> None:
        """With VID2VID_DDP_CHECKSUMS=<folder>: appends `<network> <sha256 of its state_dict>` lines to
        `<folder>/rank<r>.txt`, one block per iteration, so that a test can compare the processes."""
        folder = os.environ.get(CHECKSUM_ENV)
        if not folder:
            return
        lines = []
        for name, net in self.networks.items():
            digest = hashlib.sha256()
            for key, value in net.state_dict().items():
                digest.update(key.encode() + value.detach().cpu().contiguous().numpy().tobytes())
            lines.append(f"{name} {digest.hexdigest()}\n")
        with open(os.path.join(folder, f"rank{self.rank}.txt"), "a") as f:
            f.writelines([*lines, "--\n"])


def _tensors(networks: Iterable[nn.Module], parameters: bool) -> list[torch.Tensor]:
    """The parameters and buffers (or the buffers only) of `networks`, as tensors to broadcast in place."""
    found = []
    for net in networks:
        found += [p.data for p in net.parameters()] if parameters else []
        found += list(net.buffers())
    return found


def _buckets(params: list[nn.Parameter]) -> list[list[nn.Parameter]]:
    """`params` in groups of at most _BUCKET_ELEMENTS elements (a larger parameter is a group of its own)."""
    buckets: list[list[nn.Parameter]] = [[]]
    size = 0
    for p in params:
        if buckets[-1] and size + p.numel() > _BUCKET_ELEMENTS:
            buckets.append([])
            size = 0
        buckets[-1].append(p)
        size += p.numel()
    return buckets


class QuietVisualizer:
    """The visualizer of a process other than rank 0: it prints and writes nothing."""

    def log(self, message: str) -> None:
        pass

    def print_current_errors(self, epoch: int, i: int, errors: dict[str, float], t: float) -> None:
        pass

    def plot_current_errors(self, errors: dict[str, float], step: int) -> None:
        pass

    def display_current_results(self, visuals: dict, epoch: int, step: int) -> None:
        pass

    def close(self) -> None:
        pass
