"""Drawing the face input of `--dataset_mode face` from its 83 keypoints (reference §2.6).

At the full frame size, as the official code: the part-label map (each part's polygon filled with its
label), the edge image (each edge split into 3-point sub-curves, each fitted and stamped 2x2), one L1
distance map per edge (14), and Canny edges of the background. Images are uint8 `(H, W)` arrays.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from data.face_keypoints import FACE_PARTS, PART_LABELS

# A fitted parabola steeper than this is dropped (the official rule against wild fits of 3 points).
_MAX_CURVATURE = 1.0
_SUB_CURVE_POINTS = 3


def _parabola(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a * x**2 + b * x + c


def _line(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return a * x + b


def interp_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The pixels of the curve through 2 or 3 points, as int arrays (xs, ys), or None when none is drawn.

    Fits y(x) (a line through 2 points, a parabola through 3) with SciPy's `curve_fit`, as the official code
    does, so that the truncated samples agree; if the largest step between neighbours is smaller in x than
    in y, x(y) is fitted instead. A parabola with |a| > 1 is dropped. The curve is sampled at
    `int(x_end - x_start)` evenly spaced points between its end points (none when they share x), and the
    samples are truncated to int.
    """
    if np.abs(np.diff(x)).max() < np.abs(np.diff(y)).max():
        swapped = interp_points(y, x)
        return None if swapped is None else (swapped[1], swapped[0])
    n_samples = int(abs(x[-1] - x[0]))
    if n_samples == 0:  # nothing would be drawn; skipping the fit also avoids fitting coincident points
        return None
    from scipy.optimize import curve_fit  # SciPy only for face data (requirements-face.txt)

    model = _line if len(x) < _SUB_CURVE_POINTS else _parabola
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an exactly determined fit has no covariance; that is expected
        params, _ = curve_fit(model, x, y)
    if model is _parabola and abs(params[0]) > _MAX_CURVATURE:
        return None
    start, end = (x[-1], x[0]) if x[0] > x[-1] else (x[0], x[-1])
    curve_x = np.linspace(start, end, n_samples)
    return curve_x.astype(int), model(curve_x, *params).astype(int)


def draw_edge(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    """Sets a 2x2 block (offsets -1..0 in x and y, clamped to the image) to 255 at each (x, y), in place."""
    h, w = image.shape
    for dy in (-1, 0):
        for dx in (-1, 0):
            image[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)] = 255


def part_label_map(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`(H, W)` uint8 map of the facial parts of a `size` = (w, h) frame: 0 background, 1..6 part labels.

    Each part's polygon (its edges' indices concatenated, points truncated to int) is filled with its label,
    later parts over earlier ones. points: `(83, 2)`.
    """
    w, h = size
    labels = np.zeros((h, w), np.uint8)
    for part, label in zip(FACE_PARTS, PART_LABELS):
        polygon = points[[i for edge in part for i in edge]].astype(np.int32)
        cv2.fillPoly(labels, [polygon], label)
    return labels


def draw_face_edges(points: np.ndarray, size: tuple[int, int], distance_maps: bool
                    ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The edge image of all 14 facial edges and, with `distance_maps`, one distance map per edge.

    Each edge is cut into sub-curves of 3 points starting at every second point (the last may have 2);
    each is fitted and stamped (`interp_points`, `draw_edge`). A distance map is
    `clip(L1 distance to the edge (3x3 mask) / 3, 0, 255)` as uint8, so 0 on the edge and 255 from 765
    pixels away. points: `(83, 2)`; size (w, h). Returns (edges `(H, W)`, [14 maps `(H, W)`] or []).
    """
    w, h = size
    edges = np.zeros((h, w), np.uint8)
    maps = []
    for part in FACE_PARTS:
        for edge in part:
            own = np.zeros((h, w), np.uint8) if distance_maps else None
            for start in range(0, max(1, len(edge) - 1), _SUB_CURVE_POINTS - 1):
                sub_curve = list(edge[start : start + _SUB_CURVE_POINTS])
                curve = interp_points(points[sub_curve, 0], points[sub_curve, 1])
                if curve is None:
                    continue
                draw_edge(edges, *curve)
                if own is not None:
                    draw_edge(own, *curve)
            if own is not None:
                distance = cv2.distanceTransform(255 - own, cv2.DIST_L1, 3)
                maps.append(np.clip(distance / 3, 0, 255).astype(np.uint8))
    return edges, maps


def add_background_edges(edges: np.ndarray, gray: np.ndarray, part_labels: np.ndarray) -> np.ndarray:
    """Adds the Canny edges of the frame outside the face to the edge image (in place, and returned).

    scikit-image's `feature.canny` with its defaults (sigma 1) on the grey full frame `(H, W)` uint8; edges
    where the part label is not 0 are dropped, and the rest added as 255 with uint8 wrap-around (where a
    Canny edge meets a facial edge the sum wraps to 254, as officially).
    """
    from skimage import feature  # scikit-image only for face data (requirements-face.txt)

    background = feature.canny(gray) & (part_labels == 0)
    edges += background.astype(np.uint8) * np.uint8(255)
    return edges
