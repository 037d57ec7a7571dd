"""What every vid2vid dataset shares: spatial parameters, transforms, training windows, checks.

Spatial parameters (`get_img_params`) are drawn once per item from the first frame's size and applied to
every frame of the item, so a video is resized, cropped and flipped consistently. The random draws use
Python's `random` and NumPy's global generators in the official order, so seeding both repeats them.
"""

from __future__ import annotations

import argparse
import os
import random
from collections.abc import Callable, Iterable
from functools import partial
from typing import NamedTuple

import numpy as np
import torch
import torch.utils.data
import torchvision.transforms as transforms
from PIL import Image

from data.image_folder import make_grouped_dataset, sequence_name

# Sequence lengths never grow past this many frames (official cap in update_training_batch).
MAX_SEQUENCE_LENGTH = 128


class BaseDataset(torch.utils.data.Dataset):
    """Base class of the datasets found by `--dataset_mode`.

    Subclasses set `seq_len_max` (frames in the longest sequence) and `n_frames_total` (the current
    number N of frames a training item generates) when they use `update_training_batch`.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__()
        self.opt = opt
        self.seq_len_max = 0
        self.n_frames_total = 1

    def update_training_batch(self, ratio: int) -> None:
        """Grows N to `opt.n_frames_total * 2**ratio`, capped by the longest sequence (and 128) minus tG-1."""
        cap = min(MAX_SEQUENCE_LENGTH, self.seq_len_max) - (self.opt.n_frames_G - 1)
        if self.n_frames_total < cap:
            self.n_frames_total = min(cap, self.opt.n_frames_total * 2**ratio)
            print(f"--------- Updating training sequence length to {self.n_frames_total} ---------")


# ----------------------------------------------------------------------------------------------------
# Folders and checks


def find_sequences(opt: argparse.Namespace, suffix: str, needed_by: str = "") -> tuple[str, list[list[str]]]:
    """Returns `<dataroot>/<phase>_<suffix>` and its sequences (lists of frame paths).

    `needed_by` names the flag that asks for the folder, for the error message. Raises
    FileNotFoundError when the folder is missing or holds no frames.
    """
    folder = os.path.join(opt.dataroot, f"{opt.phase}_{suffix}")
    if not os.path.isdir(folder):
        reason = f", needed by {needed_by}" if needed_by else ""
        raise FileNotFoundError(f"missing folder {folder} (from --dataroot {opt.dataroot} and --phase "
                                f"{opt.phase}{reason})")
    sequences = make_grouped_dataset(folder)
    if not sequences:
        raise FileNotFoundError(f"no frames in {folder}: expected one sub-folder of images per video")
    return folder, sequences


def cap_sequences(sequences: list[list[str]], max_dataset_size: float) -> list[list[str]]:
    """The first `max_dataset_size` sequences (the option defaults to infinity)."""
    return sequences[: int(min(len(sequences), max_dataset_size))]


def check_sequence_lengths(folder: str, sequences: list[list[str]], n_frames_G: int) -> None:
    """Raises ValueError when a sequence is shorter than the tG frames the generator needs."""
    for frames in sequences:
        if len(frames) < n_frames_G:
            raise ValueError(f"sequence {sequence_name(frames, folder)} in {folder} has {len(frames)} "
                             f"frames; --n_frames_G {n_frames_G} needs at least {n_frames_G}")


def check_frame_sizes(opt: argparse.Namespace, paths: Iterable[str]) -> None:
    """Runs `check_frame_size` once per distinct image size among `paths` (file headers only)."""
    first_path_of_size: dict[tuple[int, int], str] = {}
    for path in paths:
        first_path_of_size.setdefault(image_size(path), path)
    for size, path in first_path_of_size.items():
        check_frame_size(opt, size, path)


def check_frame_size(opt: argparse.Namespace, size: tuple[int, int], path: str) -> None:
    """Checks that an image of `size` (w, h) becomes frames the generator can take.

    The coarsest generator sees the frame downsampled n_scales_spatial-1 times and then applies
    n_downsample_G stride-2 convolutions, and its skip additions need every level to halve exactly, so
    H and W must be multiples of 2**(n_downsample_G + n_scales_spatial - 1). Raises ValueError naming
    the size, the divisor and sizes that would work.
    """
    mode = opt.resize_or_crop
    if _is_random_scale(mode) and opt.fineSize > opt.loadSize + 1:
        raise ValueError(f"--resize_or_crop {mode} draws the scaled side from [--fineSize, --loadSize + 1]: "
                         f"--fineSize {opt.fineSize} must not exceed --loadSize {opt.loadSize} + 1")
    divisor = generator_divisor(opt)
    bad = sorted(s for s in possible_output_sizes(opt, size) if not _divisible(s, divisor))
    if bad:
        width, height = bad[0]
        fine = f" --fineSize {opt.fineSize}" if _has_crop(mode) or _is_random_scale(mode) else ""
        raise ValueError(f"{path}: frames of {width}x{height} (WxH) after --resize_or_crop {mode} "
                         f"--loadSize {opt.loadSize}{fine} are not divisible by {divisor} = "
                         f"2**(n_downsample_G + n_scales_spatial - 1); {_suggest_sizes(opt, size, divisor)}")


def generator_divisor(opt: argparse.Namespace) -> int:
    """What H and W must be multiples of for the coarse-to-fine generator."""
    return 2 ** (opt.n_downsample_G + opt.n_scales_spatial - 1)


def _divisible(size: tuple[int, int], divisor: int) -> bool:
    return all(side > 0 and side % divisor == 0 for side in size)


def _suggest_sizes(opt: argparse.Namespace, size: tuple[int, int], divisor: int) -> str:
    """The nearest --loadSize (then, in crop modes, --fineSize) that makes every possible frame size fit.

    Multiples of the divisor are tried first because they are the sizes a user would pick.
    """
    def works(load: int, fine: int) -> bool:
        if load < 1 or fine < 1 or (_is_random_scale(opt.resize_or_crop) and fine > load + 1):
            return False
        trial = argparse.Namespace(**{**vars(opt), "loadSize": load, "fineSize": fine})
        return all(_divisible(s, divisor) for s in possible_output_sizes(trial, size))

    def nearest(value: int, step: int) -> list[int]:
        """Candidates within [value / 2, 2 * value + divisor], nearest first."""
        first = -(-max(1, value // 2) // step) * step  # the lower bound rounded up to a multiple of step
        return sorted(range(first, 2 * value + divisor, step), key=lambda c: (abs(c - value), c))

    for step in (divisor, 1):
        for load in nearest(opt.loadSize, step):
            if works(load, opt.fineSize):
                return f"try --loadSize {load}"
    if _has_crop(opt.resize_or_crop):
        for fine in nearest(opt.fineSize, divisor):
            # A crop larger than the scaled image does nothing, so also try raising --loadSize with it.
            for load in dict.fromkeys((opt.loadSize, max(opt.loadSize, fine))):
                if works(load, fine):
                    load_flag = f"--loadSize {load} " if load != opt.loadSize else ""
                    return f"try {load_flag}--fineSize {fine}"
    return f"choose --loadSize and --fineSize so that both frame sides are multiples of {divisor}"


# ----------------------------------------------------------------------------------------------------
# Spatial parameters and transforms


def make_power_2(n: float, base: int = 32) -> int:
    """`n` rounded to the nearest multiple of `base` (Python rounding: halves go to the even multiple)."""
    return int(round(n / base) * base)


def _is_random_scale(mode: str) -> bool:
    return "randomScaleWidth" in mode or "randomScaleHeight" in mode


def _has_crop(mode: str) -> bool:
    return "crop" in mode or "scaledCrop" in mode


def _scaled_size(opt: argparse.Namespace, w: int, h: int, random_side: int | None) -> tuple[int, int]:
    """The resized (w, h) before cropping, rounded to multiples of 4; `random_side` for randomScale modes."""
    mode = opt.resize_or_crop
    new_w, new_h = w, h
    if "resize" in mode:
        new_w = new_h = opt.loadSize
    elif "scaleWidth" in mode:
        new_w, new_h = opt.loadSize, opt.loadSize * h // w
    elif "scaleHeight" in mode:
        new_w, new_h = opt.loadSize * w // h, opt.loadSize
    elif "randomScaleWidth" in mode:
        new_w, new_h = random_side, random_side * h // w
    elif "randomScaleHeight" in mode:
        new_w, new_h = random_side * w // h, random_side
    return int(round(new_w / 4)) * 4, int(round(new_h / 4)) * 4


def _crop_size(opt: argparse.Namespace, w: int, h: int) -> tuple[int, int]:
    """The crop (w, h) in multiples of 32; `scaledCrop` keeps the original aspect ratio."""
    mode = opt.resize_or_crop
    if "crop" in mode:
        crop_w = crop_h = opt.fineSize
    elif "Width" in mode:
        crop_w, crop_h = opt.fineSize, opt.fineSize * h // w
    else:
        crop_w, crop_h = opt.fineSize * w // h, opt.fineSize
    return make_power_2(crop_w), make_power_2(crop_h)


def get_img_params(opt: argparse.Namespace, size: tuple[int, int]) -> dict:
    """Draws the spatial parameters for an image of `size` (w, h).

    Returns {'new_size': (w, h) after scaling, 'crop_size': (w, h), 'crop_pos': (x, y), 'flip': bool}.
    Without a crop the scaled sides are rounded to multiples of 32; the crop x is Gaussian around the
    centre, and the crop y is uniform over at most the top eighth of the image.
    """
    w, h = size
    mode = opt.resize_or_crop
    random_side = random.randint(opt.fineSize, opt.loadSize + 1) if _is_random_scale(mode) else None
    new_w, new_h = _scaled_size(opt, w, h, random_side)
    crop_w = crop_h = crop_x = crop_y = 0
    if _has_crop(mode):
        crop_w, crop_h = _crop_size(opt, w, h)
        x_span = (new_w - crop_w) // 2
        crop_x = max(0, min(2 * x_span, int(np.random.randn() * x_span / 3 + x_span)))
        crop_y = random.randint(0, min(max(0, new_h - crop_h), new_h // 8))
    else:
        new_w, new_h = make_power_2(new_w), make_power_2(new_h)
    # Mirroring a person would swap the left/right body-part labels of DensePose and OpenPose.
    flip = random.random() > 0.5 and opt.dataset_mode != "pose"
    return {"new_size": (new_w, new_h), "crop_size": (crop_w, crop_h), "crop_pos": (crop_x, crop_y),
            "flip": flip}


def possible_output_sizes(opt: argparse.Namespace, size: tuple[int, int]) -> set[tuple[int, int]]:
    """Every (W, H) the transform can give an image of `size`: several only for randomScale modes."""
    w, h = size
    mode = opt.resize_or_crop
    sides = range(opt.fineSize, opt.loadSize + 2) if _is_random_scale(mode) else [None]
    sizes = set()
    for side in sides:
        new_w, new_h = _scaled_size(opt, w, h, side)
        if "resize" in mode:  # the official Scale((loadSize, loadSize)) ignores the rounded new_size
            new_w = new_h = opt.loadSize
        if _has_crop(mode):
            crop_w, crop_h = _crop_size(opt, w, h)
            sizes.add((min(new_w, crop_w), min(new_h, crop_h)))
        elif "resize" in mode:
            sizes.add((new_w, new_h))
        else:
            sizes.add((make_power_2(new_w), make_power_2(new_h)))
    return sizes


def _resize(img: Image.Image, size: tuple[int, int], method: int) -> Image.Image:
    return img.resize(size, method)


def _crop(img: Image.Image, size: tuple[int, int], pos: tuple[int, int]) -> Image.Image:
    """Crops only an image larger than the crop in some side; the box is clipped to the image."""
    (width, height), (crop_w, crop_h), (x, y) = img.size, size, pos
    if width > crop_w or height > crop_h:
        return img.crop((x, y, min(width, x + crop_w), min(height, y + crop_h)))
    return img


def _flip(img: Image.Image, flip: bool) -> Image.Image:
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if flip else img


def get_transform(opt: argparse.Namespace, params: dict, method: int = Image.BICUBIC, normalize: bool = True,
                  to_tensor: bool = True) -> Callable:
    """The per-frame transform: resize, crop, flip (training only), then ToTensor and Normalize(0.5, 0.5).

    Use `method=Image.NEAREST, normalize=False` for label and instance maps. With `to_tensor=False` it
    returns the PIL image; otherwise a (C, H, W) float tensor in [0, 1], or [-1, 1] with `normalize`.
    """
    size = (opt.loadSize, opt.loadSize) if "resize" in opt.resize_or_crop else params["new_size"]
    # partial rather than lambda keeps the transform picklable for spawned DataLoader workers.
    steps: list[Callable] = [partial(_resize, size=size, method=method)]
    if _has_crop(opt.resize_or_crop):
        steps.append(partial(_crop, size=params["crop_size"], pos=params["crop_pos"]))
    if opt.isTrain and not opt.no_flip:
        steps.append(partial(_flip, flip=params["flip"]))
    if to_tensor:
        steps.append(transforms.ToTensor())
    if normalize:
        # One mean/std broadcast over every channel, so 1-, 3- and 4-channel images all work.
        steps.append(transforms.Normalize((0.5,), (0.5,)))
    return transforms.Compose(steps)


# ----------------------------------------------------------------------------------------------------
# Reading files


def load_image(path: str) -> Image.Image:
    """Opens and decodes an image; ValueError naming the path when it is missing, unreadable or corrupt."""
    try:
        with Image.open(path) as img:
            img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(f"cannot read image {path}: {err}") from err
    return img


def image_size(path: str) -> tuple[int, int]:
    """The (w, h) of an image, read from its header; ValueError naming the path when unreadable."""
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(f"cannot read image {path}: {err}") from err


def load_id_map(path: str, transform: Callable) -> torch.Tensor:
    """A label or instance map as (1, H, W) float ids, exactly as stored in the file.

    `transform` must return a PIL image (NEAREST, `to_tensor=False`). The official ToTensor-then-×255
    gives the same values for 8-bit maps; reading the array directly also keeps 16-bit ids intact.
    """
    img = load_image(path)
    if len(img.getbands()) != 1:
        raise ValueError(f"{path}: a label or instance map must have one channel, found mode {img.mode}")
    return torch.from_numpy(np.array(transform(img), dtype=np.float32))[None]


# ----------------------------------------------------------------------------------------------------
# Training windows


class VideoWindow(NamedTuple):
    """Which frames one training item reads: `start + k * t_step` for k < n_frames_load."""

    n_frames: int  # N: frames generated (after clamping to the sequence)
    frames_per_chunk: int  # L: frames generated per forward pass
    n_chunks: int  # K = N // L
    n_frames_load: int  # T_load = L*K + tG - 1
    start: int
    t_step: int


def frames_per_chunk(opt: argparse.Namespace, n_frames: int) -> int:
    """L: max_frames_per_gpu times the generator GPUs that one sequence gets, at most `n_frames`.

    The trainer should split the loaded frames with this same function, so that the dataset and the
    generator agree on the chunking. On the CPU (n_gpus_gen 0) it counts one device.
    """
    n_gpus = opt.n_gpus_gen if opt.batchSize == 1 else 1
    return min(n_frames, opt.max_frames_per_gpu * max(1, n_gpus))


def get_video_params(opt: argparse.Namespace, n_frames_total: int, seq_len: int, index: int) -> VideoWindow:
    """The window of one item of a `seq_len`-frame video, with N = `n_frames_total` frames wanted.

    Training: N is clamped to seq_len - tG + 1 and rounded down to whole chunks; t_step is uniform in
    1..max_t_step (reduced so the window fits) and start is uniform over the valid offsets, or
    `index % offsets` in pose mode. Otherwise: tG frames from `index` with step 1.
    """
    tG = opt.n_frames_G
    if not opt.isTrain:
        return VideoWindow(1, 1, 1, tG, index, 1)
    n_frames = min(n_frames_total, seq_len - tG + 1)
    chunk = frames_per_chunk(opt, n_frames)
    n_chunks = n_frames // chunk
    n_load = chunk * n_chunks + tG - 1
    # max(1, ...) only guards the degenerate one-frame window, where the step does not matter.
    max_t_step = max(1, min(opt.max_t_step, (seq_len - 1) // max(1, n_load - 1)))
    t_step = np.random.randint(max_t_step) + 1
    offset_max = max(1, seq_len - (n_load - 1) * t_step)
    start = index % offset_max if opt.dataset_mode == "pose" else np.random.randint(offset_max)
    if opt.debug:
        print(f"loading {n_load} frames in total, first frame starting at index {start}, "
              f"space between neighboring frames is {t_step}")
    return VideoWindow(n_frames, chunk, n_chunks, n_load, int(start), int(t_step))
