"""Scoring runs against one ground truth: every metric per frame or pair, per sequence, and over each run.

`Scorer(settings)` loads the networks the asked-for metrics need (a missing weights file fails here, before
any work), and `Scorer.score_runs(runs)` returns a row per run: the means over all frames (PSNR, SSIM, LPIPS)
or all consecutive pairs (warping error and its floor, tOF, tLP) of the run, the set metrics (FID over the
frames, FVD over one clip per sequence), and the same means per sequence. The runs are scored one sequence at
a time, so that what depends on the ground truth only (its flows, its LPIPS steps) is computed once for all
runs and then dropped: memory holds one sequence's flows, whatever the size of the test set.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from evaluation import fid as fid_metric
from evaluation import flow_metrics, perceptual
from evaluation import fvd as fvd_metric
from evaluation.frames import Sequence, load_pair
from evaluation.psnr_ssim import psnr_ssim
from models.flow.estimator import create_flow_estimator

METRICS = ("psnr", "ssim", "warp", "tof", "lpips", "tlp", "fid", "fvd")
# what needs no weights file: the default
DEFAULT_METRICS = ("psnr", "ssim", "warp", "tof")
# drift: SSIM over the first and over the last this many frames of each sequence (overlapping windows for
# sequences shorter than twice this)
DRIFT_WINDOW = 10


def parse_metrics(text: str) -> list[str]:
    """'psnr,ssim' or 'all' -> the metric names in table order; ValueError naming --metrics for others."""
    names = [name.strip().lower() for name in text.replace(" ", ",").split(",") if name.strip()]
    if names == ["all"]:
        return list(METRICS)
    unknown = [name for name in names if name not in METRICS]
    if unknown or not names:
        raise ValueError(f"--metrics {text!r}: unknown {', '.join(unknown) or 'empty list'}; expected a comma-"
                         f"separated list of {', '.join(METRICS)}, or all")
    return [name for name in METRICS if name in names]


@dataclass
class Settings:
    """What to compute and with which networks (the flags of scripts/evaluate.py and compare_runs.py)."""

    metrics: list[str]
    device: torch.device
    flow: str = "dis"
    flownet_checkpoint: str = ""
    lpips_net: str = "alex"
    lpips_backbone: str = ""
    fid_weights: str = ""
    fvd_weights: str = ""


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


@dataclass
class _RunTotals:
    """What one run has gathered so far: values pooled over its sequences, per-sequence means, FID features."""

    label: str
    pooled: dict[str, list[float]] = field(default_factory=dict)
    per_sequence: dict[str, dict] = field(default_factory=dict)
    fid_features: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    frames: int = 0

    def add(self, seq: Sequence, values: dict[str, list[float]], features: tuple | None) -> None:
        if "ssim" in values:
            values = values | {"ssim_first": values["ssim"][:DRIFT_WINDOW], "ssim_last": values["ssim"][-DRIFT_WINDOW:]}
        self.per_sequence[seq.name] = {"frames": len(seq.stems), **{k: _mean(v) for k, v in values.items()}}
        for key, value in values.items():
            self.pooled.setdefault(key, []).extend(value)
        if features is not None:
            self.fid_features.append(features)
        self.frames += len(seq.stems)

    def row(self) -> dict:
        """{'model', 'frames', '<metric>': mean, ..., ['fid'], 'per_sequence': {name: {...}}}."""
        row = {"model": self.label, "frames": self.frames, **{k: _mean(v) for k, v in self.pooled.items()}}
        if self.fid_features:
            fake, real = (np.concatenate(side) for side in zip(*self.fid_features))
            row["fid"] = fid_metric.fid_from_features(fake, real)
        return row | {"per_sequence": self.per_sequence}


class Scorer:
    """Scores runs (lists of matched `Sequence`s) against their ground truth; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        wanted, device = set(settings.metrics), settings.device
        self.flow = (create_flow_estimator(settings.flow, settings.flownet_checkpoint).to(device)
                     if "warp" in wanted else None)
        self.lpips = (perceptual.load_lpips(settings.lpips_net, settings.lpips_backbone, device)
                      if wanted & {"lpips", "tlp"} else None)
        self.inception = fid_metric.load_inception(settings.fid_weights, device) if "fid" in wanted else None
        self.i3d = fvd_metric.load_i3d(settings.fvd_weights, device) if "fvd" in wanted else None
        # features only (2048 or 400 numbers a frame or clip): kept for the whole evaluation
        self._inception_cache: dict[tuple, np.ndarray] = {}
        self._i3d_truth: dict[tuple, np.ndarray] = {}

    def _truth_data(self, real: np.ndarray) -> dict:
        """What the ground truth of one sequence gives every run: flows, floor, LPIPS steps, features."""
        data: dict = {}
        metrics = self.settings.metrics
        if len(real) >= 2 and self.flow is not None:
            data["flow"] = flow_metrics.truth_flow(real, self.flow, self.settings.device)
            data["warp_floor"] = flow_metrics.warping_errors(real, data["flow"])
        if len(real) >= 2 and "tof" in metrics:
            data["farneback"] = flow_metrics.farneback_flows(real)
        if len(real) >= 2 and "tlp" in metrics:
            data["lpips_steps"] = perceptual.consecutive_lpips(self.lpips, real)
        if self.inception is not None:
            data["inception"] = self._inception_features(real)
        return data

    def _inception_features(self, frames: np.ndarray) -> np.ndarray:
        """Inception features `(T, 2048)` of uint8 `(T, H, W, 3)` frames, each distinct frame computed once per
        Scorer: Inception is the slowest network here, and the copy-frame row repeats one frame throughout."""
        keys = [(f.shape, hashlib.blake2b(f.tobytes(), digest_size=16).digest()) for f in frames]
        new = {key: t for t, key in enumerate(keys) if key not in self._inception_cache}
        if new:
            computed = fid_metric.inception_features(self.inception, frames[list(new.values())])
            self._inception_cache.update(zip(new, computed))
        return np.stack([self._inception_cache[key] for key in keys])

    def score_sequence(self, seq: Sequence, truth_cache: dict) -> tuple[dict[str, list[float]], tuple | None]:
        """Per-frame and per-pair values of one sequence, and its (fake, real) Inception features for FID.

        truth_cache: (truth paths, size) -> `_truth_data`, shared by the runs scored on this sequence."""
        fake, real = load_pair(seq)
        key = (seq.truth_paths, real.shape)
        if key not in truth_cache:
            truth_cache[key] = self._truth_data(real)
        truth, metrics = truth_cache[key], self.settings.metrics
        values = psnr_ssim(fake, real, tuple(m for m in ("psnr", "ssim") if m in metrics))
        if "lpips" in metrics:
            values["lpips"] = perceptual.lpips_distances(self.lpips, fake, real)
        if "flow" in truth:
            values["warp"] = flow_metrics.warping_errors(fake, truth["flow"])
            values["warp_floor"] = truth["warp_floor"]
        if "farneback" in truth:
            values["tof"] = flow_metrics.tof(flow_metrics.farneback_flows(fake), truth["farneback"])
        if "lpips_steps" in truth:
            values["tlp"] = perceptual.tlp(perceptual.consecutive_lpips(self.lpips, fake), truth["lpips_steps"])
        features = None if self.inception is None else (self._inception_features(fake), truth["inception"])
        return values, features

    def fvd(self, sequences: list[Sequence]) -> tuple[float, int]:
        """FVD over one clip per sequence (`fvd.select_clips`) and the number of clips."""
        clips = fvd_metric.select_clips(sequences)
        if not clips:
            longest = max(len(s.stems) for s in sequences)
            raise ValueError(f"--metrics fvd needs sequences of at least {fvd_metric.CLIP_LENGTH} scored frames; "
                             f"the longest here has {longest}")
        fakes, real_features = [], []
        for clip in clips:
            fake, real = load_pair(clip)
            fakes.append(fake)
            key = (clip.truth_paths, real.shape)
            if key not in self._i3d_truth:
                self._i3d_truth[key] = fvd_metric.clip_features(self.i3d, [real])
            real_features.append(self._i3d_truth[key])
        fake_features = fvd_metric.clip_features(self.i3d, fakes)
        return fvd_metric.fvd_from_features(fake_features, np.concatenate(real_features)), len(clips)

    def score_runs(self, runs: list[tuple[str, list[Sequence]]]) -> list[dict]:
        """A row per (label, sequences) run; the runs hold the same sequences in the same order (as
        `frames.restrict_to_common` and `frames.copy_frame_sequences` give them)."""
        totals = [_RunTotals(label) for label, _ in runs]
        for index in range(len(runs[0][1])):
            truth_cache: dict = {}  # this sequence's ground truth, for every run, then dropped
            for (_, sequences), total in zip(runs, totals):
                total.add(sequences[index], *self.score_sequence(sequences[index], truth_cache))
        rows = [total.row() for total in totals]
        if self.i3d is not None:
            for row, (_, sequences) in zip(rows, runs):
                row["fvd"], row["fvd_clips"] = self.fvd(sequences)
        return rows
