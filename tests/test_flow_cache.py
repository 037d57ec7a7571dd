"""The exact reference-flow cache (models/flow/cache.py, --flow_cache_mb): results bit for bit those of the
estimator, misses on other frames, the LRU byte bound, and a seeded training run that hits and gives the
numbers of an uncached one."""

from __future__ import annotations

import os
import re
from unittest import mock

import pytest
import torch
import torch.nn as nn

import train
from models.flow.cache import CachedFlowEstimator, call_digest, with_flow_cache
from models.flow.estimator import DISEstimator
from tests import regression_run
from tests.conftest import tiny_train_args
from util.visualizer import Visualizer

H, W = 32, 64
RESULT_BYTES = (2 + 1) * H * W * 4  # flow and confidence of one pair, float32


class CountingEstimator(nn.Module):
    """DIS, counting its calls and the pairs it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.dis = DISEstimator()
        self.calls = self.pairs = 0

    def forward(self, im1, im2):
        self.calls += 1
        self.pairs += im1.reshape(-1, 3, H, W).shape[0]
        return self.dis(im1, im2)


def smooth_frames(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`(n, 3, H, W)` pairs: a blurred random image and the same shifted 2 pixels right (a flow DIS finds)."""
    gen = torch.Generator().manual_seed(seed)
    im1 = torch.nn.functional.avg_pool2d(torch.rand(n, 3, H + 4, W + 4, generator=gen), 5, 1) * 2 - 1
    return im1, torch.roll(im1, 2, dims=-1)


def test_results_are_the_estimators_bit_for_bit_and_repeats_skip_it():
    counting = CountingEstimator()
    cached = CachedFlowEstimator(counting, 2**20)
    calls = [smooth_frames(2, 0), smooth_frames(1, 1), smooth_frames(2, 0), smooth_frames(2, 2), smooth_frames(1, 1)]
    for im1, im2 in calls:
        flow, conf = cached(im1, im2)
        want_flow, want_conf = DISEstimator()(im1, im2)
        assert torch.equal(flow, want_flow) and torch.equal(conf, want_conf)
    assert (counting.calls, counting.pairs) == (3, 5)
    assert (cached.hits, cached.misses, len(cached)) == (2, 3, 3)
    assert cached.stored_bytes == 5 * RESULT_BYTES


def test_a_hit_is_a_copy_on_the_inputs_device():
    cached = CachedFlowEstimator(DISEstimator(), 2**20)
    im1, im2 = smooth_frames(1, 0)
    first, _ = cached(im1, im2)
    want = first.clone()
    first.add_(100)  # the caller owns what it gets: the kept result is unchanged
    again, _ = cached(im1, im2)
    assert cached.hits == 1 and again.device == im1.device
    assert torch.equal(again, want)


def test_flipped_frames_and_other_layouts_miss():
    counting = CountingEstimator()
    cached = CachedFlowEstimator(counting, 2**20)
    im1, im2 = smooth_frames(2, 0)
    cached(im1, im2)
    flipped1, flipped2 = im1.flip(-1), im2.flip(-1)
    flow, _ = cached(flipped1, flipped2)
    assert cached.hits == 0 and cached.misses == 2
    assert torch.equal(flow, DISEstimator()(flipped1, flipped2)[0])
    # same bytes, other shape or dtype: other keys
    assert call_digest(im1, im2) != call_digest(im1[None], im2[None])
    assert call_digest(im1, im2) != call_digest(im1.double(), im2.double())
    assert call_digest(im1, im2) == call_digest(im1.clone(), im2.clone())


def test_least_recently_used_results_go_first_within_the_byte_bound():
    counting = CountingEstimator()
    cached = CachedFlowEstimator(counting, int(2.5 * RESULT_BYTES))
    a, b, c = smooth_frames(1, 0), smooth_frames(1, 1), smooth_frames(1, 2)
    for pair in (a, b, a, c):  # a is used after b, so c evicts b
        cached(*pair)
        assert cached.stored_bytes <= cached.max_bytes
    assert (len(cached), cached.stored_bytes, counting.calls) == (2, 2 * RESULT_BYTES, 3)
    cached(*a)
    assert counting.calls == 3
    cached(*b)
    assert counting.calls == 4 and len(cached) == 2 and cached.stored_bytes <= cached.max_bytes
    # a result larger than the whole bound is computed and returned but not kept
    big = smooth_frames(3, 3)
    flow, _ = cached(*big)
    assert flow.shape == (3, 2, H, W) and len(cached) == 2
    cached(*big)
    assert counting.calls == 6


def test_report_counts_since_the_last_one():
    cached = CachedFlowEstimator(DISEstimator(), 2**20)
    pair = smooth_frames(1, 0)
    for _ in range(4):
        cached(*pair)
    assert cached.report() == "flow cache: 3 hits (75 %), 1 misses; 1 results kept, 0.0 of 1 MiB"
    assert cached.report().startswith("flow cache: 0 hits, 0 misses")


def test_the_option_wraps_or_not_and_rejects_negative_sizes():
    dis = DISEstimator()
    assert with_flow_cache(dis, 0) is dis
    wrapped = with_flow_cache(dis, 3)
    assert isinstance(wrapped, CachedFlowEstimator) and wrapped.max_bytes == 3 * 2**20
    assert not wrapped.train().training
    with pytest.raises(ValueError, match="--flow_cache_mb -1"):
        with_flow_cache(dis, -1)


def train_and_record(root: str, checkpoints: str, *extra: str) -> tuple[list[dict], dict, list[tuple[int, int]]]:
    """A seeded 2-epoch run on 10-frame videos, 8 generated frames each (so the whole video, from frame 0,
    every epoch), no flips: returns every printed step's losses, the final G weights and the cache's
    (hits, misses) per epoch from loss_log.txt."""
    losses: list[dict] = []
    with mock.patch.object(Visualizer, "print_current_errors", lambda self, e, i, errors, t: losses.append(errors)):
        train.main(tiny_train_args(root, checkpoints, "cache", "--no_flip", "--n_frames_total", "8", "--niter", "2",
                                   "--display_freq", "100", "--no_html", *extra))
    weights = torch.load(os.path.join(checkpoints, "cache", "latest_net_G0.pth"), weights_only=True)
    with open(os.path.join(checkpoints, "cache", "loss_log.txt")) as f:
        counts = re.findall(r"flow cache: (\d+) hits.*?, (\d+) misses", f.read())
    return losses, weights, [(int(h), int(m)) for h, m in counts]


def test_a_seeded_run_with_hits_gives_the_numbers_of_an_uncached_run(tmp_path):
    """Epoch 2 sees every chunk of epoch 1 again: its reference flows and the second temporal scale's flows
    all hit, and every loss and weight is that of the run without the cache."""
    root = str(tmp_path / "data")
    regression_run.make_dataset(root)
    losses, weights, counts = train_and_record(root, str(tmp_path / "cached"))
    losses_0, weights_0, counts_0 = train_and_record(root, str(tmp_path / "uncached"), "--flow_cache_mb", "0")
    assert losses == losses_0 and len(losses) == 4
    assert weights.keys() == weights_0.keys() and all(torch.equal(weights[k], weights_0[k]) for k in weights)
    (hits1, misses1), (hits2, misses2) = counts
    # per video and epoch: the reference flows of 4 chunks, and the scale-1 flows of the last one (the first
    # group of 7 frames ends at its newest frame)
    assert (hits1, misses1, hits2, misses2) == (0, 10, 10, 0)
    assert counts_0 == []
