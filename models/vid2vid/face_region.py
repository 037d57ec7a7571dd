"""Where the face discriminator looks: one fixed-size box around the face pixels of a chunk (official)."""

from __future__ import annotations

import torch

# OpenPose draws the face with the limb colour (153, 0, 51); normalised to [-1, 1] it is (0.2, -1, -0.6).
_FACE_COLOUR_RANGES = ((0.19, 0.21), (-1.01, -0.99), (-0.61, -0.59))


def face_pixels(real_A: torch.Tensor, openpose_only: bool) -> torch.Tensor:
    """real_A: `(N, C_in, H, W)` encoded pose inputs -> `(N, H, W)` bool face mask.

    DensePose head parts are where channel 2 > 0.9; with --openpose_only, the OpenPose face colour.
    """
    if not openpose_only:
        return real_A[:, 2] > 0.9
    r, g, b = real_A[:, 0], real_A[:, 1], real_A[:, 2]
    (r_lo, r_hi), (_, g_hi), (b_lo, b_hi) = _FACE_COLOUR_RANGES
    return (r > r_lo) & (r < r_hi) & (g < g_hi) & (b > b_lo) & (b < b_hi)


def face_box(real_A: torch.Tensor, side: int, openpose_only: bool) -> tuple[int, int, int, int] | None:
    """One `side` x `side` box (y0, y1, x0, x1) centred on the face pixels of all frames, clamped inside
    the image, or None when no frame shows a face. real_A: `(N, C_in, H, W)`."""
    found = face_pixels(real_A, openpose_only).nonzero()
    if found.shape[0] == 0:
        return None
    h, w = real_A.shape[-2:]
    ys, xs = found[:, 1], found[:, 2]
    yc = max(side // 2, min(h - 1 - side // 2, int(ys.min() + ys.max()) // 2))
    xc = max(side // 2, min(w - 1 - side // 2, int(xs.min() + xs.max()) // 2))
    return yc - side // 2, yc + side // 2, xc - side // 2, xc + side // 2
