"""Train vid2vid: `python train.py --name NAME --dataroot DIR [official flags]` (see options/)."""

from __future__ import annotations

from options.train_options import TrainOptions
from training.trainer import Trainer
from util.cli import run_main


def main(args: list[str] | None = None) -> None:
    # opt.txt is written by the Trainer once the inputs are checked, so a bad command overwrites nothing
    opt = TrainOptions().parse(args, save=False)
    Trainer(opt).train()


if __name__ == "__main__":
    run_main(main)
