"""The training schedule of vid2vid in one place (reference §5): the learning rate (linear decay), the
sequence length (doubled every --niter_step epochs), the frames backpropagated through the recurrence,
and the switch from the finest scale alone to every scale (--niter_fix_global).

The schedule only holds numbers. The trainer applies them: the learning rate to the optimizers, the
sequence length to the dataset (`set_sequence_length`), and n_frames_bp / train_all_scales to G's forward.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from util.runtime import generator_gpu_count

# Sequence lengths never grow past this many frames (official cap).
MAX_SEQUENCE_LENGTH = 128


@dataclass
class ScheduleEvents:
    """What an end-of-epoch update changed, so that the trainer can apply it and log it."""

    lr_changed: bool = False
    sequence_length_changed: bool = False
    switched_to_all_scales: bool = False


class TrainingSchedule:
    """Schedule state, advanced once per epoch by `end_of_epoch`.

    Args:
        opt: reads lr, niter, niter_decay, niter_step, niter_fix_global, n_scales_spatial, n_frames_total,
            n_frames_G, max_frames_per_gpu, max_frames_backpropagate, n_gpus_gen, batchSize.
        longest_sequence: frames in the dataset's longest sequence (caps the sequence length).
    """

    def __init__(self, opt: argparse.Namespace, longest_sequence: int) -> None:
        self.base_lr = opt.lr
        self.niter, self.niter_decay = opt.niter, opt.niter_decay
        self.niter_step = opt.niter_step
        self.fix_global_until = opt.niter_fix_global if opt.n_scales_spatial > 1 else 0
        self.initial_n_frames = opt.n_frames_total
        self.max_n_frames = min(MAX_SEQUENCE_LENGTH, longest_sequence) - (opt.n_frames_G - 1)
        self.max_frames_per_gpu = opt.max_frames_per_gpu
        self.max_frames_backpropagate = opt.max_frames_backpropagate
        self.n_gpus = generator_gpu_count(opt.n_gpus_gen, opt.batchSize)

        self.lr = opt.lr
        self.n_frames_total = opt.n_frames_total
        # G's own frame bookkeeping (official): it only decides n_frames_bp; the chunks follow the data
        self.n_frames_per_gpu = max(1, min(opt.max_frames_per_gpu, opt.n_frames_total // self.n_gpus))
        self.n_frames_bp = 1
        self.train_all_scales = opt.niter_fix_global == 0

    # ---- the rules ------------------------------------------------------------------------------
    def decayed_lr(self, epoch: int) -> float:
        """lr after `epoch` (> niter): linear decay that reaches 0 after niter + niter_decay epochs."""
        return self.base_lr * (1 - (epoch - self.niter) / self.niter_decay)

    def grow_sequences(self, ratio: int) -> bool:
        """At a doubling of the training length (ratio = epoch // niter_step): the dataset's length becomes
        n_frames_total * 2**ratio (capped), G backpropagates through more frames (up to
        --max_frames_backpropagate) and counts more frames per GPU (official). Returns whether the
        sequence length changed."""
        before = self.n_frames_total
        if self.n_frames_total < self.max_n_frames:
            self.n_frames_total = min(self.max_n_frames, self.initial_n_frames * 2**ratio)
        n_frames_load = self.n_gpus * self.n_frames_per_gpu
        if self.n_frames_bp < n_frames_load:
            n_bp = min(self.max_frames_backpropagate, 2**ratio)
            self.n_frames_bp = n_frames_load // math.ceil(n_frames_load / n_bp)
        if self.n_frames_per_gpu < self.max_frames_per_gpu:
            self.n_frames_per_gpu = min(self.n_frames_per_gpu * 2, self.max_frames_per_gpu)
        return self.n_frames_total != before

    def end_of_epoch(self, epoch: int) -> ScheduleEvents:
        """The official `update_models` after `epoch`: lr decay, sequence growth, end of the fixed-global
        phase."""
        events = ScheduleEvents()
        if epoch > self.niter:
            self.lr = self.decayed_lr(epoch)
            events.lr_changed = True
        if epoch % self.niter_step == 0:
            events.sequence_length_changed = self.grow_sequences(epoch // self.niter_step)
        if self.fix_global_until and epoch == self.fix_global_until:
            self.train_all_scales = True
            events.switched_to_all_scales = True
        return events

    def replay(self, start_epoch: int) -> ScheduleEvents:
        """The official resume without saved schedule state: re-apply the rules up to `start_epoch`."""
        events = ScheduleEvents()
        if start_epoch > self.niter:
            self.lr = self.decayed_lr(start_epoch - 1)
            events.lr_changed = True
        if self.fix_global_until and start_epoch > self.fix_global_until:
            self.train_all_scales = True
            events.switched_to_all_scales = True
        if start_epoch > self.niter_step:
            events.sequence_length_changed = self.grow_sequences((start_epoch - 1) // self.niter_step)
        return events

    # ---- resume ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"lr": self.lr, "n_frames_total": self.n_frames_total, "n_frames_per_gpu": self.n_frames_per_gpu,
                "n_frames_bp": self.n_frames_bp, "train_all_scales": self.train_all_scales}

    def load_state_dict(self, state: dict) -> None:
        self.lr = state["lr"]
        self.n_frames_total = state["n_frames_total"]
        self.n_frames_per_gpu = state["n_frames_per_gpu"]
        self.n_frames_bp = state["n_frames_bp"]
        self.train_all_scales = state["train_all_scales"]
