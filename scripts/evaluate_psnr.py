"""PSNR (and SSIM) of rendered test frames against the ground truth, for a trained model and two baselines.

Usage, from the repository root, with the flags test.py was run with:
    python scripts/evaluate_psnr.py --name demo_street --dataroot datasets/synthetic_street --use_real_img \\
        [model flags: --label_nc 35 --use_instance --fg --ngf 16 ...] [--untrained] [--copy_frame] \\
        [--markdown table.md] [--json table.json]

Rows of the table:
- trained: the frames `<results_dir>/<name>/<phase>_<which_epoch>/<seq>/fake_B_<stem>.jpg` that test.py wrote
  (rendered now, without videos, when there are none), against `<dataroot>/<phase>_B/<seq>/<stem>.*`;
- untrained (--untrained): a generator of the same options with its random initialisation (seeded by --seed,
  default 0), saved as a checkpoint in a temporary folder and rendered by test.py's own code;
- copy frame (--copy_frame): the last real frame the model is given (frame tG-2 of each sequence, with
  --use_real_img) repeated, i.e. what a model that never moves anything would score.
Every row is scored on the same frames (those the trained model rendered). PSNR is per frame over all pixels
and the three channels of 8-bit RGB, 10 log10(255^2 / MSE); SSIM is the usual one (Wang et al. 2004: 11x11
Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03) per RGB channel, averaged. The table gives their means
over all frames of all sequences. PSNR, a mean squared error, rewards a blurred average of the likely frames
as much as a sharp plausible one; SSIM, which compares local structure, tells them apart better. A
ground-truth frame of another size than the rendered one is resized to it (bicubic).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import glob
import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

# scripts/ is not a package: make the repository's modules importable when run as a plain script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import test as test_script  # noqa: E402
from models import checkpoints as ckpt  # noqa: E402
from models.vid2vid.generator import Vid2VidGenerator  # noqa: E402
from options.test_options import TestOptions  # noqa: E402


def psnr(fake: np.ndarray, real: np.ndarray) -> float:
    """PSNR in dB of two uint8 images of the same shape (inf when they are equal)."""
    mse = np.mean((fake.astype(np.float64) - real.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def ssim(fake: np.ndarray, real: np.ndarray) -> float:
    """Mean SSIM of two uint8 `(H, W, 3)` images (Gaussian window 11x11, sigma 1.5; per channel, averaged)."""
    a, b = fake.astype(np.float64), real.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b, cov = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2, blur(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


def scores(fake: np.ndarray, real: np.ndarray) -> tuple[float, float]:
    """(PSNR, SSIM) of one frame."""
    return psnr(fake, real), ssim(fake, real)


def load_rgb(path: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """`path` as uint8 RGB, resized (bicubic) to `size` = (width, height) when given and different."""
    image = Image.open(path).convert("RGB")
    if size is not None and image.size != size:
        image = image.resize(size, Image.BICUBIC)
    return np.asarray(image)


def ground_truth_path(dataroot: str, phase: str, seq: str, stem: str) -> str:
    """`<dataroot>/<phase>_B/<seq>/<stem>.<any extension>`."""
    matches = sorted(glob.glob(os.path.join(glob.escape(os.path.join(dataroot, f"{phase}_B", seq, stem))) + ".*"))
    if not matches:
        raise FileNotFoundError(f"no ground truth for {seq}/{stem} in {os.path.join(dataroot, f'{phase}_B', seq)}")
    return matches[0]


def rendered_frames(save_dir: str) -> dict[str, list[str]]:
    """seq -> the stems of its fake_B frames in `save_dir`, in order."""
    frames = {}
    for seq in sorted(os.listdir(save_dir)) if os.path.isdir(save_dir) else []:
        fakes = sorted(glob.glob(os.path.join(glob.escape(os.path.join(save_dir, seq)), "fake_B_*.jpg")))
        if fakes:
            frames[seq] = [os.path.basename(f)[len("fake_B_"): -len(".jpg")] for f in fakes]
    return frames


def score_rendered(save_dir: str, frames: dict[str, list[str]], dataroot: str,
                   phase: str) -> list[tuple[float, float]]:
    """Per-frame (PSNR, SSIM) of `<save_dir>/<seq>/fake_B_<stem>.jpg` for the given frames."""
    result = []
    for seq, stems in frames.items():
        for stem in stems:
            fake = load_rgb(os.path.join(save_dir, seq, f"fake_B_{stem}.jpg"))
            real = load_rgb(ground_truth_path(dataroot, phase, seq, stem), (fake.shape[1], fake.shape[0]))
            result.append(scores(fake, real))
    return result


def score_copy_frame(frames: dict[str, list[str]], dataroot: str, phase: str, n_frames_G: int,
                     size: tuple[int, int]) -> list[tuple[float, float]]:
    """Per-frame (PSNR, SSIM) of repeating frame tG-2 of each sequence (the last real frame the model is given)."""
    result = []
    for seq, stems in frames.items():
        all_stems = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(dataroot, f"{phase}_B", seq)))
        given = load_rgb(ground_truth_path(dataroot, phase, seq, all_stems[n_frames_G - 2]), size)
        for stem in stems:
            result.append(scores(given, load_rgb(ground_truth_path(dataroot, phase, seq, stem), size)))
    return result


def render_untrained(opt: argparse.Namespace, seed: int, quiet: bool = True) -> tuple[str, tempfile.TemporaryDirectory]:
    """Saves a randomly initialised generator of `opt` as `latest` in a temporary experiment folder and renders
    the test set with it (frames only). Returns the frames' folder and the temporary folder to clean up."""
    tmp = tempfile.TemporaryDirectory(prefix="untrained_")
    untrained = copy.deepcopy(opt)
    untrained.checkpoints_dir = os.path.join(tmp.name, "checkpoints")
    untrained.results_dir = os.path.join(tmp.name, "results")
    untrained.load_pretrain = ""
    untrained.which_epoch = "latest"
    untrained.no_video = True
    torch.manual_seed(seed)
    generator = Vid2VidGenerator(untrained)
    for scale, net in enumerate(generator.scale_nets()):
        ckpt.save_network(net, ckpt.network_path(os.path.join(untrained.checkpoints_dir, opt.name), "latest",
                                                 f"G{scale}"))
    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
        save_dir = test_script.render(untrained)
    return save_dir, tmp


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def markdown_table(rows: list[dict]) -> str:
    lines = ["| model | PSNR (dB) | SSIM | frames |", "|---|---:|---:|---:|"]
    lines += [f"| {row['model']} | {row['psnr']:.2f} | {row['ssim']:.3f} | {row['frames']} |" for row in rows]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, argparse.Namespace]:
    """This script's own flags, then the test options built from every other flag."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Every other flag is a test.py flag (see options/test_options.py).")
    parser.add_argument("--untrained", action="store_true", help="add a row for the randomly initialised model")
    parser.add_argument("--copy_frame", action="store_true", help="add a row for repeating the last real frame")
    parser.add_argument("--init_seed", type=int, default=0, help="seed of the untrained model's initialisation")
    parser.add_argument("--markdown", default="", help="also write the table to this file")
    parser.add_argument("--json", default="", help="also write the rows (with per-sequence means) as JSON")
    own, rest = parser.parse_known_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # TestOptions prints every option
        opt = TestOptions().parse(rest)
    return own, opt


def evaluate(own: argparse.Namespace, opt: argparse.Namespace) -> list[dict]:
    """The table rows: model, psnr and ssim (means over frames), frames, per_sequence (seq -> means)."""
    save_dir = os.path.join(opt.results_dir, opt.name, f"{opt.phase}_{opt.which_epoch}")
    frames = rendered_frames(save_dir)
    if not frames:
        print(f"no rendered frames in {save_dir}: rendering them with test.py (no videos)")
        rendering = copy.deepcopy(opt)
        rendering.no_video = True
        test_script.render(rendering)
        frames = rendered_frames(save_dir)
    if not frames:
        raise SystemExit(f"test.py rendered no frames into {save_dir}")

    Scores = list[tuple[float, float]]

    def row(model: str, values: Scores, by_seq: dict[str, Scores]) -> dict:
        return {"model": model, "psnr": mean([p for p, _ in values]), "ssim": mean([s for _, s in values]),
                "frames": len(values),
                "per_sequence": {seq: {"psnr": mean([p for p, _ in v]), "ssim": mean([s for _, s in v])}
                                 for seq, v in by_seq.items()}}

    def per_sequence(score: Callable[[dict[str, list[str]]], Scores]) -> tuple[Scores, dict[str, Scores]]:
        by_seq = {seq: score({seq: stems}) for seq, stems in frames.items()}
        return [s for values in by_seq.values() for s in values], by_seq

    rows = [row(f"trained ({opt.name}, {opt.which_epoch})",
                *per_sequence(lambda f: score_rendered(save_dir, f, opt.dataroot, opt.phase)))]
    if own.untrained:
        untrained_dir, tmp = render_untrained(opt, own.init_seed)
        with tmp:
            rows.append(row(f"untrained (random init, seed {own.init_seed})",
                            *per_sequence(lambda f: score_rendered(untrained_dir, f, opt.dataroot, opt.phase))))
    if own.copy_frame:
        seq, stems = next(iter(frames.items()))
        height, width = Image.open(os.path.join(save_dir, seq, f"fake_B_{stems[0]}.jpg")).size[::-1]
        rows.append(row(f"copy the last real input frame (frame {opt.n_frames_G - 2})",
                        *per_sequence(lambda f: score_copy_frame(f, opt.dataroot, opt.phase, opt.n_frames_G,
                                                                 (width, height)))))
    return rows


def main(argv: list[str] | None = None) -> None:
    own, opt = parse_args(argv)
    if opt.no_first_img or not opt.use_real_img:
        print("note: without --use_real_img the first frames are not the ground truth's; "
              "the copy-frame row still repeats the real frame tG-2")
    rows = evaluate(own, opt)
    table = markdown_table(rows)
    n_seq = len(rows[0]["per_sequence"])
    truth = os.path.join(opt.dataroot, opt.phase + "_B")
    print(f"\nPSNR and SSIM against {truth} ({n_seq} sequences), means over frames:\n")
    print(table)
    if own.markdown:
        Path(own.markdown).write_text(table + "\n", encoding="utf-8")
    if own.json:
        Path(own.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
