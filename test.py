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
from PIL import Image
from tqdm import tqdm

from data import create_dataloader
from models import create_inference_model
from options.test_options import TestOptions
from util.cli import run_main
from util.image import save_image, tensor2im
from util.results_page import SequenceResult, write_results_page
from util.runtime import select_device
from util.video import side_by_side, write_mp4


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
    model = create_inference_model(opt, device)
    save_dir = os.path.join(opt.results_dir, opt.name, f"{opt.phase}_{opt.which_epoch}")
    n_frames = min(len(loader.dataset), opt.how_many)
    print(f"Doing {n_frames} frames")

    sequences: list[str] = []
    real_ext = "png" if opt.label_nc else "jpg"
    for i, data in enumerate(tqdm(loader, total=n_frames, desc="frames")):
        if i >= opt.how_many:
            break
        fake, encoded = model.next_frame(data)
        seq = os.path.basename(os.path.dirname(data["A_path"][0]))
        if not sequences or sequences[-1] != seq:
            sequences.append(seq)
        stem = os.path.splitext(os.path.basename(data["A_path"][0]))[0]
        save_image(model.input_picture(encoded), os.path.join(save_dir, seq, f"real_A_{stem}.{real_ext}"))
        save_image(tensor2im(fake), os.path.join(save_dir, seq, f"fake_B_{stem}.jpg"))

    if not opt.no_video and sequences:
        page = write_results_page(save_dir, write_videos(save_dir, sequences, real_ext, opt.fps))
        print(f"videos: {os.path.join(save_dir, 'videos')}\npage: {page}")
    return save_dir


def main(args: list[str] | None = None) -> None:
    render(TestOptions().parse(args))


if __name__ == "__main__":
    run_main(main)
