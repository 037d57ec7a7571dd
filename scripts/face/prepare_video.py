"""Turns a talking-head video into an edge2face dataset (`--dataset_mode face`), offline.

    python scripts/face/prepare_video.py VIDEO OUT_DIR [--phase train|test] [--seq NAME] [--every K]
        [--max_frames N] [--predictor PATH] [--smooth N] [--max_gap G] [--split N]

Decodes the video (imageio-ffmpeg), finds the first face of each frame with dlib's frontal detector and
fits the 68-point predictor (as the official data/face_landmark_detection.py), and writes the official
layout: OUT_DIR/<phase>_img/<seq>/<frame>.jpg and OUT_DIR/<phase>_keypoints/<seq>/<frame>.txt (68 rows
`x,y`, integers). Frames without a face are reported; gaps of up to --max_gap frames are interpolated, a
longer gap starts a new sequence (<seq>_01, <seq>_02, ...). Nothing that exists is overwritten: the frames
are staged in a hidden folder of OUT_DIR and moved into place at the end. Dependencies:
requirements-face.txt (dlib-bin, face-recognition-models for the predictor; its model is trained on
iBUG 300-W, whose licence excludes commercial use).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Generator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from tqdm import tqdm  # noqa: E402

from scripts.face.landmarks import FaceLandmarker, find_predictor  # noqa: E402
from scripts.face.tracks import Tracks, build_tracks, cut_sequences, smooth  # noqa: E402
from util.cli import run_main  # noqa: E402

MIN_SEQUENCE = 3  # vid2vid's default n_frames_G: a shorter sequence gives no training window
JPEG_QUALITY = 95


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("video", help="any video ffmpeg decodes")
    p.add_argument("out_dir", help="the dataset folder (--dataroot of train.py / test.py)")
    p.add_argument("--phase", default="train", choices=["train", "test"], help="folder prefix")
    p.add_argument("--seq", default=None, help="sequence name (default: the video's file name)")
    p.add_argument("--every", type=int, default=1, help="keep every K-th frame")
    p.add_argument("--max_frames", type=int, default=0, help="stop after N kept frames (0: all)")
    p.add_argument("--predictor", default=None, help="shape_predictor_68_face_landmarks.dat to use")
    p.add_argument("--smooth", type=int, default=0, help="average the landmarks over N frames (0: off)")
    p.add_argument("--max_gap", type=int, default=3, help="interpolate gaps of up to G frames without a face")
    p.add_argument("--split", type=int, default=0, help="cut sequences into pieces of N frames (0: no cut)")
    p.add_argument("--upsample", type=int, default=1, help="dlib detector upsampling (official: 1)")
    args = p.parse_args(argv)
    if args.every < 1 or args.max_frames < 0 or args.max_gap < 0 or args.split < 0:
        p.error("--every must be >= 1 and --max_frames, --max_gap, --split >= 0")
    args.seq = args.seq or os.path.splitext(os.path.basename(args.video))[0]
    return args


@dataclass
class Summary:
    """What one run did, for the printed summary and for tests."""

    frames_read: int
    faces_found: int
    tracks: Tracks
    written: dict[str, int]  # sequence name -> frames


def read_video(path: str) -> tuple[dict, Generator[np.ndarray, None, None]]:
    """(metadata, iterator of `(H, W, 3)` uint8 RGB frames); a one-line error for a video that cannot be
    opened (FileNotFoundError when missing, ValueError otherwise)."""
    import imageio_ffmpeg

    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such video file")
    reader = imageio_ffmpeg.read_frames(path)
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as err:
        detail = [line for line in str(err).splitlines() if line.strip()]
        raise ValueError(f"cannot open video {path}: {detail[-1] if detail else type(err).__name__}") from None
    w, h = meta["size"]

    def frames() -> Generator[np.ndarray, None, None]:
        try:
            for buffer in reader:
                yield np.frombuffer(buffer, np.uint8).reshape(h, w, 3)
        finally:
            reader.close()  # ends ffmpeg, also when the caller stops early

    return meta, frames()


def check_free(out_dir: str, phase: str, seq: str) -> None:
    """Raises ValueError when a sequence folder this run could write (`<seq>` or `<seq>_NN`) exists."""
    for suffix in ("img", "keypoints"):
        folder = os.path.join(out_dir, f"{phase}_{suffix}")
        taken = [n for n in (os.listdir(folder) if os.path.isdir(folder) else []) if n == seq or
                 (n.startswith(seq + "_") and n[len(seq) + 1 :].isdigit())]
        if taken:
            raise ValueError(f"{os.path.join(folder, taken[0])} already exists: choose another --seq or OUT_DIR "
                             "(nothing is overwritten)")


def detect_all(args: argparse.Namespace, staging: str) -> list[np.ndarray | None]:
    """Reads the kept frames, stages each as `<index>.jpg`, and returns each one's landmarks or None."""
    landmarker = FaceLandmarker(find_predictor(args.predictor), args.upsample)
    meta, frames = read_video(args.video)
    expected = int((meta.get("duration") or 0) * (meta.get("fps") or 0)) // args.every or None
    if args.max_frames:
        expected = min(expected or args.max_frames, args.max_frames)
    found: list[np.ndarray | None] = []
    with tqdm(total=expected, desc="faces", unit="frame") as progress:
        for index, frame in enumerate(frames):
            if index % args.every:
                continue
            if args.max_frames and len(found) >= args.max_frames:
                break
            Image.fromarray(frame).save(os.path.join(staging, f"{len(found):06d}.jpg"), quality=JPEG_QUALITY)
            found.append(landmarker(frame))
            progress.update()
    frames.close()  # stops the decoder when we stopped early
    return found


def write_sequences(args: argparse.Namespace, staging: str, tracks: Tracks) -> dict[str, int]:
    """Moves the staged frames of each sequence into place and writes their keypoint files."""
    sequences = cut_sequences(tracks.sequences, args.split, MIN_SEQUENCE)
    names = [args.seq] if len(sequences) == 1 else [f"{args.seq}_{n:02d}" for n in range(1, len(sequences) + 1)]
    check_free(args.out_dir, args.phase, args.seq)  # again: another run may have written meanwhile
    written = {}
    for name, positions in zip(names, sequences):
        img_dir = os.path.join(args.out_dir, f"{args.phase}_img", name)
        kp_dir = os.path.join(args.out_dir, f"{args.phase}_keypoints", name)
        os.makedirs(img_dir)
        os.makedirs(kp_dir)
        points = smooth([tracks.points[p] for p in positions], args.smooth)
        for position, frame_points in zip(positions, points):
            stem = f"{position * args.every:06d}"  # the frame's index in the video
            os.replace(os.path.join(staging, f"{position:06d}.jpg"), os.path.join(img_dir, stem + ".jpg"))
            np.savetxt(os.path.join(kp_dir, stem + ".txt"), np.rint(frame_points), fmt="%d", delimiter=",")
        written[name] = len(positions)
    return written


def prepare(args: argparse.Namespace) -> Summary:
    """The whole run; returns its summary (also printed). Raises a one-line error for bad input."""
    check_free(args.out_dir, args.phase, args.seq)
    find_predictor(args.predictor)  # fail before decoding anything
    if not os.path.isfile(args.video):
        raise FileNotFoundError(f"{args.video}: no such video file")
    os.makedirs(args.out_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".prepare_{args.seq}_", dir=args.out_dir)
    try:
        found = detect_all(args, staging)
        n_faces = sum(p is not None for p in found)
        if not n_faces:
            raise ValueError(f"{args.video}: no face found in any of the {len(found)} frames read")
        tracks = build_tracks(found, args.max_gap, MIN_SEQUENCE)
        if not tracks.sequences:
            raise ValueError(f"{args.video}: no run of {MIN_SEQUENCE} frames with a face (faces in {n_faces} of "
                             f"{len(found)} frames); try a larger --max_gap")
        summary = Summary(len(found), n_faces, tracks, write_sequences(args, staging, tracks))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(summary_text(args, summary))
    return summary


def summary_text(args: argparse.Namespace, summary: Summary) -> str:
    tracks = summary.tracks
    gaps = ", ".join(f"{(start) * args.every}+{length}" for start, length in tracks.gaps[:10])
    more = f" (+{len(tracks.gaps) - 10} more)" if len(tracks.gaps) > 10 else ""
    lines = [
        f"{args.video}: {summary.frames_read} frames read (every {args.every}), a face in {summary.faces_found}, "
        f"none in {summary.frames_read - summary.faces_found}",
        f"gaps without a face: {len(tracks.gaps)}" + (f" (frame+length: {gaps}{more})" if gaps else "")
        + f"; {tracks.interpolated} frames interpolated, {tracks.dropped} frames not written",
        f"sequences written: {len(summary.written)}: "
        + ", ".join(f"{name} ({n} frames)" for name, n in summary.written.items())
        + f" in {os.path.join(args.out_dir, args.phase + '_img')} and _keypoints",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    prepare(parse_args(argv))


if __name__ == "__main__":
    run_main(main)
