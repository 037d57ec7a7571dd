"""Spatial parameters and per-frame transforms: resize, crop and flip, shared by every frame of an item.

`get_img_params` draws the parameters once per item from the first frame's size; `get_transform` turns
them into a per-frame transform, so a whole video is resized, cropped and flipped consistently. The random
draws use Python's `random` and NumPy's global generators in the official order, so seeding both repeats
them. Sizes are (w, h) as PIL gives them; tensors are (C, H, W).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from PIL import Image


def make_power_2(n: float, base: int = 32) -> int:
    """`n` rounded to the nearest multiple of `base` (Python rounding: halves go to the even multiple)."""
    return int(round(n / base) * base)


def is_random_scale(mode: str) -> bool:
    """True for the --resize_or_crop modes that draw the scaled side at random."""
    return "randomScaleWidth" in mode or "randomScaleHeight" in mode


def has_crop(mode: str) -> bool:
    """True for the --resize_or_crop modes that crop (`crop`, or the capital-C `scaledCrop`)."""
    return "crop" in mode or "scaledCrop" in mode


def scaled_size(opt: argparse.Namespace, w: int, h: int, random_side: int | None) -> tuple[int, int]:
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


def crop_size(opt: argparse.Namespace, w: int, h: int) -> tuple[int, int]:
    """The crop (w, h) in multiples of 32; `scaledCrop` keeps the original aspect ratio."""
    mode = opt.resize_or_crop
    if "crop" in mode:
        crop_w = crop_h = opt.fineSize
    elif "Width" in mode:
        crop_w, crop_h = opt.fineSize, opt.fineSize * h // w
    else:
        crop_w, crop_h = opt.fineSize * w // h, opt.fineSize
    return make_power_2(crop_w), make_power_2(crop_h)


def central_crop_bounds(width: int) -> tuple[int, int]:
    """The columns [x0, x1) that the pose mode keeps of a frame `width` wide: the centre plus and minus
    (int(width / 4) // 32) * 32, so about half the width, in multiples of 64 (official; none below 128)."""
    half = int(width * 0.25) // 32 * 32
    return width // 2 - half, width // 2 + half


def central_crop(frame: torch.Tensor) -> torch.Tensor:
    """`(..., H, W)` -> `(..., H, W')`: the pose mode's central columns, applied after the transforms."""
    x0, x1 = central_crop_bounds(frame.shape[-1])
    return frame[..., x0:x1]


def get_img_params(opt: argparse.Namespace, size: tuple[int, int], *, allow_flip: bool = True) -> dict:
    """Draws the spatial parameters for an image of `size` (w, h).

    Returns {'new_size': (w, h) after scaling, 'crop_size': (w, h), 'crop_pos': (x, y), 'flip': bool}.
    Without a crop the scaled sides are rounded to multiples of 32; the crop x is Gaussian around the
    centre, and the crop y is uniform over at most the top eighth of the image. `allow_flip=False` (a
    dataset's `allow_flip` class attribute) never flips.
    """
    w, h = size
    mode = opt.resize_or_crop
    random_side = random.randint(opt.fineSize, opt.loadSize + 1) if is_random_scale(mode) else None
    new_w, new_h = scaled_size(opt, w, h, random_side)
    crop_w = crop_h = crop_x = crop_y = 0
    if has_crop(mode):
        crop_w, crop_h = crop_size(opt, w, h)
        x_span = (new_w - crop_w) // 2
        crop_x = max(0, min(2 * x_span, int(np.random.randn() * x_span / 3 + x_span)))
        crop_y = random.randint(0, min(max(0, new_h - crop_h), new_h // 8))
    else:
        new_w, new_h = make_power_2(new_w), make_power_2(new_h)
    # The draw happens even when flipping is not allowed, so that later draws do not shift.
    flip = random.random() > 0.5 and allow_flip
    return {"new_size": (new_w, new_h), "crop_size": (crop_w, crop_h), "crop_pos": (crop_x, crop_y),
            "flip": flip}


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


# PIL modes whose pixels are not 8-bit: their NumPy type, kept as is (not scaled to [0, 1])
_WIDE_MODES = {"I": np.int32, "I;16": np.int16, "F": np.float32}


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """A PIL image as a `(C, H, W)` tensor: 8-bit modes as float32 in [0, 1] (value / 255), 'I', 'I;16' and
    'F' images with their own values and type, as torchvision's ToTensor (torchvision is not imported here:
    its import costs 1.5 s of every process start)."""
    array = np.array(img, _WIDE_MODES.get(img.mode, np.uint8), copy=True)
    if img.mode == "1":
        array = array * np.uint8(255)
    pixels = torch.from_numpy(array).view(img.size[1], img.size[0], len(img.getbands())).permute(2, 0, 1)
    pixels = pixels.contiguous()
    return pixels.to(torch.get_default_dtype()).div(255) if pixels.dtype == torch.uint8 else pixels


def normalize_half(tensor: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]: `(x - 0.5) / 0.5` in every channel, torchvision's Normalize((0.5,), (0.5,))."""
    return tensor.sub(0.5).div_(0.5)


def _compose(steps: list[Callable], img: Image.Image) -> Image.Image | torch.Tensor:
    for step in steps:
        img = step(img)
    return img


def get_transform(opt: argparse.Namespace, params: dict, method: int = Image.BICUBIC, normalize: bool = True,
                  to_tensor: bool = True) -> Callable:
    """The per-frame transform: resize, crop, flip (training only), then ToTensor and Normalize(0.5, 0.5).

    Use `method=Image.NEAREST, normalize=False` for label and instance maps. With `to_tensor=False` it
    returns the PIL image; otherwise a (C, H, W) float tensor in [0, 1], or [-1, 1] with `normalize`.
    """
    size = (opt.loadSize, opt.loadSize) if "resize" in opt.resize_or_crop else params["new_size"]
    # partials rather than lambdas keep the transform picklable for spawned DataLoader workers.
    steps: list[Callable] = [partial(_resize, size=size, method=method)]
    if has_crop(opt.resize_or_crop):
        steps.append(partial(_crop, size=params["crop_size"], pos=params["crop_pos"]))
    if opt.isTrain and not opt.no_flip:
        steps.append(partial(_flip, flip=params["flip"]))
    if to_tensor:
        steps.append(pil_to_tensor)
    if normalize:
        steps.append(normalize_half)  # every channel, so 1-, 3- and 4-channel images all work
    return partial(_compose, steps)
