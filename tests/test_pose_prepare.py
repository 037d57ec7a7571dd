"""scripts/pose/prepare_video.py and its MediaPipe -> OpenPose mapping: the mapping on hand-made landmarks,
and the bad-input errors (one line, exit code 2, nothing overwritten). The real-video run is in
tests/test_pose_end_to_end.py."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from scripts.pose.openpose_format import BODY_25_FROM_MEDIAPIPE, FACE_68_FROM_MESH, body_25, face_70, holistic_person

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "pose" / "prepare_video.py"
HAS_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None


def landmarks(points: np.ndarray) -> SimpleNamespace:
    """MediaPipe-like landmark list from `(N, 3)` normalised x, y and visibility."""
    return SimpleNamespace(landmark=[SimpleNamespace(x=x, y=y, visibility=v) for x, y, v in points])


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_body_25_mapping():
    pose = np.zeros((33, 3))
    pose[:, 0] = np.arange(33)  # x = the MediaPipe index, so each output point says where it came from
    pose[:, 1] = 100 + np.arange(33)
    pose[:, 2] = 0.9
    pose[12, 2] = 0.4  # right shoulder
    body = body_25(pose)
    assert body[0].tolist() == [0, 100, 0.9]  # nose
    assert body[1].tolist() == [11.5, 111.5, 0.4]  # neck: mid-shoulders, the lower confidence
    assert body[8].tolist() == [23.5, 123.5, 0.9]  # mid-hip
    assert body[[2, 3, 4, 5, 6, 7], 0].tolist() == [12, 14, 16, 11, 13, 15]  # right arm, then left arm
    assert body[[9, 10, 11, 12, 13, 14], 0].tolist() == [24, 26, 28, 23, 25, 27]  # right leg, then left leg
    assert body[[15, 16, 17, 18], 0].tolist() == [5, 2, 8, 7]  # right eye, left eye, right ear, left ear
    assert body[[19, 21, 22, 24], 0].tolist() == [31, 29, 32, 30]  # big toes and heels
    assert not body[[20, 23]].any()  # the small toes: not detected
    assert len(BODY_25_FROM_MEDIAPIPE) == 25


def test_face_70_mapping():
    mesh = np.zeros((478, 3))
    mesh[:, 0] = np.arange(478)
    face = face_70(mesh, 0.7)
    assert face[:68, 0].tolist() == list(FACE_68_FROM_MESH) and len(set(FACE_68_FROM_MESH)) == 68
    assert face[[8, 30, 36, 39, 42, 45, 48, 54], 0].tolist() == [152, 1, 33, 133, 362, 263, 61, 291]
    assert face[68:, 0].tolist() == [468, 473]  # pupils: the iris centres, right then left
    assert (face[:, 2] == 0.7).all()
    without_iris = face_70(mesh[:468], 0.7)  # pupils become the means of the eye points
    assert without_iris[68, 0] == np.mean([33, 160, 158, 133, 153, 144])


def test_holistic_person_pixels_confidences_and_missing_parts():
    pose = np.full((33, 3), 0.5)
    pose[:, 2] = 0.8
    pose[16] = (1.2, 0.5, 0.95)  # right wrist outside the image: confidence 0
    hand = np.full((21, 3), 0.25)
    results = SimpleNamespace(pose_landmarks=landmarks(pose), face_landmarks=None,
                              left_hand_landmarks=landmarks(hand), right_hand_landmarks=None)
    person = holistic_person(results, width=200, height=100)
    body = np.array(person["pose_keypoints_2d"]).reshape(25, 3)
    assert body[0].tolist() == [100.0, 50.0, 0.8]  # normalised -> pixels
    assert body[4].tolist() == [0, 0, 0]  # outside the frame: written as undetected
    left = np.array(person["hand_left_keypoints_2d"]).reshape(21, 3)
    assert left[0].tolist() == [50.0, 25.0, 0.8]  # the hand takes the left wrist's visibility
    assert person["hand_right_keypoints_2d"] == [0] * 63 and person["face_keypoints_2d"] == [0] * 210
    assert holistic_person(SimpleNamespace(pose_landmarks=None), 200, 100) is None


def test_help():
    result = run_script("--help", cwd=REPO)
    assert result.returncode == 0 and "usage" in result.stdout.lower()


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and all(w in lines[-1] for w in words), result.stderr[-2000:]


def test_missing_and_unreadable_videos(tmp_path: Path):
    one_line_error(run_script(str(tmp_path / "nope.mp4"), str(tmp_path / "out"), cwd=tmp_path), "nope.mp4",
                   "not found")
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    one_line_error(run_script(str(broken), str(tmp_path / "out"), cwd=tmp_path), "broken.mp4", "cannot open")
    assert not (tmp_path / "out" / "train_img").exists()


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()


def test_existing_output_is_never_overwritten(tmp_path: Path):
    video = tmp_path / "clip.avi"
    write_video(video, [np.full((64, 64, 3), 128, np.uint8)] * 3)
    kept = tmp_path / "out" / "train_openpose" / "clip" / "000000_keypoints.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("mine")
    one_line_error(run_script(str(video), str(tmp_path / "out"), cwd=tmp_path), "train_openpose/clip",
                   "not empty")
    assert kept.read_text() == "mine" and not (tmp_path / "out" / "train_img").exists()
    one_line_error(run_script(str(video), str(tmp_path / "out2"), "--crop", "0", "0", "65", "10", cwd=tmp_path),
                   "--crop 0 0 65 10", "64x64")


@pytest.mark.skipif(not HAS_MEDIAPIPE, reason="mediapipe is not installed (pip install -r requirements-pose.txt)")
def test_a_video_without_anyone(tmp_path: Path):
    video = tmp_path / "empty.avi"
    rng = np.random.default_rng(0)
    write_video(video, [rng.integers(100, 140, (240, 320, 3), dtype=np.uint8) for _ in range(4)])
    result = run_script(str(video), str(tmp_path / "out"), cwd=tmp_path)
    one_line_error(result, "empty.avi", "no person in any of the 4 frames")
    assert not (tmp_path / "out" / "train_img").exists() and not list((tmp_path / "out").glob(".prepare*"))


def test_people_list_when_nobody_is_found(tmp_path: Path):
    # the JSON a frame without a person gets, as OpenPose writes it (checked without MediaPipe)
    from scripts.pose.prepare_video import write_frame
    write_frame(np.zeros((8, 8, 3), np.uint8), None, "000007", str(tmp_path), str(tmp_path), "png")
    assert json.loads((tmp_path / "000007_keypoints.json").read_text())["people"] == []
    assert (tmp_path / "000007.png").is_file()
