"""Training options: the official flags of train_options.py with their defaults."""

from __future__ import annotations

import argparse

from options.base_options import BaseOptions


class TrainOptions(BaseOptions):
    is_train = True

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p = super().initialize(parser)
        p.add_argument("--display_freq", type=int, default=100, help="steps between image dumps")
        p.add_argument("--print_freq", type=int, default=100, help="steps between loss prints")
        p.add_argument("--save_latest_freq", type=int, default=1000, help="steps between latest checkpoints")
        p.add_argument("--save_epoch_freq", type=int, default=1, help="epochs between epoch checkpoints")
        p.add_argument("--continue_train", action="store_true", help="resume from the latest checkpoint")
        p.add_argument("--phase", type=str, default="train", help="folder prefix: train, val, test")
        p.add_argument("--which_epoch", type=str, default="latest", help="checkpoint label to load")
        p.add_argument("--niter", type=int, default=10, help="epochs at the initial learning rate")
        p.add_argument("--niter_decay", type=int, default=10, help="epochs of linear decay to zero")
        p.add_argument("--beta1", type=float, default=0.5, help="Adam beta1")
        p.add_argument("--lr", type=float, default=0.0002, help="Adam learning rate")
        p.add_argument("--TTUR", action="store_true", help="two time-scale update rule")
        p.add_argument("--gan_mode", type=str, default="ls", help="ignored as in the official code: always LSGAN")
        p.add_argument("--pool_size", type=int, default=1, help="unused")
        p.add_argument("--no_html", action="store_true", help="no training HTML page")
        # discriminators
        p.add_argument("--num_D", type=int, default=2, help="scales per multiscale discriminator")
        p.add_argument("--n_layers_D", type=int, default=3, help="PatchGAN depth")
        p.add_argument("--no_vgg", action="store_true", help="no VGG loss")
        p.add_argument("--no_ganFeat", action="store_true", help="no discriminator feature matching")
        p.add_argument("--lambda_feat", type=float, default=10.0, help="VGG and feature-matching weight")
        p.add_argument("--sparse_D", action="store_true", help="sparse temporal-discriminator sampling")
        p.add_argument("--lambda_T", type=float, default=10.0, help="warp loss weight")
        p.add_argument("--lambda_F", type=float, default=10.0, help="flow loss weight")
        p.add_argument("--n_frames_D", type=int, default=3, help="frames per temporal-D sample")
        p.add_argument("--n_scales_temporal", type=int, default=2, help="temporal discriminators")
        p.add_argument("--max_frames_per_gpu", type=int, default=1, help="frames generated per chunk and GPU")
        p.add_argument("--max_frames_backpropagate", type=int, default=1,
                       help="frames through which gradients flow along the recurrence")
        p.add_argument("--max_t_step", type=int, default=1, help="maximum random temporal stride")
        p.add_argument("--n_frames_total", type=int, default=30, help="initial training sequence length")
        p.add_argument("--niter_step", type=int, default=5, help="epochs between doublings of n_frames_total")
        p.add_argument("--niter_fix_global", type=int, default=0,
                       help="train only the finest scale for this many epochs")
        # added by this project
        p.add_argument("--save_latest_every_s", type=float, default=0,
                       help="also save the latest checkpoint whenever this many seconds have passed since the last "
                            "save (0: off), so that a killed run loses at most that much")
        p.add_argument("--max_nan_steps", type=int, default=10,
                       help="stop after this many consecutive chunks with a non-finite loss (their updates are "
                            "skipped); the last good checkpoint is kept")
        p.add_argument("--max_unreadable_items", type=int, default=10,
                       help="stop after this many training items whose files cannot be read (each is skipped "
                            "with a warning)")
        p.add_argument("--skip_data_check", action="store_true",
                       help="start training without checking every file of the dataset first")
        p.add_argument("--true_prev_frame", action="store_true",
                       help="G_Warp: compare a chunk's first frame with the previous chunk's last generated frame "
                            "(the official code uses the chunk's own last frame, see the README)")
        p.add_argument("--flow_cache_mb", type=int, default=1024,
                       help="keep the reference flows of up to this many MiB of chunks (on the CPU) and reuse them "
                            "when exactly the same frames come again, e.g. the same window of a video in a later "
                            "epoch with --no_flip (0: no cache); the numbers are those of an uncached run when the "
                            "flow estimator is deterministic (DIS, FlowNet2 on the CPU; cuDNN need not be)")
        return p
