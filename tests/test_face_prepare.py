"""scripts/face/prepare_video.py and its parts: gaps, splits and smoothing on hand-written tracks, where the
predictor is looked for, and the one-line errors for bad input (nothing written)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from scripts.face import landmarks
from scripts.face.prepare_video import parse_args, prepare
from scripts.face.tracks import build_tracks, cut_sequences, smooth

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "face", "prepare_video.py")


def face(value: float) -> np.ndarray:
    return np.full((68, 2), value)


def test_short_gaps_are_interpolated_long_ones_split():
    # frames: -, 0, -, -, 30, 40, -, -, -, -, 90, 100, 110, -   (max_gap 2)
    found = [None, face(0), None, None, face(30), face(40), None, None, None, None, face(90), face(100),
             face(110), None]
    tracks = build_tracks(found, max_gap=2, min_length=3)
    assert tracks.sequences == [[1, 2, 3, 4, 5], [10, 11, 12]]
    assert tracks.points[2][0, 0] == 10 and tracks.points[3][0, 0] == 20  # a third and two thirds of the way
    assert tracks.gaps == [(0, 1), (2, 2), (6, 4), (13, 1)]
    assert tracks.interpolated == 2 and tracks.dropped == 1 + 4 + 1
    # a sequence shorter than min_length is dropped, and counted
    short = build_tracks([face(0), face(1), None, None, None, face(5), face(6), face(7)], 1, 3)
    assert short.sequences == [[5, 6, 7]] and short.dropped == 3 + 2


def test_cut_and_smooth():
    assert cut_sequences([list(range(7))], 3, 2) == [[0, 1, 2], [3, 4, 5, 6]]  # a last piece of 1 joins
    assert cut_sequences([list(range(7))], 3, 1) == [[0, 1, 2], [3, 4, 5], [6]]
    assert cut_sequences([[0, 1]], 0, 3) == [[0, 1]]
    smoothed = smooth([face(0), face(3), face(9), face(0)], 3)
    assert [p[0, 0] for p in smoothed] == [1.5, 4.0, 4.0, 4.5]  # window shrunk at the ends
    assert smooth([face(1)], 0)[0][0, 0] == 1


def test_predictor_lookup(tmp_path, monkeypatch):
    candidates = landmarks.predictor_candidates()
    assert candidates[-1] == "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"
    given = tmp_path / "mine.dat"
    given.write_bytes(b"x")
    assert landmarks.find_predictor(str(given)) == str(given)
    with pytest.raises(FileNotFoundError, match=r"--predictor .*nothing\.dat: no such file"):
        landmarks.find_predictor(str(tmp_path / "nothing.dat"))
    monkeypatch.setattr(landmarks, "predictor_candidates", lambda: [str(tmp_path / "a.dat"), "/none/b.dat"])
    with pytest.raises(FileNotFoundError, match=r"not found \(looked in .*a\.dat, /none/b\.dat\); install the "
                                                r"face-recognition-models package .* libdlib-data"):
        landmarks.find_predictor()


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300)


def test_help_and_missing_predictor_exit_with_one_line(tmp_path):
    assert "usage" in run_script("--help").stdout
    result = run_script("video.mp4", str(tmp_path / "out"), "--predictor", str(tmp_path / "none.dat"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: --predictor {tmp_path / 'none.dat'}: no such file"]
    assert not (tmp_path / "out").exists()


def have_predictor() -> bool:
    try:
        import dlib  # noqa: F401

        landmarks.find_predictor()
        return True
    except (ImportError, FileNotFoundError):
        return False


needs_dlib = pytest.mark.skipif(not have_predictor(), reason="dlib or its 68-point predictor is not installed "
                                                             "(pip install -r requirements-face.txt)")


def noise_video(path, n_frames: int = 4) -> None:
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(str(path), (64, 48), fps=10, macro_block_size=1)
    writer.send(None)
    rng = np.random.default_rng(0)
    for _ in range(n_frames):
        writer.send(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8).tobytes())
    writer.close()


@needs_dlib
def test_bad_videos(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError, match=r"missing\.mp4: no such video file"):
        prepare(parse_args([str(tmp_path / "missing.mp4"), str(out)]))
    assert not out.exists()
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(ValueError, match=r"cannot open video .*notes\.mp4: "):
        prepare(parse_args([str(text), str(out)]))
    noise_video(tmp_path / "noise.mp4")
    with pytest.raises(ValueError, match=r"noise\.mp4: no face found in any of the 4 frames read"):
        prepare(parse_args([str(tmp_path / "noise.mp4"), str(out)]))
    assert os.listdir(out) == []  # the staging folder is gone and nothing was written


def test_existing_sequence_is_not_overwritten(tmp_path):
    (tmp_path / "train_img" / "clip_02").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"train_img/clip_02 already exists: choose another --seq or OUT_DIR"):
        prepare(parse_args(["clip.mp4", str(tmp_path)]))
    assert os.listdir(tmp_path / "train_img" / "clip_02") == []
    prepare_args = parse_args(["v/clip.mp4", str(tmp_path), "--seq", "other", "--every", "2"])
    assert (prepare_args.seq, prepare_args.every, prepare_args.phase) == ("other", 2, "train")
