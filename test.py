"""Render label videos with a trained vid2vid model (official test.py) and write mp4s and an HTML page.

`python test.py --name NAME --dataroot DIR [official flags]` writes, as the official code,
`results/NAME/<phase>_<which_epoch>/<seq>/real_A_<frame>.png|jpg` and `fake_B_<frame>.jpg` for the frames
tG-1 onward of each sequence (at most --how_many frames in all); then, unless --no_video,
`videos/<seq>.mp4`, `videos/<seq>_real_A_fake_B.mp4` and `index.html` in the same folder.
"""

from __future__ import annotations

import argparse
import glob
import os

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from data import create_dataloader
from models import checkpoints as ckpt
from models.networks.factory import define_single_frame_generator, single_frame_checkpoint_path
from models.vid2vid_generator import Vid2VidGenerator
from options.test_options import TestOptions
from trainer import select_device
from util.cli import run_main
from util.image import save_image, tensor2im, tensor2label
from util.results_page import SequenceResult, write_results_page
from util.video import side_by_side, write_mp4


def load_generator(opt: argparse.Namespace, device: torch.device) -> Vid2VidGenerator:
    """Builds G from the options and loads `<which_epoch>_net_G<s>.pth` strictly for every scale."""
    generator = Vid2VidGenerator(opt)
    directory = opt.load_pretrain or os.path.join(opt.checkpoints_dir, opt.name)
    for scale, net in enumerate(generator.scale_nets()):
        path = ckpt.network_path(directory, opt.which_epoch, f"G{scale}")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--name/--which_epoch: generator checkpoint '{path}' not found")
        ckpt.load_network(net, path)
    # Networks stay in training mode as in the official test: BatchNorm normalises with each frame's own
    # statistics, which is what official checkpoints were trained and evaluated with.
    return generator.to(device)


def load_single_frame_generator(opt: argparse.Namespace, device: torch.device) -> torch.nn.Module | None:
    """The pix2pixHD first-frame generator of --use_single_G, when the first frames need it."""
    if not opt.use_single_G or opt.no_first_img or opt.use_real_img:
        return None
    net = define_single_frame_generator(opt)
    path = single_frame_checkpoint_path(opt)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--use_single_G: single-image generator '{path}' not found")
    # pix2pixHD-trained files may lack the instance norms' running statistics, which training-mode
    # instance norm never reads
    ckpt.load_network(net, path, optional=("num_batches_tracked", "running_mean", "running_var"))
    return net.to(device)


def input_image(encoded: torch.Tensor, opt: argparse.Namespace) -> np.ndarray:
    """The picture of the newest input frame: colourised labels, or its first 1 or 3 channels."""
    if opt.label_nc:
        return tensor2label(encoded[: opt.label_nc], opt.label_nc)
    return tensor2im(encoded[: 3 if opt.input_nc == 3 else 1], normalize=False)


def write_videos(save_dir: str, sequences: list[str], real_ext: str, fps: float) -> list[SequenceResult]:
    """Makes the two mp4s of every sequence from the frames saved on disk (`real_A_<stem>.<real_ext>`)."""
    results = []
    for seq in tqdm(sequences, desc="videos", leave=False):
        fakes = sorted(glob.glob(os.path.join(save_dir, seq, "fake_B_*.jpg")))
        stems = [os.path.basename(f)[len("fake_B_"):-len(".jpg")] for f in fakes]
        reals = [os.path.join(save_dir, seq, f"real_A_{stem}.{real_ext}") for stem in stems]
        fake_frames = [np.asarray(Image.open(f).convert("RGB")) for f in fakes]
        video = os.path.join(save_dir, "videos", f"{seq}.mp4")
        pair = os.path.join(save_dir, "videos", f"{seq}_real_A_fake_B.mp4")
        write_mp4(fake_frames, video, fps)
        write_mp4([side_by_side(np.asarray(Image.open(r).convert("RGB")), f) for r, f in zip(reals, fake_frames)],
                  pair, fps)
        results.append(SequenceResult(name=seq, video=video, side_by_side=pair, frames=fakes))
    return results


def render(opt: argparse.Namespace) -> str:
    """Renders the test set; returns the results folder."""
    device = select_device(opt.gpu_ids)
    loader = create_dataloader(opt)
    generator = load_generator(opt, device)
    single_frame_G = load_single_frame_generator(opt, device)
    save_dir = os.path.join(opt.results_dir, opt.name, f"{opt.phase}_{opt.which_epoch}")
    n_frames = min(len(loader.dataset), opt.how_many)
    print(f"Doing {n_frames} frames")

    prev_frames = None
    sequences: list[str] = []
    real_ext = "png" if opt.label_nc else "jpg"
    for i, data in enumerate(tqdm(loader, total=n_frames, desc="frames")):
        if i >= opt.how_many:
            break
        A = data["A"].to(device)
        B = data["B"].to(device) if "B" in data else None
        inst = data["inst"].to(device) if "inst" in data else None
        is_first = prev_frames is None or bool(data["change_seq"])
        if is_first:
            prev_frames = generator.start_frames(A, B, opt.use_real_img, single_frame_G)
        fake, encoded, prev_frames = generator.inference(A, inst, prev_frames,
                                                         use_raw_only=opt.no_first_img and is_first)
        seq = os.path.basename(os.path.dirname(data["A_path"][0]))
        if not sequences or sequences[-1] != seq:
            sequences.append(seq)
        stem = os.path.splitext(os.path.basename(data["A_path"][0]))[0]
        save_image(input_image(encoded, opt), os.path.join(save_dir, seq, f"real_A_{stem}.{real_ext}"))
        save_image(tensor2im(fake), os.path.join(save_dir, seq, f"fake_B_{stem}.jpg"))

    if not opt.no_video and sequences:
        page = write_results_page(save_dir, write_videos(save_dir, sequences, real_ext, opt.fps))
        print(f"videos: {os.path.join(save_dir, 'videos')}\npage: {page}")
    return save_dir


def main(args: list[str] | None = None) -> None:
    render(TestOptions().parse(args))


if __name__ == "__main__":
    run_main(main)
