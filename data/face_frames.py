"""One frame of `--dataset_mode face`: keypoints and image -> (A, B, part labels), cropped and transformed.

The maps are drawn at the full frame size, then every one of them and the image is cropped to the item's
face box and passed through the item's transforms (reference §2.6): A maps BILINEAR without
normalisation (so in [0, 1]), part labels NEAREST (ids 0..6), the image BICUBIC and normalised to [-1, 1].
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image

from data.face_drawing import add_background_edges, draw_face_edges, part_label_map
from data.face_keypoints import N_EDGES, add_upper_face, read_keypoints, scale_points
from data.frame_readers import load_image
from data.transforms import get_img_params, get_transform

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) in full-frame pixels


def face_input_nc(opt: argparse.Namespace) -> int:
    """Channels of a face A frame: the edge image, plus the 14 distance maps unless --no_dist_map."""
    return 1 if opt.no_dist_map else 1 + N_EDGES


def check_face_options(opt: argparse.Namespace) -> None:
    """Raises ValueError when --input_nc / --label_nc do not describe the face input, or when
    --add_face_disc (which finds the face in the distance maps) comes with --no_dist_map."""
    expected = face_input_nc(opt)
    if opt.label_nc or opt.input_nc != expected:
        reason = "an edge image" if opt.no_dist_map else "an edge image and 14 distance maps"
        raise ValueError(f"--dataset_mode face makes {expected}-channel inputs ({reason}): use --input_nc "
                         f"{expected} and --label_nc 0 (got --input_nc {opt.input_nc}, --label_nc {opt.label_nc})")
    if opt.add_face_disc and opt.no_dist_map:
        raise ValueError("--add_face_disc with --dataset_mode face finds the face through the distance maps: "
                         "drop --no_dist_map")


def check_face_dependencies() -> None:
    """ModuleNotFoundError naming the install command when SciPy or scikit-image is missing (they are not
    in requirements.txt; the drawing imports them only when it runs)."""
    missing = [package for module, package in (("scipy", "scipy"), ("skimage", "scikit-image"))
               if importlib.util.find_spec(module) is None]
    if missing:
        raise ModuleNotFoundError(f"--dataset_mode face needs {' and '.join(missing)}: "
                                  "pip install -r requirements-face.txt")


def box_size(box: Box) -> tuple[int, int]:
    return box[2] - box[0], box[3] - box[1]


def crop(image: Image.Image | np.ndarray, box: Box) -> Image.Image:
    """The box of an image or a uint8 `(H, W)` map, as a PIL image padded with zeros outside the frame.

    Where the box lies inside the frame this is the official crop exactly (PIL crop for images, array
    slicing for maps). The official slicing of a box that leaves the frame (a face wider than 0.4 of the
    frame) wraps its negative start around and misaligns the maps; here maps are padded like the image.
    """
    picture = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    return picture.crop(box)


class FaceTransforms(NamedTuple):
    """The per-frame transforms of one item, sharing one draw of spatial parameters."""

    maps: Callable  # PIL 'L' -> (1, H, W) float in [0, 1], BILINEAR
    labels: Callable  # PIL 'L' -> PIL, NEAREST
    image: Callable  # PIL 'RGB' -> (3, H, W) in [-1, 1], BICUBIC


def make_face_transforms(opt: argparse.Namespace, crop_size: tuple[int, int], allow_flip: bool = True
                         ) -> FaceTransforms:
    """Draws the spatial parameters (resize, crop, flip) from the cropped size, once per item."""
    params = get_img_params(opt, crop_size, allow_flip=allow_flip)
    return FaceTransforms(
        maps=get_transform(opt, params, method=Image.BILINEAR, normalize=False),
        labels=get_transform(opt, params, method=Image.NEAREST, normalize=False, to_tensor=False),
        image=get_transform(opt, params),
    )


def read_face_frame(keypoint_path: str, image_path: str, box: Box, transforms: FaceTransforms,
                    opt: argparse.Namespace) -> dict[str, torch.Tensor]:
    """One frame: {'A': (C_A, H, W) in [0, 1], 'B': (3, H, W) in [-1, 1], 'inst': (1, H, W) part ids}.

    C_A = 15 (edges, then the 14 distance maps in the part order) or 1 with --no_dist_map. The part labels
    come from the detected points; with --random_scale_points (test only) the edges are drawn from the
    moved points. Reads opt.no_dist_map, no_canny_edge, random_scale_points, isTrain.
    """
    image = load_image(image_path)
    points = add_upper_face(read_keypoints(keypoint_path))
    part_labels = part_label_map(points, image.size)
    if opt.random_scale_points and not opt.isTrain:
        points = scale_points(points)
    edges, distance_maps = draw_face_edges(points, image.size, not opt.no_dist_map)
    if not opt.no_canny_edge:
        add_background_edges(edges, np.array(image.convert("L")), part_labels)
    channels = [transforms.maps(crop(m, box)) for m in [edges, *distance_maps]]
    labels = np.array(transforms.labels(crop(part_labels, box)), dtype=np.float32)
    return {
        "A": torch.cat(channels),
        "B": transforms.image(crop(image.convert("RGB"), box)),
        "inst": torch.from_numpy(labels)[None],
    }
