"""A seeded two-epoch training run and a test render whose numbers are recorded in tests/fixtures/regression/.

The run covers the schedule's moving parts on the generated street data: fg, two spatial scales with
--niter_fix_global 1 (the switch to all scales after epoch 1), two temporal scales (the second judges
groups only from the 7th generated frame on, so the 8 generated frames per video reach it), four chunks
per video, the sequence-length growth of --niter_step and one epoch of lr decay.

`python -m tests.regression_run NAME [train flags]` records the losses of every training step at full
precision and the rendered test frames (decoded uint8 arrays of the fake_B jpgs) as
tests/fixtures/regression/NAME.json and NAME_frames.npz (NAME may also be a path), so a refactor can be
checked to change no number.

The run is portable: it always runs in a process with PORTABLE_ENV (it re-executes itself when started
without), which makes its float32 arithmetic the same on every x86-64 machine. With the default settings
the kernels PyTorch picks depend on the CPU (AVX2 or AVX-512, oneDNN's choices) and the thread count, the
first losses then differ in the 6th digit, and four GAN steps amplify that to percents.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from unittest import mock

import cv2
import numpy as np
import torch
from PIL import Image

import test as test_script
import train
from util.visualizer import Visualizer

REGRESSION_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "regression")
# ATen's portable (non-vectorised) kernels, MKL's reproducible mode and one thread: the same arithmetic on
# every x86-64 CPU whatever its vector units and core count (read by torch when it loads: set before).
PORTABLE_ENV = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1"}

MODEL = ["--label_nc", "35", "--use_instance", "--fg", "--loadSize", "64", "--ngf", "8", "--ndf", "8",
         "--n_downsample_G", "2", "--n_blocks", "2", "--n_blocks_local", "1", "--gpu_ids", "-1",
         "--nThreads", "0", "--n_scales_spatial", "2", "--seed", "0"]
TRAIN = ["--num_D", "1", "--n_layers_D", "2", "--flownet", "dis", "--no_vgg", "--n_scales_temporal", "2",
         "--n_frames_total", "4", "--niter_step", "1", "--max_frames_per_gpu", "2", "--niter_fix_global", "1",
         "--niter", "1", "--niter_decay", "1", "--print_freq", "1", "--display_freq", "100",
         "--serial_batches", "--no_html"]


def make_dataset(root: str) -> None:
    """2 training and 1 test video of 10 frames at 64x32 (generated, seeded)."""
    from scripts.datasets.synthetic_street import generate_dataset

    generate_dataset(root, n_train=2, n_test=1, n_frames=10, width=64, height=32, seed=0)


def run(root: str, work_dir: str, *extra_train: str) -> dict:
    """Trains and renders; returns {'losses': [{name: value} per printed step], 'frames': {name: uint8 array}}."""
    if any(os.environ.get(key) != value for key, value in PORTABLE_ENV.items()):
        raise RuntimeError("regression_run.run needs a process started with PORTABLE_ENV "
                           "(python -m tests.regression_run)")
    torch.backends.mkldnn.enabled = False  # oneDNN picks its kernels by CPU
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    losses: list[dict[str, float]] = []
    original = Visualizer.print_current_errors

    def record(self, epoch, i, errors, t):
        losses.append(dict(errors))
        original(self, epoch, i, errors, t)

    common = ["--dataroot", root, "--checkpoints_dir", os.path.join(work_dir, "ckpt"), "--name", "reg", *MODEL]
    with mock.patch.object(Visualizer, "print_current_errors", record):
        train.main([*common, *TRAIN, *extra_train])
    results = os.path.join(work_dir, "results")
    test_script.main([*common, "--results_dir", results, "--use_real_img", "--no_video"])
    frames = {}
    for path in sorted(glob.glob(os.path.join(results, "reg", "test_latest", "*", "fake_B_*.jpg"))):
        frames[os.path.basename(path)] = np.asarray(Image.open(path).convert("RGB"))
    return {"losses": losses, "frames": frames}


def save(result: dict, name: str) -> None:
    """Writes `<name>.json` (losses) and `<name>_frames.npz` under tests/fixtures/regression/."""
    os.makedirs(REGRESSION_DIR, exist_ok=True)
    with open(os.path.join(REGRESSION_DIR, f"{name}.json"), "w") as f:
        json.dump({"losses": result["losses"]}, f, indent=1)
    np.savez_compressed(os.path.join(REGRESSION_DIR, f"{name}_frames.npz"), **result["frames"])


def load_all(name: str) -> dict[str, dict]:
    """Every recording of run `name`, by machine: {'xeon': `<name>.json`, 'epyc': `<name>.epyc.json`}."""
    return {"xeon": load(name), "epyc": load(f"{name}.epyc")}


def load(name: str) -> dict:
    with open(os.path.join(REGRESSION_DIR, f"{name}.json")) as f:
        losses = json.load(f)["losses"]
    with np.load(os.path.join(REGRESSION_DIR, f"{name}_frames.npz")) as frames:
        return {"losses": losses, "frames": {key: frames[key] for key in frames.files}}


if __name__ == "__main__":
    import tempfile

    if any(os.environ.get(key) != value for key, value in PORTABLE_ENV.items()):
        os.execve(sys.executable, [sys.executable, "-m", "tests.regression_run", *sys.argv[1:]],
                  {**os.environ, **PORTABLE_ENV})
    with tempfile.TemporaryDirectory() as tmp:
        make_dataset(os.path.join(tmp, "data"))
        save(run(os.path.join(tmp, "data"), tmp, *sys.argv[2:]), sys.argv[1])
