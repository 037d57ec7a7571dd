"""Options shared by training and testing, with the official names, types and defaults.

`BaseOptions().parse()` returns an `argparse.Namespace` after the official post-processing: `gpu_ids` and
`fg_labels` become integer lists, `n_gpus_gen == -1` becomes the GPU count, training checks the GPU layout
(util/placement.py) on the ids asked for, and the options are printed and (for training) written to
`checkpoints/<name>/opt.txt`.
"""

from __future__ import annotations

import argparse
import os
import warnings

import torch

from util.placement import DevicePlan

DEFAULT_FLOWNET_CHECKPOINT = "models/flownet2_pytorch/FlowNet2_checkpoint.pth.tar"
# Where torchvision would have cached the ImageNet VGG19 weights that the official code downloads.
DEFAULT_VGG_WEIGHTS = os.path.join(
    os.path.expanduser("~"), ".cache", "torch", "hub", "checkpoints", "vgg19-dcbe5ed3.pth"
)


class BaseOptions:
    """Builds the parser; subclasses add their own flags in `initialize` and set `is_train`."""

    is_train = False

    def initialize(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        """Adds the base flags to `parser` and returns it."""
        p = parser
        p.add_argument("--dataroot", type=str, default="datasets/Cityscapes/")
        p.add_argument("--batchSize", type=int, default=1, help="input batch size (sequences per step)")
        p.add_argument("--loadSize", type=int, default=512, help="scale images to this size")
        p.add_argument("--fineSize", type=int, default=512, help="then crop to this size")
        p.add_argument("--input_nc", type=int, default=3, help="input channels per frame when label_nc is 0")
        p.add_argument("--label_nc", type=int, default=0, help="number of semantic classes (0: RGB input)")
        p.add_argument("--output_nc", type=int, default=3, help="output image channels")
        p.add_argument("--netG", type=str, default="composite",
                       help="generator of the coarsest scale; the finer scales use <netG>Local")
        p.add_argument("--netD", type=str, default="multiscale", help="discriminator (D, each D_T and D_f)")
        p.add_argument("--ngf", type=int, default=128, help="generator base width")
        p.add_argument("--ndf", type=int, default=64, help="discriminator base width")
        p.add_argument("--n_blocks", type=int, default=9, help="residual blocks in the coarsest generator")
        p.add_argument("--n_downsample_G", type=int, default=3, help="downsamplings in the coarsest generator")
        p.add_argument("--gpu_ids", type=str, default="0", help="e.g. 0  0,1,2  or -1 for CPU")
        p.add_argument("--n_gpus_gen", type=int, default=-1, help="GPUs used for G; -1 means all")
        p.add_argument("--name", type=str, default="experiment_name", help="experiment folder name")
        p.add_argument("--dataset_mode", type=str, default="temporal", help="temporal | test | face | pose")
        p.add_argument("--model", type=str, default="vid2vid", help="model package under models/")
        p.add_argument("--nThreads", default=2, type=int, help="DataLoader workers")
        p.add_argument("--checkpoints_dir", type=str, default="./checkpoints")
        p.add_argument("--norm", type=str, default="batch", help="batch or instance normalisation")
        p.add_argument("--serial_batches", action="store_true", help="take sequences in order")
        p.add_argument("--display_winsize", type=int, default=512, help="image width in the HTML page")
        p.add_argument("--display_id", type=int, default=0, help="unused (kept for compatibility)")
        p.add_argument("--tf_log", action="store_true", help="log to TensorBoard in checkpoints/<name>/logs")
        p.add_argument("--max_dataset_size", type=int, default=float("inf"), help="cap on the sequences")
        p.add_argument("--resize_or_crop", type=str, default="scaleWidth",
                       help="resize | scaleWidth | scaleHeight | randomScaleWidth | randomScaleHeight | crop"
                            " | scaledCrop | none, and combinations such as scaleWidth_and_crop")
        p.add_argument("--no_flip", action="store_true", help="no random horizontal flip")
        p.add_argument("--use_instance", action="store_true", help="add an instance-boundary channel")
        # pix2pixHD leftovers, kept so that official command lines parse
        p.add_argument("--label_feat", action="store_true", help="unused")
        p.add_argument("--feat_num", type=int, default=3, help="unused")
        p.add_argument("--nef", type=int, default=32, help="unused")
        p.add_argument("--load_features", action="store_true", help="unused")
        p.add_argument("--netE", type=str, default="simple", help="unused")
        p.add_argument("--n_downsample_E", type=int, default=3, help="unused")
        p.add_argument("--n_blocks_local", type=int, default=3, help="residual blocks per finer-scale G")
        p.add_argument("--n_local_enhancers", type=int, default=1, help="pix2pixHD local enhancers (2048 single G)")
        # temporal
        p.add_argument("--n_frames_G", type=int, default=3, help="frames seen by G (current + previous)")
        p.add_argument("--n_scales_spatial", type=int, default=1, help="coarse-to-fine generator scales")
        p.add_argument("--no_first_img", action="store_true", help="G also synthesises the first frames")
        p.add_argument("--use_single_G", action="store_true",
                       help="test: make the first frames with a single-image (pix2pixHD) generator")
        p.add_argument("--fg", action="store_true", help="foreground/background separation")
        p.add_argument("--fg_labels", type=str, default="26", help="comma list of foreground label ids")
        p.add_argument("--no_flow", action="store_true", help="no flow and weight heads")
        # face and pose
        p.add_argument("--no_canny_edge", action="store_true", help="face: no Canny background edges")
        p.add_argument("--no_dist_map", action="store_true", help="face: no distance-transform channels")
        p.add_argument("--random_scale_points", action="store_true", help="face test: rescale facial parts")
        p.add_argument("--densepose_only", action="store_true", help="pose: DensePose input only")
        p.add_argument("--openpose_only", action="store_true", help="pose: OpenPose input only (forces no_flow)")
        p.add_argument("--add_face_disc", action="store_true", help="pose: extra face discriminator")
        p.add_argument("--remove_face_labels", action="store_true", help="pose: remove head labels")
        p.add_argument("--random_drop_prob", type=float, default=0.05, help="pose: drop probability")
        p.add_argument("--basic_point_only", action="store_true", help="pose: body joints only")
        # loading and debugging
        p.add_argument("--load_pretrain", type=str, default="", help="folder to load networks from")
        p.add_argument("--debug", action="store_true", help="display and print every step, one worker")
        p.add_argument("--fp16", action="store_true", default=False,
                       help="float16 mixed precision (torch.amp autocast, a loss scaler per optimizer); needs CUDA, "
                            "on the CPU it runs as --bf16")
        p.add_argument("--bf16", action="store_true", default=False,
                       help="bfloat16 mixed precision (torch.amp autocast, no loss scaler); CPU or GPU")
        p.add_argument("--local_rank", "--local-rank", type=int, default=0,
                       help="accepted from torch.distributed.launch; the process's GPU comes from LOCAL_RANK")
        # added by this project
        p.add_argument("--flownet", type=str, default="flownet2", choices=["flownet2", "dis"],
                       help="reference-flow estimator: flownet2 (official) or dis (OpenCV DIS, no weights)")
        p.add_argument("--flownet_checkpoint", type=str, default=DEFAULT_FLOWNET_CHECKPOINT,
                       help="FlowNet2_checkpoint.pth.tar of the official scripts")
        p.add_argument("--vgg_weights", type=str, default=DEFAULT_VGG_WEIGHTS,
                       help="torchvision VGG19 state_dict (vgg19-dcbe5ed3.pth) for the VGG loss")
        p.add_argument("--seed", type=int, default=None, help="seed Python, NumPy and torch for repeatable runs")
        return p

    def gather(self, args: list[str] | None) -> argparse.Namespace:
        parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        self.parser = self.initialize(parser)
        return self.parser.parse_args(args)

    def parse(self, args: list[str] | None = None, save: bool = True, quiet: bool = False) -> argparse.Namespace:
        """Parses `args` (default: sys.argv), post-processes them and prints them (unless `quiet`).

        With `save`, the options are also written to `<checkpoints_dir>/<name>/opt.txt`.
        """
        opt = self.gather(args)
        opt.isTrain = self.is_train
        opt.gpu_ids = [int(s) for s in opt.gpu_ids.split(",") if s.strip() and int(s) >= 0]
        # counted from the ids asked for, so that the frames per chunk do not depend on whether CUDA exists
        if opt.n_gpus_gen == -1:
            opt.n_gpus_gen = len(opt.gpu_ids)
        if opt.isTrain:  # a bad --n_gpus_gen / --batchSize is an error whether or not this machine has CUDA
            DevicePlan.from_options(opt)
        if opt.gpu_ids and not torch.cuda.is_available():
            warnings.warn(f"--gpu_ids {','.join(map(str, opt.gpu_ids))}: CUDA is not available, running on the CPU",
                          stacklevel=2)
            opt.gpu_ids = []
        # negative ids are dropped, as the official parser does
        opt.fg_labels = [int(s) for s in opt.fg_labels.split(",") if s.strip() and int(s) >= 0]
        if opt.fp16 and opt.bf16:
            raise ValueError("--fp16 and --bf16: choose one mixed precision (float16 or bfloat16), not both")
        if opt.debug:
            opt.nThreads = 1
        if not quiet:
            print(options_text(opt))
        if save:
            write_options(opt)
        return opt


def options_text(opt: argparse.Namespace) -> str:
    lines = ["------------ Options -------------"]
    lines += [f"{key}: {value}" for key, value in sorted(vars(opt).items())]
    lines.append("-------------- End ----------------")
    return "\n".join(lines)


def write_options(opt: argparse.Namespace) -> None:
    """Writes the options to `<checkpoints_dir>/<name>/opt.txt` (the folder is created)."""
    exp_dir = os.path.join(opt.checkpoints_dir, opt.name)
    os.makedirs(exp_dir, exist_ok=True)
    with open(os.path.join(exp_dir, "opt.txt"), "w") as f:
        f.write(options_text(opt) + "\n")
