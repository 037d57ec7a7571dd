"""Where the face discriminator looks: one fixed-size box around the face pixels of a chunk (official).

Pose data finds the face as the official code does. Face data (`face_data`) has its own rule: the official
one (channel 2 > 0.9) reads there a distance map, which exceeds 0.9 only about 700 pixels away from the
right eyebrow, so it found no face (or the frame's far corners) and the face D never trained.
"""

from __future__ import annotations

import torch

# OpenPose draws the face with the limb colour (153, 0, 51); normalised to [-1, 1] it is (0.2, -1, -0.6).
_FACE_COLOUR_RANGES = ((0.19, 0.21), (-1.01, -0.99), (-0.61, -0.59))
# Face data: channels 1..14 are the facial edges' distance maps, clip(L1 distance / 3) / 255, so a value
# below 2/255 is within about 6 pixels (at the keypoints' resolution) of a facial edge.
_DISTANCE_CHANNELS = slice(1, 15)
_NEAR_FACIAL_EDGE = 2 / 255


def face_pixels(real_A: torch.Tensor, openpose_only: bool, face_data: bool = False) -> torch.Tensor:
    """real_A: `(N, C_in, H, W)` encoded inputs -> `(N, H, W)` bool face mask.

    Pose data: DensePose head parts are where channel 2 > 0.9; with --openpose_only, the OpenPose face
    colour. Face data (`face_data`, 15 channels): the pixels near any of the 14 facial edges.
    """
    if face_data:
        if real_A.shape[1] < _DISTANCE_CHANNELS.stop:
            raise ValueError("--add_face_disc with --dataset_mode face finds the face through the distance maps: "
                             "drop --no_dist_map")
        return real_A[:, _DISTANCE_CHANNELS].amin(dim=1) < _NEAR_FACIAL_EDGE
    if not openpose_only:
        return real_A[:, 2] > 0.9
    r, g, b = real_A[:, 0], real_A[:, 1], real_A[:, 2]
    (r_lo, r_hi), (_, g_hi), (b_lo, b_hi) = _FACE_COLOUR_RANGES
    return (r > r_lo) & (r < r_hi) & (g < g_hi) & (b > b_lo) & (b < b_hi)


def face_box(real_A: torch.Tensor, side: int, openpose_only: bool, face_data: bool = False
             ) -> tuple[int, int, int, int] | None:
    """One `side` x `side` box (y0, y1, x0, x1) centred on the face pixels of all frames, clamped inside
    the image, or None when no frame shows a face. real_A: `(N, C_in, H, W)`; `face_data` as in
    `face_pixels`."""
    found = face_pixels(real_A, openpose_only, face_data).nonzero()
    if found.shape[0] == 0:
        return None
    h, w = real_A.shape[-2:]
    ys, xs = found[:, 1], found[:, 2]
    yc = max(side // 2, min(h - 1 - side // 2, int(ys.min() + ys.max()) // 2))
    xc = max(side // 2, min(w - 1 - side // 2, int(xs.min() + xs.max()) // 2))
    return yc - side // 2, yc + side // 2, xc - side // 2, xc + side // 2
