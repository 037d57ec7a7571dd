"""Train vid2vid: `python train.py --name NAME --dataroot DIR [official flags]` (see options/)."""

from __future__ import annotations

import os

from options.train_options import TrainOptions
from training.trainer import Trainer
from util.cli import run_main


def main(args: list[str] | None = None) -> None:
    # opt.txt is written by the Trainer once the inputs are checked, so a bad command overwrites nothing
    # in a torchrun launch, rank 0 alone prints the options
    opt = TrainOptions().parse(args, save=False, quiet=int(os.environ.get("RANK", "0")) > 0)
    Trainer(opt).train()


if __name__ == "__main__":
    run_main(main)
