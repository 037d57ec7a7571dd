"""Middlebury `.flo` optical-flow files.

Layout (little-endian): the float32 202021.25 (bytes 'PIEH'), int32 width, int32 height, then
height x width x 2 float32 values, row-major, (dx, dy) per pixel.
"""

from __future__ import annotations

import os

import numpy as np

_MAGIC = np.float32(202021.25)
_HEADER = 12  # magic, width, height: 4 bytes each


def write_flo(path: str, flow: np.ndarray) -> None:
    """Writes `flow` `(H, W, 2)` (dx, dy in pixels) to `path`; the folder must exist."""
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"write_flo {path}: expected an (H, W, 2) flow, got shape {flow.shape}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"write_flo {path}: the folder {folder} does not exist")
    height, width = flow.shape[:2]
    with open(path, "wb") as f:
        f.write(_MAGIC.astype("<f4").tobytes())
        f.write(np.array([width, height], dtype="<i4").tobytes())
        f.write(np.ascontiguousarray(flow, dtype="<f4").tobytes())


def read_flo(path: str) -> np.ndarray:
    """Reads a `.flo` file into an `(H, W, 2)` float32 array (dx, dy in pixels)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < _HEADER or np.frombuffer(data, "<f4", 1)[0] != _MAGIC:
        raise ValueError(f"read_flo {path}: not a Middlebury .flo file (expected the magic 'PIEH')")
    width, height = (int(v) for v in np.frombuffer(data, "<i4", 2, offset=4))
    expected = _HEADER + width * height * 2 * 4
    if width < 0 or height < 0 or len(data) != expected:
        raise ValueError(f"read_flo {path}: a {width}x{height} flow needs {expected} bytes, "
                         f"the file has {len(data)}")
    return np.frombuffer(data, "<f4", offset=_HEADER).reshape(height, width, 2).astype(np.float32)
