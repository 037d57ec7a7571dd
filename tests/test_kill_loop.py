"""kill -9 a seeded training run at random moments, some of them in the middle of a save, resume each time:
every resume finds a readable checkpoint, and the final weights equal those of an uninterrupted run."""

from __future__ import annotations

import glob
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import train
from scripts.datasets.synthetic_street import generate_dataset
from tests.test_reliability import assert_same_weights, shuffled_args, weights

REPO = Path(__file__).resolve().parent.parent
N_KILLS = 4
# 6 epochs of 3 videos (18 saves of `latest`): on a quiet machine the 2 epochs of tests/test_reliability.py can
# end before the 4th kill
LONGER = ("--niter", "6")


def wait_for(condition, process: subprocess.Popen, timeout: float = 120.0) -> bool:
    """Polls `condition` every 2 ms until it holds (True) or the process ends (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.002)
    raise TimeoutError("training made no progress")


def kill_moment(exp_dir: str, rng: random.Random, process: subprocess.Popen, during_save: bool) -> bool:
    """Waits for a moment to kill at: while a save is being written, or a random time after a save.
    Returns False when the run finished first."""
    if during_save:
        return wait_for(lambda: bool(glob.glob(os.path.join(exp_dir, ".tmp_*"))), process)
    saves = len(glob.glob(os.path.join(exp_dir, "*_checkpoint.json")))
    if not wait_for(lambda: len(glob.glob(os.path.join(exp_dir, "*_checkpoint.json"))) >= max(1, saves), process):
        return False
    time.sleep(rng.uniform(0.0, 1.5))
    return process.poll() is None


def test_kill_loop_resumes_to_the_uninterrupted_weights(tmp_path):
    root = str(tmp_path / "data")
    generate_dataset(root, n_train=3, n_test=1, n_frames=6, width=64, height=32, seed=1)
    straight = str(tmp_path / "straight")
    train.main(shuffled_args(root, straight, *LONGER))

    killed_dir = str(tmp_path / "killed")
    exp_dir = os.path.join(killed_dir, "r")
    rng, kills, runs, saves_cut = random.Random(0), 0, 0, 0
    while True:
        resume = bool(glob.glob(os.path.join(exp_dir, "*_checkpoint.json")))
        args = shuffled_args(root, killed_dir, *LONGER, *(["--continue_train"] if resume else []))
        process = subprocess.Popen([sys.executable, "train.py", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        runs += 1
        if kills < N_KILLS and kill_moment(exp_dir, rng, process, during_save=kills % 2 == 0):
            saving = bool(glob.glob(os.path.join(exp_dir, ".tmp_*")))
            process.kill()
            saves_cut += saving
            process.wait()
            kills += 1
            continue
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        break
    assert kills == N_KILLS and runs == N_KILLS + 1 and saves_cut >= 1
    log = open(os.path.join(exp_dir, "loss_log.txt")).read()
    assert log.count("Resuming from epoch") >= 1 and "error" not in log.lower()
    assert_same_weights(weights(killed_dir), weights(straight))
