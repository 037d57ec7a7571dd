"""Test options: the official flags of test_options.py; test.py forces one sequential worker."""

from __future__ import annotations

import argparse

from options.base_options import BaseOptions


class TestOptions(BaseOptions):
    is_train = False

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p = super().initialize(parser)
        p.add_argument("--ntest", type=int, default=float("inf"), help="unused")
        p.add_argument("--results_dir", type=str, default="./results/", help="output root")
        p.add_argument("--aspect_ratio", type=float, default=1.0, help="unused")
        p.add_argument("--phase", type=str, default="test", help="folder prefix: train, val, test")
        p.add_argument("--which_epoch", type=str, default="latest", help="checkpoint label to load")
        p.add_argument("--how_many", type=int, default=300, help="frames to render, over all sequences")
        p.add_argument("--use_real_img", action="store_true", help="use the real first frames (needs test_B)")
        p.add_argument("--start_frame", type=int, default=0, help="first frame of the first sequence")
        p.add_argument("--no_video", action="store_true", help="write frames only: no mp4, no index.html")
        p.add_argument("--fps", type=float, default=15.0, help="frame rate of the mp4 files")
        return p

    def parse(self, args: list[str] | None = None, save: bool = False, quiet: bool = False) -> argparse.Namespace:
        opt = super().parse(args, save, quiet)
        opt.nThreads = 1
        opt.batchSize = 1
        opt.serial_batches = True
        opt.no_flip = True
        if opt.dataset_mode == "temporal":
            opt.dataset_mode = "test"
        return opt
