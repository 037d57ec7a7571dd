"""MediaPipe Holistic landmarks written as one OpenPose person (BODY_25, 70 face points, two 21-point hands).

MediaPipe gives normalised (x, y) in [0, 1] of the image and, for its 33 body landmarks, a visibility score.
Here they become OpenPose's pixel coordinates and confidences:
- body: each BODY_25 point is one MediaPipe landmark, or the midpoint of two (neck = mid-shoulders, mid-hip =
  mid-hips, confidence the lower of the two); the small toes have no MediaPipe landmark and get confidence 0;
- hands: the 21 MediaPipe hand points have OpenPose's layout (wrist, then four points per finger from the
  thumb); they carry no score of their own, so each takes the visibility of the body's wrist;
- face: 68 face-mesh vertices at the iBUG-68 positions and the two iris centres as pupils (68 = right,
  69 = left), with the visibility of the nose as confidence, since the mesh has no score either.
A point outside the image gets confidence 0, as OpenPose reports nothing there. Undetected parts are written
as zeros, as OpenPose writes them. "Left" and "right" are the person's, in both conventions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# BODY_25 index -> MediaPipe pose landmark, a pair whose midpoint it is, or None (not detected).
BODY_25_FROM_MEDIAPIPE: tuple[int | tuple[int, int] | None, ...] = (
    0,  # 0 nose
    (11, 12),  # 1 neck: mid-shoulders
    12, 14, 16,  # 2-4 right shoulder, elbow, wrist
    11, 13, 15,  # 5-7 left shoulder, elbow, wrist
    (23, 24),  # 8 mid-hip
    24, 26, 28,  # 9-11 right hip, knee, ankle
    23, 25, 27,  # 12-14 left hip, knee, ankle
    5, 2,  # 15, 16 right, left eye
    8, 7,  # 17, 18 right, left ear
    31, None, 29,  # 19-21 left big toe (foot index), small toe, heel
    32, None, 30,  # 22-24 right big toe, small toe, heel
)
LEFT_WRIST, RIGHT_WRIST, NOSE = 15, 16, 0

# iBUG-68 index -> face-mesh vertex, point by point: jaw from the right ear (0) round the chin (8) to the left
# ear (16); right eyebrow outer to inner, left eyebrow inner to outer; nose bridge down to the tip; nose base
# from right to left; right eye from its outer corner clockwise in the image, left eye from its inner
# corner; outer lips from the right corner over the top; inner lips likewise.
FACE_68_FROM_MESH: tuple[int, ...] = (
    127, 234, 93, 132, 58, 172, 136, 149, 152, 378, 365, 397, 288, 361, 323, 454, 356,  # jaw 0-16
    70, 63, 105, 66, 107,  # right eyebrow 17-21
    336, 296, 334, 293, 300,  # left eyebrow 22-26
    168, 197, 5, 1,  # nose bridge 27-30 (1: the tip)
    98, 97, 2, 326, 327,  # nose base 31-35
    33, 160, 158, 133, 153, 144,  # right eye 36-41
    362, 385, 387, 263, 373, 380,  # left eye 42-47
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,  # outer lips 48-59
    78, 81, 13, 311, 308, 402, 14, 178,  # inner lips 60-67
)
# Iris centres, present with refine_face_landmarks (478 vertices): OpenPose's 68 (right) and 69 (left).
PUPILS_FROM_MESH = (468, 473)
# Without iris vertices a pupil is the mean of its eye's six iBUG points.
EYES_68 = (range(36, 42), range(42, 48))


def _pixels(landmarks: Sequence, width: int, height: int) -> np.ndarray:
    """MediaPipe landmarks -> `(N, 3)`: x and y in pixels, then visibility (0 where the model has none)."""
    return np.array([[lm.x * width, lm.y * height, getattr(lm, "visibility", 0.0)] for lm in landmarks])


def _hide_outside(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Zeroes the confidence of points outside the image `(N, 3)`, in place; returns them."""
    x, y = points[:, 0], points[:, 1]
    points[(x < 0) | (x >= width) | (y < 0) | (y >= height), 2] = 0
    return points


def body_25(pose: np.ndarray) -> np.ndarray:
    """MediaPipe's 33 body points `(33, 3)` in pixels -> BODY_25 `(25, 3)`."""
    out = np.zeros((25, 3))
    for i, source in enumerate(BODY_25_FROM_MEDIAPIPE):
        if source is None:
            continue
        if isinstance(source, tuple):
            a, b = pose[source[0]], pose[source[1]]
            out[i] = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, min(a[2], b[2])]
        else:
            out[i] = pose[source]
    return out


def face_70(mesh: np.ndarray, confidence: float) -> np.ndarray:
    """Face-mesh vertices `(468 or 478, 3)` in pixels -> OpenPose's 70 face points `(70, 3)`."""
    out = np.zeros((70, 3))
    out[:68, :2] = mesh[list(FACE_68_FROM_MESH), :2]
    if mesh.shape[0] > max(PUPILS_FROM_MESH):
        out[68:, :2] = mesh[list(PUPILS_FROM_MESH), :2]
    else:
        out[68:, :2] = [out[list(eye), :2].mean(axis=0) for eye in EYES_68]
    out[:, 2] = confidence
    return out


def holistic_person(results: object, width: int, height: int) -> dict | None:
    """One OpenPose `people` entry from a Holistic result on a `width` x `height` image, or None when no
    body was found. Keypoint lists are flat (x, y, confidence) triples, as OpenPose writes them."""
    if results.pose_landmarks is None:
        return None
    pose = _pixels(results.pose_landmarks.landmark, width, height)
    body = _hide_outside(body_25(pose), width, height)
    person = {"person_id": [-1], "pose_keypoints_2d": _flat(body)}
    face = np.zeros((70, 3))
    if results.face_landmarks is not None:
        face = face_70(_pixels(results.face_landmarks.landmark, width, height), pose[NOSE, 2])
    person["face_keypoints_2d"] = _flat(_hide_outside(face, width, height))
    for key, landmarks, wrist in (("hand_left_keypoints_2d", results.left_hand_landmarks, LEFT_WRIST),
                                  ("hand_right_keypoints_2d", results.right_hand_landmarks, RIGHT_WRIST)):
        hand = np.zeros((21, 3))
        if landmarks is not None:
            hand = _pixels(landmarks.landmark, width, height)
            hand[:, 2] = pose[wrist, 2]
        person[key] = _flat(_hide_outside(hand, width, height))
    for key in ("pose_keypoints_3d", "face_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d"):
        person[key] = []
    return person


def _flat(points: np.ndarray) -> list[float]:
    """`(N, 3)` -> OpenPose's flat list; undetected points (confidence 0) are written as 0, 0, 0."""
    points = points.copy()
    points[points[:, 2] <= 0] = 0
    return [round(float(v), 3) for v in points.reshape(-1)]
