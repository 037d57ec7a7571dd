"""Writing frames as an mp4 that browsers play, and putting two frames side by side.

The official code writes only image files; the mp4s are our addition (see test.py and the results page).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import imageio_ffmpeg
import numpy as np
from PIL import Image

# x264's constant rate factor: 18 is about visually lossless, so videos show the model's artefacts, not ours.
_CRF = 18


def _as_rgb(frame: np.ndarray) -> np.ndarray:
    """`(H, W)` or `(H, W, 1)` grey frames become `(H, W, 3)`; `(H, W, 3)` frames are returned as they are."""
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3) or frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W, 3) or (H, W) frame, got {frame.dtype} {frame.shape}")
    return np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame


def write_mp4(frames: Sequence[np.ndarray], path: str, fps: float) -> None:
    """Writes an H.264 mp4 (yuv420p, moov atom first) that plays in browsers.

    Args:
        frames: uint8 `(H, W, 3)` (or grey `(H, W)`) frames, all of the same size.
        path: the .mp4 file; missing parent folders are created.
        fps: frames per second.
    Odd widths or heights are padded by one pixel, repeating the last row / column, because yuv420p stores
    colour at half resolution and needs even sizes.
    """
    if len(frames) == 0:
        raise ValueError(f"write_mp4: no frames to write to {path}")
    frames = [_as_rgb(f) for f in frames]
    height, width = frames[0].shape[:2]
    if any(f.shape != frames[0].shape for f in frames):
        raise ValueError(f"write_mp4: frames for {path} differ in size; expected all {frames[0].shape}")
    pad = ((0, height % 2), (0, width % 2), (0, 0))

    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(
        path,
        (width + width % 2, height + height % 2),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        quality=None,  # the quality is set by -crf below
        # we made the size even ourselves; 1 stops imageio-ffmpeg from rescaling to a multiple of 16
        macro_block_size=1,
        # faststart puts the index before the data, so a browser can start playing before the download ends
        output_params=["-crf", str(_CRF), "-movflags", "+faststart"],
    )
    writer.send(None)  # start the ffmpeg process
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(np.pad(frame, pad, mode="edge")))
    finally:
        writer.close()


def side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a | b` as one image.

    Args:
        a: uint8 `(H, W1, 3)` or `(H, W1)`.
        b: uint8 `(H2, W2, 3)` or `(H2, W2)`; when H2 != H, resized to height H (bilinear, keeping its
            aspect ratio).
    Returns:
        uint8 `(H, W1 + W2', 3)`.
    """
    a, b = _as_rgb(a), _as_rgb(b)
    height = a.shape[0]
    if b.shape[0] != height:
        new_width = max(1, round(b.shape[1] * height / b.shape[0]))
        b = np.asarray(Image.fromarray(b).resize((new_width, height), Image.BILINEAR))
    return np.concatenate([a, b], axis=1)
