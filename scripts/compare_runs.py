"""Compare two or more result folders against one ground truth: one table, and side-by-side videos.

Usage, from the repository root:
    python scripts/compare_runs.py --runs results/full/test_latest results/no_flow/test_latest \\
        --labels full no_flow --ground_truth datasets/synthetic_street/test_B [--metrics ...] [--copy_frame] \\
        [--markdown OUT] [--json OUT] [--video_dir comparison] [--fps 10] [weights flags]

Every run is scored on the frames all runs have (matched by name per sequence, evaluation/frames.py), with
the metrics of scripts/evaluate.py (docs/evaluation.md). Printed: one table with a row per run (means over
all frames), then a table per sequence. Unless --no_video, `<video_dir>/<sequence>.mp4` shows, frame by frame,
the ground truth and then each run side by side, each panel labelled.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# scripts/ is not a package: make the repository's modules importable when run as a plain script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from evaluation.arguments import add_metric_arguments, settings_from  # noqa: E402
from evaluation.frames import (  # noqa: E402
    Sequence,
    copy_frame_sequences,
    load_pair,
    match_frames,
    restrict_to_common,  # noqa: E402
)
from evaluation.report import report, write_outputs  # noqa: E402
from evaluation.scoring import Scorer  # noqa: E402
from util.cli import run_main  # noqa: E402
from util.video import side_by_side, write_mp4  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, metavar="DIR", help="two or more results folders")
    parser.add_argument("--labels", nargs="+", default=[], metavar="LABEL",
                        help="a name per run, in order (default: the folders)")
    parser.add_argument("--ground_truth", required=True, help="the real frames, e.g. <dataroot>/test_B")
    parser.add_argument("--copy_frame", action="store_true",
                        help="add a row for repeating the last real input frame (frame --n_frames_G - 2)")
    parser.add_argument("--n_frames_G", type=int, default=3, help="the runs' tG, for --copy_frame")
    parser.add_argument("--markdown", default="", help="also write the tables to this file")
    parser.add_argument("--json", default="", help="also write the rows (with per-sequence means) as JSON")
    parser.add_argument("--video_dir", default="comparison", help="folder for the side-by-side mp4s")
    parser.add_argument("--no_video", action="store_true", help="write no videos")
    parser.add_argument("--fps", type=float, default=10.0, help="frame rate of the mp4s")
    add_metric_arguments(parser)
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        raise ValueError(f"--runs: expected two or more results folders, got {len(args.runs)}")
    if args.labels and len(args.labels) != len(args.runs):
        raise ValueError(f"--labels: expected one per run ({len(args.runs)}), got {len(args.labels)}")
    return args


def collect_runs(args: argparse.Namespace) -> list[tuple[str, list[Sequence]]]:
    """(label, matched sequences) of every run, cut down to the frames all of them have; copy frame last."""
    labels = args.labels or args.runs
    matched = [match_frames(folder, args.ground_truth, f"--runs {folder}") for folder in args.runs]
    runs = list(zip(labels, restrict_to_common(matched, labels)))
    if args.copy_frame:
        given = args.n_frames_G - 2
        runs.append((f"copy the last real input frame (frame {given})",
                     copy_frame_sequences(runs[0][1], args.ground_truth, given)))
    return runs


def labelled(frame: np.ndarray, text: str) -> np.ndarray:
    """A copy of uint8 `(H, W, 3)` `frame` with `text` in its top-left corner (white on a dark outline)."""
    out = np.ascontiguousarray(frame).copy()
    scale = max(0.3, out.shape[0] / 400)
    origin = (3, 3 + int(12 * scale * 2))
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)
    return out


def write_videos(runs: list[tuple[str, list[Sequence]]], video_dir: str, fps: float) -> list[str]:
    """`<video_dir>/<sequence>.mp4` per sequence: ground truth | run 1 | run 2 ..., one frame per scored frame."""
    paths = []
    for index, seq in enumerate(runs[0][1]):
        truth = load_pair(seq)[1]
        panels = [("ground truth", truth)] + [(label, load_pair(seqs[index])[0]) for label, seqs in runs]
        frames = []
        for t in range(len(truth)):
            frame = labelled(panels[0][1][t], panels[0][0])
            for label, video in panels[1:]:
                frame = side_by_side(frame, labelled(video[t], label))
            frames.append(frame)
        path = os.path.join(video_dir, seq.name.replace(os.sep, "_") + ".mp4")
        write_mp4(frames, path, fps)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    scorer = Scorer(settings_from(args))  # loads the networks first: a missing weights file fails at once
    runs = collect_runs(args)
    rows = scorer.score_runs(runs)
    for row, folder in zip(rows, args.runs):
        row["results"] = folder
    print(report(rows, args.ground_truth))
    write_outputs(rows, args.ground_truth, args.markdown, args.json, {"metrics": scorer.settings.metrics})
    if not args.no_video:
        for path in write_videos(runs, args.video_dir, args.fps):
            print(f"video: {path}")


if __name__ == "__main__":
    run_main(main)
