"""Where and how a run executes: the device, the generator's GPU count, seeding and the RNG state.

train.py and test.py (and the datasets, for the frames per chunk) take these decisions from here, so that
the device and the GPU arithmetic are decided in one place.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def select_device(gpu_ids: list[int]) -> torch.device:
    """The first listed GPU, or the CPU for an empty list (--gpu_ids -1, or no CUDA)."""
    return torch.device(f"cuda:{gpu_ids[0]}") if gpu_ids else torch.device("cpu")


def use_cudnn_autotuner(debug: bool) -> None:
    """cuDNN's autotuner (`torch.backends.cudnn.benchmark`) on unless --debug, as the official G and D models
    switch it on: the first call of each convolution shape times cuDNN's algorithms and keeps the fastest.
    No effect on the CPU."""
    torch.backends.cudnn.benchmark = not debug


def generator_gpu_count(n_gpus_gen: int, batch_size: int) -> int:
    """GPUs that one sequence's frames are spread over (official `n_gpus`): --n_gpus_gen with batch size 1,
    else 1 (each sequence then stays on one GPU). At least 1, so that the CPU counts as one device."""
    return max(1, n_gpus_gen if batch_size == 1 else 1)


def seed_everything(seed: int) -> None:
    """Seeds Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict:
    """Python, NumPy and torch (and CUDA) RNG states in a form torch.load(weights_only=True) accepts."""
    np_state = np.random.get_state()
    state = {"python": random.getstate(), "torch": torch.get_rng_state(),
             "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restores what `rng_state` returned."""
    version, counts, gauss = state["python"]
    random.setstate((version, tuple(counts), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
