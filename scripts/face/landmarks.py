"""dlib's frontal face detector and 68-point landmark predictor, found on this machine without a download.

The predictor file `shape_predictor_68_face_landmarks.dat` comes from the `face-recognition-models` package
(PyPI, `pip install -r requirements-face.txt`) or from Debian's `libdlib-data` (`/usr/share/dlib/`);
`--predictor PATH` overrides both. dlib itself comes from PyPI's `dlib-bin` wheel. The model was trained on
iBUG 300-W, whose licence excludes commercial use.
"""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import numpy as np

PREDICTOR_NAME = "shape_predictor_68_face_landmarks.dat"
DEBIAN_DIR = "/usr/share/dlib"


def predictor_candidates() -> list[str]:
    """Where the predictor is looked for, in order: face-recognition-models' models/ folder, then Debian's.

    The package is located without importing it (its __init__ needs setuptools' pkg_resources).
    """
    candidates = []
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidates.append(os.path.join(folder, "models", PREDICTOR_NAME))
    candidates.append(os.path.join(DEBIAN_DIR, PREDICTOR_NAME))
    return candidates


def find_predictor(override: str | None = None) -> str:
    """The predictor file: `override` if given, else the first candidate that exists.

    Raises FileNotFoundError saying where it looked and which package provides the file.
    """
    if override:
        if not os.path.isfile(override):
            raise FileNotFoundError(f"--predictor {override}: no such file")
        return override
    candidates = predictor_candidates()
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{PREDICTOR_NAME} not found (looked in {', '.join(candidates)}); install the "
                            "face-recognition-models package (pip install -r requirements-face.txt) or Debian's "
                            "libdlib-data, or pass --predictor PATH")


def import_dlib() -> ModuleType:
    """dlib, or ModuleNotFoundError saying how to install it."""
    try:
        import dlib
    except ImportError as err:
        raise ModuleNotFoundError("dlib is not installed: pip install -r requirements-face.txt (dlib-bin, a "
                                  f"prebuilt wheel of dlib) ({err})") from None
    return dlib


class FaceLandmarker:
    """The 68 landmarks of the first face dlib's frontal detector finds in a frame (official
    data/face_landmark_detection.py: `detector(img, upsample)`, then the predictor on `dets[0]`)."""

    def __init__(self, predictor_path: str, upsample: int = 1) -> None:
        dlib = import_dlib()
        self.detector = dlib.get_frontal_face_detector()
        try:
            self.predictor = dlib.shape_predictor(predictor_path)
        except RuntimeError as err:
            raise ValueError(f"cannot load the landmark predictor {predictor_path}: {err}") from None
        self.upsample = upsample

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        """frame: `(H, W, 3)` uint8 RGB. Returns int `(68, 2)` (x, y) points, or None without a face."""
        faces = self.detector(frame, self.upsample)
        if len(faces) == 0:
            return None
        shape = self.predictor(frame, faces[0])
        return np.array([(shape.part(i).x, shape.part(i).y) for i in range(shape.num_parts)], dtype=np.int64)
