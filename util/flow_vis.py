"""Optical flow to colour with the standard (Middlebury) colour wheel: hue = direction, saturation = speed."""

from __future__ import annotations

import numpy as np

# Number of hues between the wheel's primary and secondary colours, as in the Middlebury code.
_SEGMENTS = (("RY", 15), ("YG", 6), ("GC", 4), ("CB", 11), ("BM", 13), ("MR", 6))


def color_wheel() -> np.ndarray:
    """Returns the `(55, 3)` wheel of RGB colours in [0, 255]: red, yellow, green, cyan, blue, magenta."""
    rows = []
    # each segment ramps one channel up or down while another channel stays at 255
    ramps = {"RY": (0, 1, True), "YG": (1, 0, False), "GC": (1, 2, True),
             "CB": (2, 1, False), "BM": (2, 0, True), "MR": (0, 2, False)}
    for name, count in _SEGMENTS:
        full, moving, rising = ramps[name]
        seg = np.zeros((count, 3))
        seg[:, full] = 255
        ramp = np.floor(255 * np.arange(count) / count)
        seg[:, moving] = ramp if rising else 255 - ramp
        rows.append(seg)
    return np.concatenate(rows)


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colours a flow field.

    Args:
        flow: `(H, W, 2)` float, (dx, dy) in pixels.
        max_magnitude: speed shown at full saturation; default: the field's largest finite speed.
    Returns:
        `(H, W, 3)` uint8 RGB. Zero flow is white; unknown (non-finite) flow is black.
    """
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow_to_color expects an (H, W, 2) array, got shape {flow.shape}")
    fx, fy = flow[..., 0].astype(np.float64), flow[..., 1].astype(np.float64)
    unknown = ~(np.isfinite(fx) & np.isfinite(fy))
    fx, fy = np.where(unknown, 0, fx), np.where(unknown, 0, fy)
    magnitude = np.hypot(fx, fy)
    if max_magnitude is None:
        max_magnitude = float(magnitude.max())
    radius = magnitude / max(max_magnitude, 1e-8)

    wheel = color_wheel()
    n_colors = wheel.shape[0]
    angle = np.arctan2(-fy, -fx) / np.pi  # in [-1, 1]
    position = (angle + 1) / 2 * (n_colors - 1)
    lower = np.floor(position).astype(int)
    upper = (lower + 1) % n_colors
    frac = (position - lower)[..., None]
    color = ((1 - frac) * wheel[lower] + frac * wheel[upper]) / 255.0
    radius = radius[..., None]
    inside = radius <= 1
    # inside the unit circle, desaturate towards white with decreasing speed; outside, darken
    color = np.where(inside, 1 - radius * (1 - color), color * 0.75)
    color[unknown] = 0
    return np.clip(np.floor(255 * color), 0, 255).astype(np.uint8)
