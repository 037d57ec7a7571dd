"""OpenPose keypoints drawn as the official pose2body input: coloured limbs, hands and face on black.

Everything follows the official drawing (reference §2.7), including its quirks, because a model trained on
official data sees exactly these pictures:
- a body point is valid when its confidence > 0.01; a hand or face point only when every point of its
  finger or face chain is above 0.01 (hands) / 0.1 (face); invalid points become (0, 0), and a segment with
  an end at x == 0 is not drawn;
- a segment is sampled along its longer axis at int(length) points (so one shorter than a pixel, or of zero
  length, draws nothing, not even its end discs), then stamped with a square brush (offsets -b..b-1) and a
  disc at each end (offsets -2b..2b-1 with i^2 + j^2 < 4b^2); b = 3 for the body, 1 for hands and face;
- the colour rule applies to one whole stamp at a time: if every pixel under the stamp is black they take
  the colour, otherwise every pixel under it becomes floor((old + colour) / 2), black ones included;
- each person is drawn on its own canvas and the canvases are added as uint8, wrapping around past 255.
Random draws (NumPy's global generator) come in the official order, so seeding repeats them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from data.openpose_json import PersonKeypoints

Colour = tuple[int, int, int]

# BODY_25 segments (a, b, RGB colour), in drawing order. The head is left out with --basic_point_only.
HEAD_EDGES: tuple[tuple[int, int, Colour], ...] = (
    (17, 15, (153, 0, 153)), (15, 0, (153, 0, 102)), (0, 16, (102, 0, 153)), (16, 18, (51, 0, 153)),
)
BODY_EDGES: tuple[tuple[int, int, Colour], ...] = (
    (0, 1, (153, 0, 51)), (1, 8, (153, 0, 0)),
    (1, 2, (153, 51, 0)), (2, 3, (153, 102, 0)), (3, 4, (153, 153, 0)),  # right arm
    (1, 5, (102, 153, 0)), (5, 6, (51, 153, 0)), (6, 7, (0, 153, 0)),  # left arm
    (8, 9, (0, 153, 51)), (9, 10, (0, 153, 102)), (10, 11, (0, 153, 153)),  # right leg
    (11, 24, (0, 153, 153)), (11, 22, (0, 153, 153)), (22, 23, (0, 153, 153)),  # right foot
    (8, 12, (0, 102, 153)), (12, 13, (0, 51, 153)), (13, 14, (0, 0, 153)),  # left leg
    (14, 21, (0, 0, 153)), (14, 19, (0, 0, 153)), (19, 20, (0, 0, 153)),  # left foot
)
# Hands: five chains from the wrist (thumb to little finger), one colour each.
FINGERS = ((0, 1, 2, 3, 4), (0, 5, 6, 7, 8), (0, 9, 10, 11, 12), (0, 13, 14, 15, 16), (0, 17, 18, 19, 20))
FINGER_COLOURS: tuple[Colour, ...] = ((204, 0, 0), (163, 204, 0), (0, 204, 82), (0, 82, 204), (163, 0, 204))
# Face chains of the 70 points, all white: eyebrows, nose bridge, nose base, eyes and outer mouth as closed
# loops in two halves. The jaw line (0-16) and the inner mouth are not drawn.
FACE_CHAINS = (
    (17, 18, 19, 20, 21), (22, 23, 24, 25, 26), (27, 28, 29, 30), (31, 32, 33, 34, 35),
    (36, 37, 38, 39), (39, 40, 41, 36), (42, 43, 44, 45), (45, 46, 47, 42),
    (48, 49, 50, 51, 52, 53, 54), (54, 55, 56, 57, 58, 59, 48),
)
FACE_COLOUR: Colour = (255, 255, 255)
# A body point is valid on its own: each is a chain of one.
BODY_CHAINS = tuple((i,) for i in range(25))
BODY_THRESHOLD, HAND_THRESHOLD, FACE_THRESHOLD = 0.01, 0.01, 0.1
BODY_BRUSH, HAND_BRUSH, FACE_BRUSH = 3, 1, 1
# --remove_face_labels (training): noise on the nose, eyes and ears, and one shift of the whole face.
HEAD_POINTS, HEAD_NOISE, FACE_SHIFT = [0, 15, 16, 17, 18], 5.0, 2.0


def body_edges(basic_point_only: bool) -> tuple[tuple[int, int, Colour], ...]:
    """The body segments drawn: without the head ones under --basic_point_only."""
    return BODY_EDGES if basic_point_only else HEAD_EDGES + BODY_EDGES


def draw_openpose(people: Sequence[PersonKeypoints], size: tuple[int, int], drop_prob: float = 0.0,
                  remove_face_labels: bool = False, basic_point_only: bool = False) -> np.ndarray:
    """The picture of every person at `size` (w, h): `(H, W, 3)` uint8, people summed with wrap-around.

    drop_prob: probability of leaving out each body segment, each hand and the face (--random_drop_prob at
    training, 0 at test); remove_face_labels: jitter the head points (only when drop_prob > 0).
    """
    w, h = size
    picture = np.zeros((h, w, 3), np.uint8)
    for person in people:
        picture += draw_person(person, size, drop_prob, remove_face_labels, basic_point_only)
    return picture


def draw_person(person: PersonKeypoints, size: tuple[int, int], drop_prob: float, remove_face_labels: bool,
                basic_point_only: bool) -> np.ndarray:
    """One person on a black `(H, W, 3)` uint8 canvas: body, then left and right hand, then face."""
    w, h = size
    canvas = np.zeros((h, w, 3), np.uint8)
    body = valid_points(person.body, BODY_CHAINS, BODY_THRESHOLD)
    face = valid_points(person.face, FACE_CHAINS, FACE_THRESHOLD)
    hands = [valid_points(hand, FINGERS, HAND_THRESHOLD) for hand in (person.hand_left, person.hand_right)]
    if drop_prob > 0 and remove_face_labels:
        # Added after the validity test, so an invalid head point (0, 0) moves off 0 and is then drawn (official).
        body[HEAD_POINTS] += HEAD_NOISE * np.random.randn(len(HEAD_POINTS), 2)
        face[:, 0] += FACE_SHIFT * np.random.randn()
        face[:, 1] += FACE_SHIFT * np.random.randn()
    for a, b, colour in body_edges(basic_point_only):
        # The draw comes first, so every segment consumes one number whether or not it is drawn.
        if np.random.rand() > drop_prob and body[a, 0] != 0 and body[b, 0] != 0:
            draw_segment(canvas, body[[a, b]], colour, BODY_BRUSH)
    if basic_point_only:
        return canvas
    for hand in hands:
        if np.random.rand() > drop_prob:
            for finger, colour in zip(FINGERS, FINGER_COLOURS):
                _draw_chain(canvas, hand, finger, colour, HAND_BRUSH)
    if np.random.rand() > drop_prob:
        for chain in FACE_CHAINS:
            _draw_chain(canvas, face, chain, FACE_COLOUR, FACE_BRUSH)
    return canvas


def valid_points(points: np.ndarray, chains: Sequence[Sequence[int]], threshold: float) -> np.ndarray:
    """`(P, 3)` keypoints -> `(P, 2)` float x, y, with (0, 0) for invalid points.

    A chain's points are kept when every one of them has a confidence above `threshold`; points in no
    kept chain stay (0, 0).
    """
    out = np.zeros((points.shape[0], 2))
    for chain in chains:
        chain = list(chain)
        if (points[chain, 2] > threshold).all():
            out[chain] = points[chain, :2]
    return out


def _draw_chain(canvas: np.ndarray, points: np.ndarray, chain: Sequence[int], colour: Colour, brush: int) -> None:
    """Draws each pair of consecutive points of `chain` whose x coordinates are both non-zero."""
    for a, b in zip(chain[:-1], chain[1:]):
        if points[a, 0] != 0 and points[b, 0] != 0:
            draw_segment(canvas, points[[a, b]], colour, brush)


def sample_segment(ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer pixels (xs, ys) of the segment between `ends` `(2, 2)` = [[x0, y0], [x1, y1]].

    Sampled along the longer axis (x on a tie) from its smaller to its larger end at int(extent) evenly
    spaced points, the other coordinate taken from the line through the ends; both truncated towards zero.
    Empty when the extent is below one pixel.
    """
    x, y = ends[:, 0], ends[:, 1]
    if abs(x[1] - x[0]) < abs(y[1] - y[0]):
        ys, xs = _sample_along(y, x)
        return xs, ys
    return _sample_along(x, y)


def _sample_along(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(us, vs) as int arrays: int(|u1 - u0|) samples of u from its smaller end, v on the line."""
    if u[0] > u[1]:
        u, v = u[::-1], v[::-1]
    n_samples = int(u[1] - u[0])
    if n_samples == 0:
        return np.zeros(0, int), np.zeros(0, int)
    # The official code fitted this line with scipy's curve_fit; through two points it is exact.
    slope = (v[1] - v[0]) / (u[1] - u[0])
    intercept = v[0] - slope * u[0]
    us = np.linspace(u[0], u[1], n_samples)
    return us.astype(int), (slope * us + intercept).astype(int)


def draw_segment(canvas: np.ndarray, ends: np.ndarray, colour: Colour, brush: int) -> None:
    """Stamps the segment between `ends` `(2, 2)` onto `canvas` `(H, W, 3)` uint8 with a square brush of
    side 2*brush, then discs of radius 2*brush at its first and last samples (the official drawEdge)."""
    xs, ys = sample_segment(ends)
    if xs.size == 0:
        return
    h, w = canvas.shape[:2]
    for i in range(-brush, brush):
        for j in range(-brush, brush):
            paint(canvas, _inside(ys + i, h), _inside(xs + j, w), colour)
    end_ys, end_xs = np.array([ys[0], ys[-1]]), np.array([xs[0], xs[-1]])
    radius = 2 * brush
    for i in range(-radius, radius):
        for j in range(-radius, radius):
            if i * i + j * j < radius * radius:
                paint(canvas, _inside(end_ys + i, h), _inside(end_xs + j, w), colour)


def _inside(coords: np.ndarray, size: int) -> np.ndarray:
    """Coordinates clamped to [0, size - 1] (what np.clip does, without its per-call overhead)."""
    return np.maximum(0, np.minimum(size - 1, coords))


def paint(canvas: np.ndarray, ys: np.ndarray, xs: np.ndarray, colour: Colour) -> None:
    """One stamp: the pixels (ys, xs) take `colour` if all are black, else floor((old + colour) / 2)."""
    under = canvas[ys, xs]
    if under.any():
        canvas[ys, xs] = ((under.astype(np.float64) + colour) / 2).astype(np.uint8)
    else:
        canvas[ys, xs] = colour
