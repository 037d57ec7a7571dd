"""A synthetic street-scene video dataset in the Cityscapes layout used by vid2vid: the public interface.

Each video is a camera driving forward along a straight street: a road with lane markings, sidewalks,
a row of building facades and trees on both sides, poles with traffic signs, and cars driving in the
lanes at their own speeds (the leftmost lane is oncoming traffic). Everything is deterministic given the
random generator passed in, so a seed fixes the whole dataset.

This module renders videos (`render_video`) and writes datasets (`generate_dataset`); it re-exports the
label ids and scene constants of the two modules doing the work: `street_scene.py` (what a street is made
of, and its random sampling) and `street_render.py` (its numpy ray-casting into frames).

On-disk layout (as the official `temporal` dataset mode reads it), for phase in {train, test}:
    <root>/<phase>_A/seq_000/frame_0000.png     8-bit grayscale, Cityscapes label ids
    <root>/<phase>_B/seq_000/frame_0000.png     RGB frame
    <root>/<phase>_inst/seq_000/frame_0000.png  8-bit grayscale instance map
    <root>/synthetic_street.json                the generation parameters (written last)

Instance encoding: vid2vid reads the instance map with a NEAREST transform and only uses the inequality
of neighbouring values (to draw an edge map), so it is stored in 8 bits: every pixel of a stuff class
holds its label id (< 34), and the pixels of car number k of a video hold `CAR_INSTANCE_BASE + k`
(100, 101, ...). A car keeps its value in every frame of its video.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from scripts.datasets.street_render import (
    GLASS,
    POLE_GRAY,
    TYRE,
    WHITE,
    _add_haze,
    _Background,
    _Canvas,
    _draw_background,
    _draw_cars,
    _draw_poles,
    _draw_shadows,
)
from scripts.datasets.street_scene import (
    BUILDING,
    BUILDING_COLOURS,
    CAMERA_HEIGHT,
    CAR,
    CAR_COLOURS,
    CAR_INSTANCE_BASE,
    FOCAL_PER_WIDTH,
    HAZE_DISTANCE,
    HORIZON_PER_HEIGHT,
    LABEL_IDS,
    NEAR,
    POLE,
    ROAD,
    SIDEWALK,
    SIGN_COLOURS,
    SKY,
    TRAFFIC_SIGN,
    VEGETATION,
    _Camera,
    _sample_street,
)

__all__ = [
    "BUILDING", "BUILDING_COLOURS", "CAMERA_HEIGHT", "CAR", "CAR_COLOURS", "CAR_INSTANCE_BASE", "FOCAL_PER_WIDTH",
    "GENERATOR_VERSION", "GLASS", "HAZE_DISTANCE", "HORIZON_PER_HEIGHT", "KINDS", "LABEL_IDS", "MANIFEST_NAME",
    "NEAR", "PHASES", "POLE", "POLE_GRAY", "ROAD", "SIDEWALK", "SIGN_COLOURS", "SKY", "TRAFFIC_SIGN", "TYRE",
    "VEGETATION", "WHITE", "generate_dataset", "render_video",
]

MANIFEST_NAME = "synthetic_street.json"
# Bumped whenever the renderer changes, so that a stale dataset on disk is regenerated.
GENERATOR_VERSION = 1
PHASES = ("train", "test")
KINDS = ("A", "B", "inst")


def render_video(rng: np.random.Generator, n_frames: int, width: int,
                 height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Renders one random street video in memory.

    Args:
        rng: the only source of randomness; the same generator state gives the same video.
        n_frames: number of frames T.
        width, height: frame size in pixels (at least 16 x 8).
    Returns:
        labels (T, H, W) uint8 Cityscapes ids from `LABEL_IDS`; instances (T, H, W) uint8 (label id for
        stuff, `CAR_INSTANCE_BASE + k` for car k); frames (T, H, W, 3) uint8 RGB.
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be at least 1, got {n_frames}")
    if width < 16 or height < 8:
        raise ValueError(f"width x height must be at least 16 x 8, got {width} x {height}")
    camera = _Camera.create(width, height)
    street = _sample_street(rng, n_frames, camera)
    background = _Background.create(camera, street)
    labels = np.empty((n_frames, height, width), np.uint8)
    instances = np.empty((n_frames, height, width), np.uint8)
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    for t in range(n_frames):
        canvas = _Canvas(labels[t], instances[t], np.empty((height, width, 3), np.float32),
                         np.full((height, width), np.inf))
        camera_z = street.camera_speed * t
        _draw_background(canvas, background, street, camera_z)
        _draw_shadows(canvas, background, street, t)
        _draw_cars(canvas, camera, street, t)
        _draw_poles(canvas, camera, street, camera_z)
        _add_haze(canvas, street)
        frames[t] = np.clip(np.rint(canvas.rgb), 0, 255).astype(np.uint8)
    return labels, instances, frames


def _manifest(n_train: int, n_test: int, n_frames: int, width: int, height: int, seed: int) -> dict:
    """The parameters that fully determine a generated dataset."""
    return {"generator_version": GENERATOR_VERSION, "n_train": n_train, "n_test": n_test,
            "n_frames": n_frames, "width": width, "height": height, "seed": seed}


def _sequence_names(count: int) -> list[str]:
    """Folder names of the videos of a phase."""
    return [f"seq_{index:03d}" for index in range(count)]


def _is_complete(root: Path, manifest: dict) -> bool:
    """True if `root` holds a finished dataset generated with exactly these parameters.

    The manifest is written last, so its presence means every frame was written; the folder listing
    additionally catches frames deleted by hand.
    """
    try:
        if json.loads((root / MANIFEST_NAME).read_text()) != manifest:
            return False
    except (OSError, ValueError):
        return False
    for phase in PHASES:
        names = _sequence_names(manifest[f"n_{phase}"])
        for kind in KINDS:
            folder = root / f"{phase}_{kind}"
            on_disk = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            if on_disk != names:
                return False
            if any(len(list((folder / name).glob("*.png"))) != manifest["n_frames"] for name in names):
                return False
    return True


def _clear(root: Path) -> None:
    """Removes a previous dataset: only the manifest and the folders this module writes."""
    (root / MANIFEST_NAME).unlink(missing_ok=True)
    for phase in PHASES:
        for kind in KINDS:
            shutil.rmtree(root / f"{phase}_{kind}", ignore_errors=True)


def _write_video(root: Path, phase: str, name: str, labels: np.ndarray, instances: np.ndarray,
                 frames: np.ndarray) -> None:
    """Writes one video as `<phase>_{A,inst,B}/<name>/frame_%04d.png`."""
    for kind, video in (("A", labels), ("inst", instances), ("B", frames)):
        folder = root / f"{phase}_{kind}" / name
        folder.mkdir(parents=True, exist_ok=True)
        for t, image in enumerate(video):
            # Fast PNG compression: the files are small and written often (tests, demo).
            Image.fromarray(image).save(folder / f"frame_{t:04d}.png", compress_level=1)


def generate_dataset(root: str, n_train: int = 8, n_test: int = 2, n_frames: int = 30, width: int = 256,
                     height: int = 128, seed: int = 0, on_video: Callable[[], object] | None = None) -> None:
    """Writes a synthetic street dataset under `root`, unless an identical one is already there.

    Video i of a phase only depends on (seed, phase, i), so changing `n_train` keeps the test videos.
    A dataset with other parameters (or an incomplete one) is removed and generated again.

    Args:
        root: dataset folder (the `--dataroot` of training); created if missing.
        n_train, n_test: number of videos in train_* and test_*.
        n_frames: frames per video.
        width, height: frame size in pixels.
        seed: non-negative seed of the whole dataset.
        on_video: called after each video is written (e.g. a progress bar's update).
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    path = Path(root)
    manifest = _manifest(n_train, n_test, n_frames, width, height, seed)
    if _is_complete(path, manifest):
        return
    _clear(path)
    path.mkdir(parents=True, exist_ok=True)
    for phase_index, phase in enumerate(PHASES):
        for index, name in enumerate(_sequence_names(manifest[f"n_{phase}"])):
            rng = np.random.default_rng([seed, phase_index, index])
            _write_video(path, phase, name, *render_video(rng, n_frames, width, height))
            if on_video is not None:
                on_video()
    (path / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
