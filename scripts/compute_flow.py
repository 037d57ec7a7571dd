"""Computes optical flow with the training estimator (FlowNet2 or DIS) and writes Middlebury .flo files.

Pair mode:     python scripts/compute_flow.py --image1 A.png --image2 B.png --output OUT.flo [--visualize]
    writes the flow exactly as the estimator returns it for (image1, image2): warp(image2, flow) ≈ image1.
Dataset mode:  python scripts/compute_flow.py --dataroot datasets/Cityscapes --phase train [--cache_dir D]
    for every sequence of <dataroot>/<phase>_B (or <phase>_img) and every frame t >= 1, writes
    <cache_dir>/<sequence>/<frame t's name>.flo = estimator(frame t, frame t-1), the (current, previous)
    direction the trainer uses. The default cache_dir is <dataroot>/<phase>_flow.
--visualize also writes a colour-wheel PNG next to each .flo file.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, UnidentifiedImageError  # noqa: E402
from tqdm import tqdm  # noqa: E402

from models.flow.estimator import create_flow_estimator  # noqa: E402
from options.base_options import DEFAULT_FLOWNET_CHECKPOINT  # noqa: E402
from util.flo import write_flo  # noqa: E402
from util.flow_vis import flow_to_color  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image1", help="pair mode: the first frame (flow is computed for its pixels)")
    p.add_argument("--image2", help="pair mode: the second frame")
    p.add_argument("--output", help="pair mode: the .flo file to write (its folder must exist)")
    p.add_argument("--dataroot", help="dataset mode: the dataset folder")
    p.add_argument("--phase", default="train", help="dataset mode: frames come from <phase>_B or <phase>_img")
    p.add_argument("--cache_dir", help="dataset mode: output folder (default <dataroot>/<phase>_flow)")
    p.add_argument("--visualize", action="store_true", help="also write colour-wheel PNGs of the flows")
    p.add_argument("--flownet", default="flownet2", choices=["flownet2", "dis"], help="flow estimator")
    p.add_argument("--flownet_checkpoint", default=DEFAULT_FLOWNET_CHECKPOINT,
                   help="FlowNet2_checkpoint.pth.tar of the official scripts")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="torch device to run the estimator on")
    args = p.parse_args(argv)
    pair = [args.image1, args.image2, args.output]
    if args.dataroot is None and None in pair:
        p.error("give --image1, --image2 and --output (pair mode), or --dataroot (dataset mode)")
    if args.dataroot is not None and any(v is not None for v in pair):
        p.error("--dataroot cannot be combined with --image1/--image2/--output")
    return args


def load_image(path: str) -> torch.Tensor:
    """An image file -> `(1, 3, H, W)` RGB in [-1, 1], as vid2vid's transforms produce."""
    try:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{path}: not a readable image file ({type(err).__name__})") from None
    return torch.from_numpy(rgb / 127.5 - 1).permute(2, 0, 1).unsqueeze(0)


def save_flow(flow: torch.Tensor, path: str, visualize: bool) -> None:
    """Writes `(1, 2, H, W)` flow to `path` (.flo) and, with `visualize`, a PNG of the same name."""
    array = flow[0].permute(1, 2, 0).cpu().numpy()
    write_flo(path, array)
    if visualize:
        Image.fromarray(flow_to_color(array)).save(os.path.splitext(path)[0] + ".png")


def find_sequences(root: str) -> list[list[str]]:
    """Every folder under `root` that directly holds images is one sequence: its sorted image paths."""
    sequences = []
    for folder, _, files in os.walk(root):
        frames = sorted(os.path.join(folder, f) for f in files if f.lower().endswith(IMAGE_EXTENSIONS))
        if frames:
            sequences.append(frames)
    return sorted(sequences)


def run_pair(args: argparse.Namespace) -> None:
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"--output {args.output}: the folder {folder} does not exist")
    im1, im2 = load_image(args.image1), load_image(args.image2)
    if im1.shape != im2.shape:
        raise ValueError(f"--image1 {args.image1} is {im1.shape[3]}x{im1.shape[2]} but --image2 "
                         f"{args.image2} is {im2.shape[3]}x{im2.shape[2]}; expected frames of the same size")
    estimator = create_flow_estimator(args.flownet, args.flownet_checkpoint).to(args.device)
    flow, _ = estimator(im1.to(args.device), im2.to(args.device))
    save_flow(flow, args.output, args.visualize)


def run_dataset(args: argparse.Namespace) -> None:
    roots = [os.path.join(args.dataroot, f"{args.phase}_{kind}") for kind in ("B", "img")]
    root = next((r for r in roots if os.path.isdir(r)), None)
    if root is None:
        raise FileNotFoundError(f"--dataroot {args.dataroot}: found neither {roots[0]} nor {roots[1]} "
                                f"(expected a folder of RGB frame sequences)")
    sequences = find_sequences(root)
    if not sequences:
        raise FileNotFoundError(f"{root}: no image sequences found")
    cache_dir = args.cache_dir or os.path.join(args.dataroot, f"{args.phase}_flow")
    estimator = create_flow_estimator(args.flownet, args.flownet_checkpoint).to(args.device)
    with tqdm(total=sum(len(frames) - 1 for frames in sequences), unit="pair") as progress:
        for frames in sequences:
            out_dir = os.path.join(cache_dir, os.path.relpath(os.path.dirname(frames[0]), root))
            os.makedirs(out_dir, exist_ok=True)
            previous = load_image(frames[0]).to(args.device)
            for path in frames[1:]:
                current = load_image(path).to(args.device)
                if current.shape != previous.shape:
                    raise ValueError(f"{path}: its size differs from the previous frame of its sequence")
                flow, _ = estimator(current, previous)
                name = os.path.splitext(os.path.basename(path))[0] + ".flo"
                save_flow(flow, os.path.join(out_dir, name), args.visualize)
                previous = current
                progress.update()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.dataroot is not None:
            run_dataset(args)
        else:
            run_pair(args)
    except (ValueError, OSError) as err:
        print(f"compute_flow.py: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
