"""Face keypoints of `--dataset_mode face` (reference §2.6): the 68 dlib points of a frame, the 15 points
that close the face above the eyebrows, the facial parts drawn from them, the crop box around the face and
the test-time `--random_scale_points` move.

Points are float arrays `(n, 2)` of (x, y) pixel coordinates in the full, uncropped frame.
"""

from __future__ import annotations

import numpy as np

N_DLIB_POINTS = 68  # what dlib's shape_predictor_68_face_landmarks gives, one `x,y` row each

# The facial parts, in the official order: each is a tuple of edges (point indices joined as curves), and
# its label in the part-label map. Points 68..82 are the mirrored upper face (`add_upper_face`).
FACE_PARTS: tuple[tuple[tuple[int, ...], ...], ...] = (
    (tuple(range(0, 17)) + tuple(range(68, 83)) + (0,),),  # face contour, closed through the upper face
    (tuple(range(17, 22)),),  # right eyebrow
    (tuple(range(22, 27)),),  # left eyebrow
    ((28, 31), tuple(range(31, 36)), (35, 28)),  # nose
    ((36, 37, 38, 39), (39, 40, 41, 36)),  # right eye
    ((42, 43, 44, 45), (45, 46, 47, 42)),  # left eye
    (tuple(range(48, 55)), (54, 55, 56, 57, 58, 59, 48)),  # mouth
    (tuple(range(60, 65)), (64, 65, 66, 67, 60)),  # inner mouth
)
PART_LABELS = (1, 2, 2, 3, 4, 4, 5, 6)
N_EDGES = sum(len(part) for part in FACE_PARTS)  # 14: one distance map each

# --random_scale_points (official tables). The eyebrow pair and the eye pair first move apart about the
# pair's mean with rows 1 and 3 of the symmetric table; then every part is scaled about its own mean with
# the row of its label - 1. The official shift table is all zeros, so no shift is added.
_SYMMETRIC_RATIOS = ((1, 1), (0.9, 1), (1, 1), (0.9, 1), (1, 1), (1, 1))
_PART_RATIOS = ((0.9, 1), (1, 1), (0.9, 1), (1, 1.1), (0.9, 0.9), (0.9, 0.9))


def read_keypoints(path: str) -> np.ndarray:
    """The 68 `x,y` rows of a keypoint file as a float `(68, 2)` array (blank lines are ignored).

    Raises ValueError naming the file and what it held when it is unreadable, has a row that is not two
    comma-separated numbers, or does not have exactly 68 rows.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read keypoint file {path}: {err}") from None
    rows = [line.strip() for line in text.splitlines() if line.strip()]
    points = []
    for number, row in enumerate(rows, 1):
        fields = row.split(",")
        try:
            if len(fields) != 2:
                raise ValueError
            points.append((float(fields[0]), float(fields[1])))
        except ValueError:
            raise ValueError(f"keypoint file {path}: row {number} holds {row[:40]!r}, expected two "
                             f"comma-separated numbers x,y (68 rows)") from None
    if len(points) != N_DLIB_POINTS:
        raise ValueError(f"keypoint file {path} holds {len(points)} rows of x,y, expected the "
                         f"{N_DLIB_POINTS} points of dlib's 68-point predictor")
    array = np.array(points, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"keypoint file {path} holds a value that is not a finite number")
    return array


def add_upper_face(keypoints: np.ndarray) -> np.ndarray:
    """Appends 15 points that close the face contour above the eyes: `(68, 2)` -> `(83, 2)`.

    Jaw points 1..15 (truncated to int) are mirrored about the line through jaw points 0 and 16 and pulled
    in to 2/3 of their distance, `y' = b + floor(2 (b - y) / 3)` with `b = (y0 + y16) / 2`, then truncated
    to int; they are appended in reverse order (indices 68..82), so the contour runs on round the head.
    """
    jaw = keypoints[:17].astype(np.int32)
    baseline = (jaw[0, 1] + jaw[-1, 1]) / 2
    upper = jaw[1:-1].copy()
    upper[:, 1] = np.trunc(baseline + (baseline - upper[:, 1]) * 2 // 3)
    return np.vstack([keypoints, upper[::-1]])


def face_crop_box(keypoints: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The square crop box (x0, y0, x1, y1) around the face of a `size` = (w, h) frame, from its 68 points.

    The side is 2.5 times the keypoints' width, centred on their horizontal middle and on the upper quarter
    point vertically, then shifted to lie inside the frame where it fits (a face wider than the frame / 2.5
    gives a box that leaves it at the top or left; the crop pads it with zeros). Official float arithmetic,
    truncated to int at the end.
    """
    w, h = size
    min_x, max_x = keypoints[:, 0].min(), keypoints[:, 0].max()
    min_y, max_y = keypoints[:, 1].min(), keypoints[:, 1].max()
    side = (max_x - min_x) * 2.5
    half = side // 2
    xc = min(max(0, (min_x + max_x) // 2 - half) + side, w) - half
    yc = min(max(0, (min_y * 3 + max_y) // 4 - half) + side, h) - half
    return int(xc - half), int(yc - half), int(xc + half), int(yc + half)


def scale_points(points: np.ndarray) -> np.ndarray:
    """--random_scale_points (test only): the official fixed rescaling of the facial parts.

    points: `(83, 2)` (with the upper face). Returns a moved copy: the eyebrows and then the eyes are moved
    apart or together about their pair's mean, then each part is scaled about its own mean.
    """
    moved = points.copy()
    _move_pair(moved, FACE_PARTS[1] + FACE_PARTS[2], _SYMMETRIC_RATIOS[1])
    _move_pair(moved, FACE_PARTS[4] + FACE_PARTS[5], _SYMMETRIC_RATIOS[3])
    for part, label in zip(FACE_PARTS, PART_LABELS):
        indices = [i for edge in part for i in edge]  # repeated indices weigh the mean, as officially
        centre = moved[indices].mean(axis=0)
        moved[indices] = (moved[indices] - centre) * np.array(_PART_RATIOS[label - 1]) + centre
    return moved


def _move_pair(points: np.ndarray, edges: tuple[tuple[int, ...], ...], ratio: tuple[float, float]) -> None:
    """Moves each edge rigidly so that its mean's offset from the mean of all `edges` is scaled by `ratio`.

    In place and edge after edge: an edge that shares points with an earlier one (the eyes' corners)
    starts from where the earlier edge left them, as in the official loop.
    """
    centre = points[[i for edge in edges for i in edge]].mean(axis=0)
    for edge in edges:
        own = points[list(edge)].mean(axis=0)
        target = (own - centre) * np.array(ratio) + centre
        points[list(edge)] = (points[list(edge)] - own) + target
