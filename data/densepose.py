"""DensePose IUV images as the official pose2body reads them.

An IUV PNG is read as RGB; its channel 2 holds the body-part index I (0 = background, 1..24 = parts, 23 and
24 the head) and channels 0 and 1 the surface coordinates. At training each part is blanked with probability
--random_drop_prob, and --remove_face_labels blanks the head; after the NEAREST resize and the [-1, 1]
normalisation, channel 2 is rescaled from I/255 to I/12 - 1, so the parts span [-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from data.frame_readers import load_image

N_PARTS = 24
HEAD_PARTS = (23, 24)
PART_CHANNEL = 2


def read_iuv(path: str) -> np.ndarray:
    """The `(H, W, 3)` uint8 IUV array of a DensePose PNG.

    Raises ValueError naming the file when it cannot be read or its part channel holds an index above 24.
    """
    iuv = np.array(load_image(path).convert("RGB"))
    top = int(iuv[..., PART_CHANNEL].max())
    if top > N_PARTS:
        raise ValueError(f"{path}: DensePose part index {top} in channel {PART_CHANNEL}; an IUV image holds "
                         f"part indices 0..{N_PARTS} there (is it an IUV image, saved with I in the third channel?)")
    return iuv


def drop_parts(iuv: np.ndarray, drop_prob: float, remove_face_labels: bool) -> np.ndarray:
    """Training augmentation: a copy of `iuv` `(H, W, 3)` with each part 1..24 blanked (all channels) with
    probability `drop_prob`, and the head parts too with `remove_face_labels`.

    Draws 24 numbers from NumPy's global generator, in part order, whatever `drop_prob` is (official).
    """
    out = iuv.copy()
    parts = iuv[..., PART_CHANNEL]
    for part in range(1, N_PARTS + 1):
        if np.random.rand() < drop_prob:
            out[parts == part] = 0
    if remove_face_labels:
        out[np.isin(parts, HEAD_PARTS)] = 0
    return out


def remap_part_channel(frame: torch.Tensor) -> torch.Tensor:
    """A normalised IUV frame `(3, H, W)` in [-1, 1] -> the same with channel 2 = I/12 - 1 (in place).

    Computed with the official expression, ((x * 0.5 + 0.5) * 255 / 24 - 0.5) / 0.5, for the same floats.
    """
    frame[PART_CHANNEL] = ((frame[PART_CHANNEL] * 0.5 + 0.5) * 255 / 24 - 0.5) / 0.5
    return frame


def densepose_frame(path: str, transform: Callable[[Image.Image], torch.Tensor], drop_prob: float = 0.0,
                    remove_face_labels: bool = False, augment: bool = False) -> torch.Tensor:
    """One DensePose input frame `(3, H, W)`: read, (with `augment`) parts dropped, transformed with
    `transform` (NEAREST, normalised to [-1, 1]) and the part channel remapped."""
    iuv = read_iuv(path)
    if augment:
        iuv = drop_parts(iuv, drop_prob, remove_face_labels)
    return remap_part_channel(transform(Image.fromarray(iuv)))
