"""Shared fixtures: a tiny synthetic street dataset and the flags of a tiny model that trains in seconds."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scripts.datasets.synthetic_street import generate_dataset  # noqa: E402

# Copies of ../shared/reference/official-keys: the official state_dict keys and shapes per configuration.
OFFICIAL_KEYS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "official_keys")


@pytest.fixture(scope="session")
def street_root(tmp_path_factory) -> str:
    """2 training videos and 1 test video of 6 frames at 64x32, Cityscapes ids, instance maps."""
    root = str(tmp_path_factory.mktemp("street"))
    generate_dataset(root, n_train=2, n_test=1, n_frames=6, width=64, height=32, seed=0)
    return root


TINY_MODEL = ["--label_nc", "35", "--use_instance", "--fg", "--loadSize", "64", "--ngf", "8", "--ndf", "8",
              "--n_downsample_G", "2", "--n_blocks", "2", "--n_blocks_local", "1", "--gpu_ids", "-1", "--nThreads", "0"]


def tiny_train_args(root: str, checkpoints: str, name: str = "tiny", *extra: str) -> list[str]:
    """Flags of a seeded CPU training run on the tiny dataset: DIS flow, no VGG, 4 frames per video in
    2 chunks of 2, so that the first temporal discriminator judges the second chunk."""
    return ["--dataroot", root, "--checkpoints_dir", checkpoints, "--name", name, *TINY_MODEL,
            "--num_D", "1", "--n_layers_D", "2", "--flownet", "dis", "--no_vgg",
            "--n_frames_total", "4", "--max_frames_per_gpu", "2",
            "--niter", "1", "--niter_decay", "0", "--print_freq", "1", "--display_freq", "1",
            "--seed", "0", "--serial_batches", *extra]
