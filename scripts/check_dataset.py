"""Check every file of a dataset before training on it, and list every problem with its path.

    python scripts/check_dataset.py --dataroot datasets/Cityscapes --dataset_mode temporal --label_nc 35 \\
        --use_instance [--phase train] [--full]

It takes the training flags (the folders and checks follow --dataset_mode, --label_nc, --use_instance, ...),
and `--full`, which decodes every image instead of reading headers and file ends. train.py runs the same
check before it starts (unless --skip_data_check). Exit status 0 when the data is clean, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# scripts/ is not a package: make the repository's modules importable when run as a plain script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.dataset_check import check_dataset  # noqa: E402
from options.train_options import TrainOptions  # noqa: E402
from util.cli import run_main  # noqa: E402


def main(args: list[str] | None = None) -> int:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--full", action="store_true", help="decode every image (slower)")
    known, rest = extra.parse_known_args(args)
    if "-h" in rest or "--help" in rest:
        print(__doc__)
    # the check needs no GPU: --gpu_ids -1 unless the command says otherwise
    opt = TrainOptions().parse(["--gpu_ids", "-1", *rest], save=False, quiet=True)
    report = check_dataset(opt, full=known.full)
    for problem in report.problems:
        print(problem)
    print(report.summary())
    return 1 if report.problems else 0


if __name__ == "__main__":
    run_main(lambda: sys.exit(main()))
