"""Train vid2vid: `python train.py --name NAME --dataroot DIR [official flags]` (see options/)."""

from __future__ import annotations

from options.train_options import TrainOptions
from trainer import Trainer
from util.cli import run_main


def main(args: list[str] | None = None) -> None:
    opt = TrainOptions().parse(args)
    Trainer(opt).train()


if __name__ == "__main__":
    run_main(main)
