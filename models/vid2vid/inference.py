"""vid2vid at test time: G loaded from its checkpoints, started on each sequence, run one frame at a time."""

from __future__ import annotations

import argparse
import os

import torch

from models import checkpoints as ckpt
from models.networks.factory import define_single_frame_generator, single_frame_checkpoint_path
from models.vid2vid.first_frames import load_face_first_frame_model
from models.vid2vid.generator import Vid2VidGenerator
from util.image import input_picture
from util.precision import Precision
from util.state_dicts import load_weights_file

# pix2pixHD-trained files may lack the instance norms' running statistics, which training-mode instance
# norm never reads
_SINGLE_G_OPTIONAL_KEYS = ("num_batches_tracked", "running_mean", "running_var")


def load_generator(opt: argparse.Namespace, device: torch.device) -> Vid2VidGenerator:
    """Builds G from the options and loads `<which_epoch>_net_G<s>.pth` strictly for every scale.

    The files come from --load_pretrain when given, else from `<checkpoints_dir>/<name>`.
    """
    generator = Vid2VidGenerator(opt)
    directory = opt.load_pretrain or os.path.join(opt.checkpoints_dir, opt.name)
    for scale, net in enumerate(generator.scale_nets()):
        path = ckpt.network_path(directory, opt.which_epoch, f"G{scale}")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--name/--which_epoch: generator checkpoint '{path}' not found")
        load_weights_file(net, path)
    # Networks stay in training mode as in the official test: BatchNorm normalises with each frame's own
    # statistics, which is what official checkpoints were trained and evaluated with.
    return generator.to(device)


def load_single_frame_generator(opt: argparse.Namespace, device: torch.device) -> torch.nn.Module | None:
    """The first-frame generator of --use_single_G, when the first frames need it: pix2pixHD's for street
    data, the face model (models/vid2vid/first_frames.py) with --dataset_mode face."""
    if not opt.use_single_G or opt.no_first_img or opt.use_real_img:
        return None
    if opt.dataset_mode == "face":
        return load_face_first_frame_model(opt, device)
    net = define_single_frame_generator(opt)
    path = single_frame_checkpoint_path(opt)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--use_single_G: single-image generator '{path}' not found")
    load_weights_file(net, path, optional=_SINGLE_G_OPTIONAL_KEYS)
    return net.to(device)


class Vid2VidInference:
    """Renders the test windows of `data/test_dataset.py` in order, as the official test.py.

    Reads from opt what `load_generator` and `load_single_frame_generator` read, plus label_nc, input_nc,
    use_real_img, no_first_img, and fp16 / bf16 (generation under that autocast; the frames come out float32).
    """

    def __init__(self, opt: argparse.Namespace, device: torch.device) -> None:
        self.opt = opt
        self.device = device
        self.precision = Precision.from_options(opt, device)
        self.generator = load_generator(opt, device)
        self.single_frame_G = load_single_frame_generator(opt, device)
        self.prev_frames: list[torch.Tensor] | None = None

    @torch.inference_mode()
    def next_frame(self, data: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Generates the newest frame of one test item (a batch of one window).

        data: 'A' `(1, tG, C_A, H, W)`, optional 'B' and 'inst', 'change_seq'. Returns the generated frame
        `(1, 3, H, W)` in [-1, 1] and the encoded newest input `(C_in, H, W)`.
        """
        A = data["A"].to(self.device)
        B = data["B"].to(self.device) if "B" in data else None
        inst = data["inst"].to(self.device) if "inst" in data else None
        is_first = self.prev_frames is None or bool(data["change_seq"])
        with self.precision.autocast():
            if is_first:
                self.prev_frames = self.generator.start_frames(A, B, self.opt.use_real_img, self.single_frame_G,
                                                               inst)
            fake, encoded, self.prev_frames = self.generator.inference(
                A, inst, self.prev_frames, use_raw_only=self.opt.no_first_img and is_first)
        return fake.float(), encoded.float()

    def input_picture(self, encoded: torch.Tensor):
        """The saved picture of an encoded input frame (official test rule, see util.image.input_picture)."""
        return input_picture(encoded, self.opt.label_nc, self.opt.input_nc, for_test=True)
