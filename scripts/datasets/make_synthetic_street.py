"""Writes the synthetic street dataset (label maps, instance maps, RGB frames) in the Cityscapes layout.

Usage, from the repository root:
    python scripts/datasets/make_synthetic_street.py --dataroot datasets/synthetic_street

Re-running with the same parameters reuses the dataset already on disk; other parameters regenerate it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as a plain script from anywhere: put the repository root on the path, so that `scripts.datasets`
# imports (as an implicit namespace package) without importing torch through the `data` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tqdm import tqdm  # noqa: E402

from scripts.datasets.synthetic_street import generate_dataset  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the demo dataset's."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataroot", default="datasets/synthetic_street", help="folder to write into")
    parser.add_argument("--n_train", type=int, default=8, help="number of training videos")
    parser.add_argument("--n_test", type=int, default=2, help="number of test videos")
    parser.add_argument("--n_frames", type=int, default=30, help="frames per video")
    parser.add_argument("--width", type=int, default=256, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=128, help="frame height in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole dataset (non-negative)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tqdm(total=args.n_train + args.n_test, unit="video", desc="synthetic street",
              delay=0.5) as bar:
        generate_dataset(args.dataroot, n_train=args.n_train, n_test=args.n_test, n_frames=args.n_frames,
                         width=args.width, height=args.height, seed=args.seed, on_video=bar.update)
        written = bar.n
    if written == 0:
        print(f"{args.dataroot} already holds this dataset; nothing to do")
    else:
        print(f"wrote {written} videos to {args.dataroot}")


if __name__ == "__main__":
    main()
