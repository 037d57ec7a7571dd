"""OpenPose keypoint files (`<frame>_keypoints.json`): read, check and return each person's keypoints.

A file holds `{"people": [person, ...]}`; each person has flat lists `pose_keypoints_2d` (BODY_25: 25 x (x, y,
confidence)), `face_keypoints_2d` (70 points: the 68 iBUG points and the two pupils) and
`hand_left_keypoints_2d` / `hand_right_keypoints_2d` (21 points each). OpenPose writes an empty list for a
part it was not asked to detect; that part is read as undetected (all zeros).
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

# (JSON key, number of keypoints) of each part, in the order of `PersonKeypoints`.
KEYPOINT_KEYS = (
    ("pose_keypoints_2d", 25),
    ("face_keypoints_2d", 70),
    ("hand_left_keypoints_2d", 21),
    ("hand_right_keypoints_2d", 21),
)


class PersonKeypoints(NamedTuple):
    """One person of an OpenPose file; each array is (P, 3): x and y in pixels, then the confidence."""

    body: np.ndarray  # (25, 3) BODY_25
    face: np.ndarray  # (70, 3)
    hand_left: np.ndarray  # (21, 3)
    hand_right: np.ndarray  # (21, 3)


def read_openpose_json(path: str) -> list[PersonKeypoints]:
    """The people of one OpenPose file (an empty list when it found none).

    Raises FileNotFoundError when the file is missing, and ValueError naming the file (and the key) when it
    is not JSON, has no `people` list, or a keypoint list of the wrong length or type.
    """
    try:
        with open(path, encoding="utf-8") as f:
            content = json.load(f)
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable OpenPose JSON file ({err})") from err
    if not isinstance(content, dict) or "people" not in content:
        raise ValueError(f"{path}: no 'people' key; an OpenPose keypoint file holds {{\"people\": [...]}}")
    people = content["people"]
    if not isinstance(people, list):
        raise ValueError(f"{path}: 'people' must be a list, found {type(people).__name__}")
    return [_person(path, index, person) for index, person in enumerate(people)]


def _person(path: str, index: int, person: object) -> PersonKeypoints:
    """Checks one entry of `people` and reshapes its four keypoint lists."""
    if not isinstance(person, dict):
        raise ValueError(f"{path}: people[{index}] must be an object, found {type(person).__name__}")
    parts = []
    for key, n_points in KEYPOINT_KEYS:
        if key not in person:
            raise ValueError(f"{path}: people[{index}] has no '{key}' ({n_points} x (x, y, confidence) values)")
        values = person[key]
        if isinstance(values, list) and not values:
            parts.append(np.zeros((n_points, 3)))  # OpenPose's empty list: the part was not detected
            continue
        if not isinstance(values, list) or len(values) != 3 * n_points:
            found = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
            raise ValueError(f"{path}: people[{index}].{key} has {found}; expected {3 * n_points} "
                             f"({n_points} keypoints x (x, y, confidence))")
        try:
            parts.append(np.asarray(values, dtype=np.float64).reshape(n_points, 3))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: people[{index}].{key} must hold numbers ({err})") from err
    return PersonKeypoints(*parts)
