"""Reading frame files into tensors: images, label maps and instance maps, with errors naming the file.

A frame is read as a PIL image and passed through the item's transforms (see data/transforms.py):
images become (C, H, W) floats in [-1, 1], label and instance maps (1, H, W) float ids.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from data.transforms import get_img_params, get_transform

# PIL mode that gives an A image `input_nc` channels when it is not a label map.
_INPUT_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


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


def input_image_mode(opt: argparse.Namespace) -> str | None:
    """PIL mode of A frames: None for label maps (--label_nc > 0), else one giving --input_nc channels."""
    if opt.label_nc:
        return None
    if opt.input_nc not in _INPUT_MODES:
        raise ValueError(f"--input_nc {opt.input_nc}: input images must have 1, 3 or 4 channels "
                         "(or use label maps with --label_nc)")
    return _INPUT_MODES[opt.input_nc]


def make_frame_transforms(opt: argparse.Namespace, size: tuple[int, int], *,
                          allow_flip: bool = True) -> tuple[Callable, Callable]:
    """(image transform, id-map transform) sharing one draw of spatial parameters for a (w, h) image.

    `allow_flip` is passed on to `get_img_params` (the dataset's `allow_flip` class attribute).
    """
    params = get_img_params(opt, size, allow_flip=allow_flip)
    return (get_transform(opt, params),
            get_transform(opt, params, method=Image.NEAREST, normalize=False, to_tensor=False))


def read_a_frame(path: str, opt: argparse.Namespace, image_tf: Callable, ids_tf: Callable) -> torch.Tensor:
    """One A frame: (1, H, W) class ids when --label_nc > 0, else (input_nc, H, W) in [-1, 1]."""
    mode = input_image_mode(opt)
    if mode is not None:
        return image_tf(load_image(path).convert(mode))
    ids = load_id_map(path, ids_tf)
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= opt.label_nc:
        bad = high if high >= opt.label_nc else low
        raise ValueError(f"{path}: label id {bad} is outside [0, --label_nc {opt.label_nc})")
    return ids


def read_b_frame(path: str, image_tf: Callable) -> torch.Tensor:
    """One RGB target frame, (3, H, W) in [-1, 1] (RGBA and grey files are converted to RGB)."""
    return image_tf(load_image(path).convert("RGB"))
