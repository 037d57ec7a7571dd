"""Tensors to displayable uint8 images (frames, label maps, flow) and saving them to disk.

Every converter picks the image to show as the official code does: element `[0, -1]` (batch 0, last frame)
of a `(B, T, C, H, W)` tensor, element `[0]` of a `(B, C, H, W)` tensor, and a `(C, H, W)` tensor as it is.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from PIL import Image

from util.flow_vis import flow_to_color

# The official colours of the Cityscapes label ids 0..33 (cityscapesscripts/helpers/labels.py), in id order.
# Id 34 has no class there; it gets the colour of "license plate" (id -1), the one official colour left over.
_CITYSCAPES_COLORS = (
    (0, 0, 0),  # 0 unlabeled
    (0, 0, 0),  # 1 ego vehicle
    (0, 0, 0),  # 2 rectification border
    (0, 0, 0),  # 3 out of roi
    (0, 0, 0),  # 4 static
    (111, 74, 0),  # 5 dynamic
    (81, 0, 81),  # 6 ground
    (128, 64, 128),  # 7 road
    (244, 35, 232),  # 8 sidewalk
    (250, 170, 160),  # 9 parking
    (230, 150, 140),  # 10 rail track
    (70, 70, 70),  # 11 building
    (102, 102, 156),  # 12 wall
    (190, 153, 153),  # 13 fence
    (180, 165, 180),  # 14 guard rail
    (150, 100, 100),  # 15 bridge
    (150, 120, 90),  # 16 tunnel
    (153, 153, 153),  # 17 pole
    (153, 153, 153),  # 18 polegroup
    (250, 170, 30),  # 19 traffic light
    (220, 220, 0),  # 20 traffic sign
    (107, 142, 35),  # 21 vegetation
    (152, 251, 152),  # 22 terrain
    (70, 130, 180),  # 23 sky
    (220, 20, 60),  # 24 person
    (255, 0, 0),  # 25 rider
    (0, 0, 142),  # 26 car
    (0, 0, 70),  # 27 truck
    (0, 60, 100),  # 28 bus
    (0, 0, 90),  # 29 caravan
    (0, 0, 110),  # 30 trailer
    (0, 80, 100),  # 31 train
    (0, 0, 230),  # 32 motorcycle
    (119, 11, 32),  # 33 bicycle
    (0, 0, 142),  # 34 (license plate colour)
)

# The label id of each Cityscapes train id 0..18 (road, sidewalk, building, ..., bicycle); train id 19 is
# "ignore" and is drawn black.
_CITYSCAPES_TRAIN_ID_TO_ID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33)


def label_colormap(n: int) -> np.ndarray:
    """The palette used to draw `n` label classes.

    Args:
        n: number of classes (the `--label_nc` flag).
    Returns:
        `(n, 3)` uint8 RGB, row i being the colour of class i: the Cityscapes palette for n = 35, the
        Cityscapes train-id ("eval") palette for n = 20, otherwise the bit-interleaved palette of PASCAL VOC.
    """
    if n == 35:
        return np.array(_CITYSCAPES_COLORS, dtype=np.uint8)
    if n == 20:
        colors = [_CITYSCAPES_COLORS[i] for i in _CITYSCAPES_TRAIN_ID_TO_ID] + [(0, 0, 0)]
        return np.array(colors, dtype=np.uint8)
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for class_id in range(n):
        r = g = b = 0
        bits = class_id
        # spread the id's bits over the channels, most significant colour bit first, 3 id bits per round
        for j in range(7):
            r |= ((bits >> 0) & 1) << (7 - j)
            g |= ((bits >> 1) & 1) << (7 - j)
            b |= ((bits >> 2) & 1) << (7 - j)
            bits >>= 3
        cmap[class_id] = (r, g, b)
    return cmap


def _select_frame(t: torch.Tensor) -> torch.Tensor:
    """`(B, T, C, H, W)` -> `[0, -1]`, `(B, C, H, W)` -> `[0]`, `(C, H, W)` as is; as float on the CPU."""
    if t.dim() == 5:
        t = t[0, -1]
    elif t.dim() == 4:
        t = t[0]
    if t.dim() != 3:
        raise ValueError(
            f"expected a (C, H, W), (B, C, H, W) or (B, T, C, H, W) tensor, got shape {tuple(t.shape)}"
        )
    return t.detach().cpu().float()


def tensor2im(t: torch.Tensor, normalize: bool = True) -> np.ndarray:
    """An image tensor as a uint8 picture.

    Args:
        t: `(B, T, C, H, W)`, `(B, C, H, W)` or `(C, H, W)`; values in [-1, 1] (normalize) or [0, 1] (not).
        normalize: map `(x + 1) / 2 * 255` when true, `x * 255` when false.
    Returns:
        `(H, W, 3)` uint8 from the first 3 channels, or `(H, W)` uint8 when there is a single channel.
        Values are clipped to [0, 255] and then truncated, as the official code does.
    """
    image = _select_frame(t)[:3].permute(1, 2, 0).numpy()
    image = (image + 1) / 2 * 255 if normalize else image * 255
    image = np.clip(image, 0, 255).astype(np.uint8)
    return image[:, :, 0] if image.shape[2] == 1 else image


def tensor2label(t: torch.Tensor, label_nc: int) -> np.ndarray:
    """A label tensor drawn in the palette of `label_colormap(label_nc)`.

    Args:
        t: `(B, T, C, H, W)`, `(B, C, H, W)` or `(C, H, W)`: a one-hot / score map (C > 1, the argmax over
            C is taken) or a map of class ids (C = 1).
        label_nc: number of classes; chooses the palette.
    Returns:
        `(H, W, 3)` uint8 RGB. Ids outside 0..label_nc-1 are black.
    """
    label = _select_frame(t)
    ids = label.argmax(dim=0) if label.shape[0] > 1 else label[0].round().long()
    ids = ids.numpy()
    cmap = label_colormap(label_nc)
    valid = (ids >= 0) & (ids < label_nc)
    image = np.zeros(ids.shape + (3,), dtype=np.uint8)
    image[valid] = cmap[ids[valid]]
    return image


def tensor2flow(t: torch.Tensor) -> np.ndarray:
    """A flow tensor drawn with the Middlebury colour wheel (`util.flow_vis.flow_to_color`).

    Deliberately differs from the official rendering, an OpenCV HSV image with hue = direction and value =
    the min-max normalised magnitude: the Middlebury wheel is the one readers know, and it shows zero flow
    as white.

    Args:
        t: `(B, T, 2, H, W)`, `(B, 2, H, W)` or `(2, H, W)`, (dx, dy) in pixels.
    Returns:
        `(H, W, 3)` uint8 RGB.
    """
    flow = _select_frame(t)
    if flow.shape[0] != 2:
        raise ValueError(f"tensor2flow expects 2 flow channels (dx, dy), got {flow.shape[0]}")
    return flow_to_color(flow.permute(1, 2, 0).numpy())


def input_picture(frame: torch.Tensor, label_nc: int, input_nc: int, for_test: bool = False,
                  instance_edges: bool = False, pose: bool = False) -> np.ndarray:
    """The picture of one encoded input frame `(C_in, H, W)` (or a tensor `_select_frame` accepts).

    Label inputs (label_nc > 0) are colourised from their one-hot channels; other inputs show their first
    3 channels, unnormalised, or their first one: the official training page takes 3 whenever
    input_nc >= 3, the official test output only when input_nc == 3 (so a 15-channel face input is saved as
    its edge channel), which `for_test` selects. On the training page, `pose` inputs show the DensePose
    channels (normalised) with the non-zero pixels of the OpenPose drawing on top. With `instance_edges` the
    last channel (the instance boundaries) is drawn white on top. Returns `(H, W, 3)` uint8, or `(H, W)` for
    one grey channel.
    """
    frame = _select_frame(frame)
    if label_nc:
        picture = tensor2label(frame[:label_nc], label_nc)
    elif pose and not for_test:
        picture = tensor2im(frame[:3])
        if frame.shape[0] >= 6:
            drawn = tensor2im(frame[3:6])
            picture[drawn != 0] = drawn[drawn != 0]
    else:
        shows_colour = input_nc == 3 if for_test else input_nc >= 3
        picture = tensor2im(frame[: 3 if shows_colour else 1], normalize=False)
    if instance_edges:
        edges = tensor2im(frame[-1:], normalize=False)
        picture = np.maximum(picture, edges[..., None] if picture.ndim == 3 else edges)
    return picture


def save_image(array: np.ndarray, path: str) -> None:
    """Writes a uint8 `(H, W, 3)` or `(H, W)` image; the format follows the extension (.jpg, .png, ...).

    Missing parent folders are created.
    """
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    Image.fromarray(array).save(path)
