"""Where every network and tensor of a training run goes: the one place that decides device placement.

`DevicePlan` turns (--gpu_ids, --n_gpus_gen, --batchSize, --max_frames_per_gpu, --n_frames_total) into the
official multi-GPU layout (reference §6, read from the official `wrap_model` and `Vid2VidModelG`). It only
does arithmetic on the ids: it never asks whether CUDA exists, so tests build it with fake ids (the CUDA
fallback to the CPU stays in options/). Three layouts, plus the CPU:

- shared (`n_gpus_gen == len(gpu_ids)`, e.g. one GPU, or `--n_gpus_gen -1`): G and D are each spread over
  every GPU along the batch axis. The official code padded the batch with zero "dummy" samples to a
  multiple of the GPU count and dropped the dummies on GPU 0; this plan gives each GPU the real samples it
  had then (`shard_sizes`), without dummies. With batchSize 1 a sequence's frames are all generated on the
  one GPU that holds it.
- frame split (`n_gpus_gen < len(gpu_ids)`, batchSize 1): G's master copy sits on GPU 0, which gathers the
  results; frame t of a chunk is generated on `gpu_ids[1 + t // n_frames_per_gpu]` (a pipeline over
  gpu_ids[1..n_gpus_gen]). The official code wrote `gpu_ids[1] + t // n_frames_per_gpu` and used that
  number both as a device and as an index into the replicas of `gpu_ids[:n_gpus_gen + 1]`: the same GPU
  whenever the ids are 0, 1, 2, ... (every official script); this plan indexes the list, so any ids work.
  D runs on `[gpu0] + gpu_ids[n_gpus_gen + 1:]`, the chunk's frames split along the batch axis.
- batch split (`n_gpus_gen < len(gpu_ids)`, batchSize > 1): G over `gpu_ids[:n_gpus_gen]`, one sequence
  per GPU (the official README supports only `batchSize == n_gpus_gen` here), D over
  `[gpu0] + gpu_ids[n_gpus_gen:]`.
- CPU (`--gpu_ids -1`, or no CUDA): everything on the CPU. --n_gpus_gen still sets the frames per chunk
  (official `n_gpus`), so a run's chunking does not depend on the machine.

GPU 0 always runs D as well, so no layout leaves D without a GPU. The reference-flow estimator stays on
GPU 0: the official code meant to spread FlowNet like D, but a misspelt name left it on GPU 0 (§11.12).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import torch

from util.runtime import generator_gpu_count

CPU, SHARED, FRAME_SPLIT, BATCH_SPLIT = "cpu", "shared", "frame split", "batch split"


class PlacementError(ValueError):
    """A combination of --gpu_ids, --n_gpus_gen and --batchSize that the official layout does not support."""


def shard_sizes(n_items: int, n_devices: int, n_dummies: int = 0) -> list[int]:
    """How many of `n_items` samples each of `n_devices` gets when DataParallel splits a batch.

    DataParallel cuts the batch into chunks of ceil(size / n_devices) (the last ones shorter or empty).
    The official shared layout first prepended `n_dummies` zero samples; the sizes returned here count the
    real samples only: device i holds the real ones among positions [i*c, (i+1)*c) of the padded batch.
    """
    padded = n_items + n_dummies
    chunk = math.ceil(padded / n_devices) if padded else 0
    return [max(0, min((i + 1) * chunk, padded) - max(i * chunk, n_dummies)) for i in range(n_devices)]


def _cuda(ids: list[int] | tuple[int, ...]) -> list[torch.device]:
    return [torch.device("cuda", i) for i in ids]


@dataclass(frozen=True)
class DevicePlan:
    """The official placement for one run (see the module docstring). Invalid combinations raise
    `PlacementError` with a one-line message naming the flags."""

    gpu_ids: tuple[int, ...]
    n_gpus_gen: int
    batch_size: int
    max_frames_per_gpu: int
    n_frames_total: int

    @classmethod
    def from_options(cls, opt: argparse.Namespace) -> DevicePlan:
        """The plan of parsed options (after --n_gpus_gen -1 became the number of --gpu_ids)."""
        return cls(tuple(opt.gpu_ids), opt.n_gpus_gen, opt.batchSize, opt.max_frames_per_gpu,
                   opt.n_frames_total)

    def __post_init__(self) -> None:
        n_ids = len(self.gpu_ids)
        if self.batch_size < 1:
            raise PlacementError(f"--batchSize {self.batch_size}: expected at least 1")
        if not self.gpu_ids:
            return  # the CPU: --n_gpus_gen only sets the frames per chunk
        if not 1 <= self.n_gpus_gen <= n_ids:
            raise PlacementError(f"--n_gpus_gen {self.n_gpus_gen}: expected -1 (all GPUs) or 1..{n_ids}, "
                                 f"the number of --gpu_ids {','.join(map(str, self.gpu_ids))}")
        if self.mode == BATCH_SPLIT and self.batch_size != self.n_gpus_gen:
            raise PlacementError(
                f"--batchSize {self.batch_size} with --n_gpus_gen {self.n_gpus_gen} of {n_ids} --gpu_ids: a G/D "
                f"split takes --batchSize 1 (frames pipelined over the G GPUs) or --batchSize {self.n_gpus_gen} "
                "(one sequence per G GPU); --n_gpus_gen -1 (no split) takes any --batchSize")

    # ---- the layout -----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """CPU, SHARED, FRAME_SPLIT or BATCH_SPLIT."""
        if not self.gpu_ids:
            return CPU
        if self.n_gpus_gen == len(self.gpu_ids):
            return SHARED
        return FRAME_SPLIT if self.batch_size == 1 else BATCH_SPLIT

    @property
    def main_device(self) -> torch.device:
        """Where the networks' master copies, the optimizers, the data and the losses live: GPU 0 or the CPU."""
        return torch.device("cuda", self.gpu_ids[0]) if self.gpu_ids else torch.device("cpu")

    @property
    def flow_device(self) -> torch.device:
        """The reference-flow estimator's device (GPU 0, as the official code ended up doing)."""
        return self.main_device

    @property
    def generator_devices(self) -> list[torch.device]:
        """The devices that hold a copy of G, the master copy's first."""
        if self.mode == CPU:
            return [self.main_device]
        if self.mode == FRAME_SPLIT:
            return _cuda(self.gpu_ids[: self.n_gpus_gen + 1])
        return _cuda(self.gpu_ids[: self.n_gpus_gen])

    @property
    def discriminator_devices(self) -> list[torch.device]:
        """The devices D, each D_T and D_f run on; the chunk's frames are split over them (`frame_shards`)."""
        if self.mode in (CPU, SHARED):
            return _cuda(self.gpu_ids) or [self.main_device]
        split = self.n_gpus_gen + 1 if self.mode == FRAME_SPLIT else self.n_gpus_gen
        return _cuda(self.gpu_ids[:1] + self.gpu_ids[split:])

    @property
    def single_device(self) -> bool:
        """True when everything runs on the main device (the CPU, or one GPU)."""
        return len(self.gpu_ids) <= 1

    # ---- frames per chunk -----------------------------------------------------------------------
    @property
    def frame_gpus(self) -> int:
        """Official `n_gpus`: the GPUs one sequence's frames are spread over (--n_gpus_gen with batchSize 1,
        else 1; at least 1). A chunk holds at most `max_frames_per_gpu * frame_gpus` frames."""
        return generator_gpu_count(self.n_gpus_gen, self.batch_size)

    @property
    def frames_per_gpu(self) -> int:
        """G's starting frames per GPU (official `n_frames_per_gpu`; the schedule doubles it later)."""
        return max(1, min(self.max_frames_per_gpu, self.n_frames_total // self.frame_gpus))

    # ---- who does what --------------------------------------------------------------------------
    def sequence_shards(self, batch: int) -> list[tuple[torch.device, int]]:
        """(device, sequences) for each G device that generates: how a batch of `batch` sequences splits."""
        if self.mode in (CPU, FRAME_SPLIT):
            return [(self.main_device, batch)]
        devices = self.generator_devices
        return list(zip(devices, shard_sizes(batch, len(devices), self._dummies(len(devices)))))

    def frame_shards(self, n_frames: int) -> list[tuple[torch.device, int]]:
        """(device, frames) for each D device: how the `n_frames` frames (batch x chunk) a D judges split."""
        devices = self.discriminator_devices
        return list(zip(devices, shard_sizes(n_frames, len(devices), self._dummies(len(devices)))))

    def device_for_frame(self, t: int, n_frames: int, sequence: int = 0) -> torch.device:
        """The device that generates frame t (0-based) of a chunk of `n_frames` new frames of sequence
        `sequence` of the batch.

        Frame split: `gpu_ids[1 + t * n_gpus_gen // n_frames]`, which is the official
        `gpu_ids[1 + t // n_frames_per_gpu]` when the chunk holds `n_gpus_gen * n_frames_per_gpu` frames, and
        keeps a shorter chunk (the end of a short video) on the G GPUs. Otherwise the device of the
        sequence's shard, for every frame.
        """
        if not 0 <= t < n_frames:
            raise IndexError(f"frame {t} of a chunk of {n_frames}")
        if self.mode == FRAME_SPLIT:
            return torch.device("cuda", self.gpu_ids[1 + t * self.n_gpus_gen // n_frames])
        first = 0
        for device, size in self.sequence_shards(self.batch_size):
            if first <= sequence < first + size:
                return device
            first += size
        raise IndexError(f"sequence {sequence} of a batch of {self.batch_size}")

    def frame_devices(self, n_frames: int) -> list[torch.device] | None:
        """The generating device of each frame of a chunk in the frame split, else None (every sequence
        shard generates its own frames on its own device)."""
        if self.mode != FRAME_SPLIT:
            return None
        return [self.device_for_frame(t, n_frames) for t in range(n_frames)]

    def _dummies(self, n_devices: int) -> int:
        """Official zero samples prepended in the shared layout (batch padded to a multiple of the GPUs)."""
        if self.mode != SHARED:
            return 0
        return math.ceil(self.batch_size / n_devices) * n_devices - self.batch_size
