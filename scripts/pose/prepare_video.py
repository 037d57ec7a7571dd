"""Turns a plain video into a pose2body dataset: frames plus OpenPose-format keypoints, offline.

    python scripts/pose/prepare_video.py VIDEO OUT_DIR [--phase train] [--seq NAME] [--every K]
        [--max_frames N] [--start F] [--crop X Y W H] [--scale S]

writes OUT_DIR/<phase>_img/<seq>/<frame>.jpg and OUT_DIR/<phase>_openpose/<seq>/<frame>_keypoints.json
(<frame> = the frame's index in the video, six digits), the layout `--dataset_mode pose --openpose_only`
reads. The keypoints come from MediaPipe Holistic (mediapipe 0.10.21, models from its wheel, nothing is
downloaded; see requirements-pose.txt), mapped onto OpenPose's BODY_25, hands and 70 face points
(scripts/pose/openpose_format.py). Holistic follows one person: a frame gets that person, or `"people": []`
when it finds none, as OpenPose writes it. DensePose has no offline estimator here: train with
--openpose_only, or add your own <phase>_densepose IUV images.

--crop (in pixels of the video) and --scale (after the crop) help when the person is small in the frame:
MediaPipe needs a body of a few hundred pixels. The folders are written to a temporary folder and moved into
place only when the whole video went well; existing <seq> folders are never overwritten.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from scripts.pose.openpose_format import holistic_person  # noqa: E402
from util.cli import run_main  # noqa: E402

OPENPOSE_VERSION = 1.3  # the "version" field of OpenPose's JSON output


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("video", help="the video file (anything OpenCV's FFmpeg reads: mp4, avi, mov, ...)")
    p.add_argument("out_dir", help="the dataset folder (--dataroot of train.py / test.py)")
    p.add_argument("--phase", default="train", help="folder prefix: train or test")
    p.add_argument("--seq", default=None, help="sequence folder name (default: the video's file name stem)")
    p.add_argument("--every", type=int, default=1, help="keep every K-th frame")
    p.add_argument("--max_frames", type=int, default=0, help="stop after this many kept frames (0: all)")
    p.add_argument("--start", type=int, default=0, help="first frame of the video to read")
    p.add_argument("--crop", type=int, nargs=4, metavar=("X", "Y", "W", "H"), default=None,
                   help="keep this box of each frame (pixels of the video)")
    p.add_argument("--scale", type=float, default=1.0, help="resize factor applied after --crop (bicubic)")
    p.add_argument("--image_ext", choices=["jpg", "png"], default="jpg", help="frame file format")
    p.add_argument("--min_detection_confidence", type=float, default=0.5, help="MediaPipe's detection threshold")
    args = p.parse_args(argv)
    if args.every < 1 or args.max_frames < 0 or args.start < 0 or args.scale <= 0:
        p.error("--every must be >= 1, --max_frames and --start >= 0, --scale > 0")
    args.seq = args.seq or os.path.splitext(os.path.basename(args.video))[0]
    return args


def open_video(path: str) -> cv2.VideoCapture:
    """An opened capture; FileNotFoundError when `path` is missing, ValueError when OpenCV cannot read it."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"video {path} not found")
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ValueError(f"cannot open video {path}: OpenCV cannot decode it (try converting it to H.264 mp4)")
    return capture


def read_frames(capture: cv2.VideoCapture, args: argparse.Namespace) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (index in the video, RGB frame `(H, W, 3)` uint8 after --crop and --scale) of the kept frames."""
    index, kept = 0, 0
    while args.max_frames == 0 or kept < args.max_frames:
        ok, bgr = capture.read()
        if not ok:
            return
        if index >= args.start and (index - args.start) % args.every == 0:
            yield index, transform_frame(bgr, args)
            kept += 1
        index += 1


def transform_frame(bgr: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    """An OpenCV BGR frame -> RGB, cropped and scaled as asked; ValueError when the crop leaves the frame."""
    if args.crop is not None:
        x, y, w, h = args.crop
        height, width = bgr.shape[:2]
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > width or y + h > height:
            raise ValueError(f"--crop {x} {y} {w} {h} does not fit in the {width}x{height} frames of {args.video}")
        bgr = bgr[y:y + h, x:x + w]
    if args.scale != 1.0:
        size = (max(1, round(bgr.shape[1] * args.scale)), max(1, round(bgr.shape[0] * args.scale)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def output_folders(args: argparse.Namespace) -> tuple[str, str]:
    """(images folder, keypoints folder) of the sequence; ValueError when either already holds anything."""
    folders = tuple(os.path.join(args.out_dir, f"{args.phase}_{kind}", args.seq) for kind in ("img", "openpose"))
    for folder in folders:
        if os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
            raise ValueError(f"{folder} already exists and is not empty; choose another --seq or OUT_DIR, "
                             "or remove it (nothing is overwritten)")
    return folders


def create_holistic(min_detection_confidence: float):
    """MediaPipe Holistic in video mode, with the models bundled in the mediapipe 0.10.21 wheel.

    model_complexity 1 is the one body model the wheel ships (0 and 2 would be downloaded); the refined face
    mesh adds the iris vertices used as pupils.
    """
    try:
        from mediapipe.python.solutions.holistic import Holistic
    except ImportError as err:
        raise ValueError(f"MediaPipe is not installed ({err}); install requirements-pose.txt as its comments "
                         "say") from err
    return Holistic(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                    refine_face_landmarks=True, min_detection_confidence=min_detection_confidence)


def write_frame(image: np.ndarray, person: dict | None, name: str, img_dir: str, pose_dir: str, ext: str) -> None:
    """Writes `<name>.<ext>` and `<name>_keypoints.json` (`people` holds `person`, or nothing)."""
    options = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == "jpg" else []
    if not cv2.imwrite(os.path.join(img_dir, f"{name}.{ext}"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), options):
        raise ValueError(f"cannot write {os.path.join(img_dir, f'{name}.{ext}')}")
    content = {"version": OPENPOSE_VERSION, "people": [] if person is None else [person]}
    with open(os.path.join(pose_dir, f"{name}_keypoints.json"), "w", encoding="utf-8") as f:
        json.dump(content, f)


def process(args: argparse.Namespace, img_dir: str, pose_dir: str) -> dict[str, int]:
    """Runs Holistic over the kept frames and writes them; returns the counts of the summary."""
    counts = {"frames": 0, "people": 0, "left_hands": 0, "right_hands": 0, "faces": 0}
    capture = open_video(args.video)
    try:
        with create_holistic(args.min_detection_confidence) as holistic:
            for index, image in read_frames(capture, args):
                results = holistic.process(image)
                person = holistic_person(results, image.shape[1], image.shape[0])
                write_frame(image, person, f"{index:06d}", img_dir, pose_dir, args.image_ext)
                counts["frames"] += 1
                if person is not None:
                    counts["people"] += 1
                    counts["left_hands"] += results.left_hand_landmarks is not None
                    counts["right_hands"] += results.right_hand_landmarks is not None
                    counts["faces"] += results.face_landmarks is not None
    finally:
        capture.release()
    if counts["frames"] == 0:
        raise ValueError(f"{args.video}: no frame read (the video has at most {args.start} frames, or none "
                         "could be decoded)")
    if counts["people"] == 0:
        raise ValueError(f"{args.video}: MediaPipe found no person in any of the {counts['frames']} frames read; "
                         "if the person is small, try --crop around them and --scale 2")
    return counts


def prepare(args: argparse.Namespace) -> dict[str, int]:
    """Writes the sequence into a temporary folder, then moves it into place; returns the counts."""
    final_img, final_pose = output_folders(args)
    staging = os.path.join(args.out_dir, f".prepare_{args.phase}_{args.seq}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # what an interrupted run left behind
    img_dir, pose_dir = os.path.join(staging, "img"), os.path.join(staging, "openpose")
    os.makedirs(img_dir)
    os.makedirs(pose_dir)
    try:
        counts = process(args, img_dir, pose_dir)
        for source, target in ((img_dir, final_img), (pose_dir, final_pose)):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(target):
                os.rmdir(target)  # empty (output_folders checked), so nothing is lost
            os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.time()
    counts = prepare(args)
    seconds = time.time() - started
    frames = counts["frames"]
    print(f"{frames} frames of {args.video} in {seconds:.1f} s ({frames / max(seconds, 1e-9):.1f} frames/s)")
    print(f"person found on {counts['people']} of {frames} frames ({frames - counts['people']} written with "
          f"'people': []); face on {counts['faces']}, left hand on {counts['left_hands']}, right hand on "
          f"{counts['right_hands']}")
    print(f"images:    {os.path.join(args.out_dir, f'{args.phase}_img', args.seq)}")
    print(f"keypoints: {os.path.join(args.out_dir, f'{args.phase}_openpose', args.seq)}")


if __name__ == "__main__":
    run_main(main)
