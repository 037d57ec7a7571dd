"""Option post-processing as the official parser does it, and where ours deliberately differs."""

from __future__ import annotations

import pytest
import torch

from options.test_options import TestOptions
from options.train_options import TrainOptions
from util.runtime import generator_gpu_count


def test_negative_fg_labels_and_gpu_ids_are_dropped():
    opt = TrainOptions().parse(["--fg_labels", "26,-1,24", "--gpu_ids", "-1"], save=False)
    assert opt.fg_labels == [26, 24] and opt.gpu_ids == []


def test_chunk_length_does_not_depend_on_cuda(monkeypatch):
    """--n_gpus_gen -1 counts the ids asked for, before a machine without CUDA falls back to the CPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        opt = TrainOptions().parse(["--gpu_ids", "0,1,2", "--max_frames_per_gpu", "2"], save=False)
    assert opt.gpu_ids == [] and opt.n_gpus_gen == 3
    assert generator_gpu_count(opt.n_gpus_gen, opt.batchSize) == 3
    assert generator_gpu_count(opt.n_gpus_gen, 4) == 1
    assert generator_gpu_count(0, 1) == 1  # the CPU counts as one device


def test_test_options_force_one_sequential_worker():
    opt = TestOptions().parse(["--gpu_ids", "-1", "--nThreads", "4", "--batchSize", "3"])
    assert (opt.nThreads, opt.batchSize, opt.serial_batches, opt.no_flip, opt.dataset_mode) == (1, 1, True, True,
                                                                                                "test")


def test_added_flags_default_to_the_official_behaviour():
    opt = TrainOptions().parse(["--gpu_ids", "-1"], save=False)
    assert (opt.model, opt.netG, opt.netD, opt.true_prev_frame) == ("vid2vid", "composite", "multiscale", False)
