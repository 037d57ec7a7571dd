"""How long the data check takes: a generated street-layout dataset (label, image and instance frames),
checked by headers (what train.py does before training) and with --full (every image decoded).

    python scripts/benchmark_data_check.py [--sequences 100] [--frames 30] [--width 256] [--height 128]

Prints a table: files, seconds for each mode, files per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.dataset_check import check_dataset  # noqa: E402
from options.train_options import TrainOptions  # noqa: E402


def write_dataset(root: str, n_sequences: int, n_frames: int, width: int, height: int) -> None:
    """Random 35-class label maps, RGB frames and instance maps in the temporal layout."""
    rng = np.random.default_rng(0)
    for seq in range(n_sequences):
        for folder in ("train_A", "train_B", "train_inst"):
            os.makedirs(os.path.join(root, folder, f"seq_{seq:03d}"), exist_ok=True)
        for frame in range(n_frames):
            name = f"seq_{seq:03d}/frame_{frame:04d}.png"
            labels = rng.integers(0, 35, (height // 8, width // 8), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
            Image.fromarray(labels).save(os.path.join(root, "train_A", name))
            Image.fromarray(labels).save(os.path.join(root, "train_inst", name))
            rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(os.path.join(root, "train_B", name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=100)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=128)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        write_dataset(root, args.sequences, args.frames, args.width, args.height)
        opt = TrainOptions().parse(["--dataroot", root, "--label_nc", "35", "--use_instance", "--gpu_ids", "-1"],
                                   save=False, quiet=True)
        print(f"{args.sequences} sequences x {args.frames} frames x 3 folders, {args.width}x{args.height} PNG\n")
        print("| mode | files | seconds | files / s |\n|---|---:|---:|---:|")
        for label, full in (("headers and file ends (train.py)", False), ("--full (decode every image)", True)):
            report = check_dataset(opt, full=full)
            assert not report.problems, report.problems[:3]
            print(f"| {label} | {report.n_files} | {report.seconds:.2f} | {report.n_files / report.seconds:.0f} |")


if __name__ == "__main__":
    main()
