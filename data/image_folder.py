"""Sequence discovery: a dataset folder holds one sub-folder of frames per video.

Every directory that directly holds at least one accepted file is one sequence, whatever its depth, so
`train_A/seq01/*.png` and `train_A/city/seq01/*.png` both work. Frames are ordered by plain string
sorting of their paths, as in the official code (so `frame10.png` comes before `frame2.png`: name the
frames with zero padding).
"""

from __future__ import annotations

import os

# Keypoint text files and OpenPose json files are frames too (face and pose modes).
EXTENSIONS = (
    ".jpg", ".JPG", ".jpeg", ".JPEG", ".png", ".PNG", ".ppm", ".PPM", ".bmp", ".BMP", ".pgm", ".PGM",
    ".tiff", ".txt", ".json",
)


def is_frame_file(filename: str) -> bool:
    """True for a file name with an accepted extension (case as listed in `EXTENSIONS`)."""
    return filename.endswith(EXTENSIONS)


def make_grouped_dataset(folder: str) -> list[list[str]]:
    """Returns the sequences under `folder`: one sorted list of frame paths per directory, sorted.

    Raises FileNotFoundError when `folder` is not a directory.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder} is not a directory")
    sequences = []
    for root, _, files in sorted(os.walk(folder)):
        frames = sorted(os.path.join(root, name) for name in files if is_frame_file(name))
        if frames:
            sequences.append(frames)
    return sorted(sequences)


def sequence_name(frames: list[str], folder: str) -> str:
    """The sequence's directory relative to `folder`, e.g. `seq01` or `city/seq01`."""
    return os.path.relpath(os.path.dirname(frames[0]), folder)


def check_parallel_sequences(folder_a: str, seqs_a: list[list[str]],
                             folder_b: str, seqs_b: list[list[str]]) -> None:
    """Checks that two parallel folders (A and B, or A and inst) hold matching sequences.

    Raises ValueError naming both folders when the number of sequences or any frame count differs.
    """
    if len(seqs_a) != len(seqs_b):
        raise ValueError(f"{folder_a} has {len(seqs_a)} sequences but {folder_b} has {len(seqs_b)}; "
                         "parallel folders must hold the same sequences")
    for frames_a, frames_b in zip(seqs_a, seqs_b):
        if len(frames_a) != len(frames_b):
            raise ValueError(f"sequence {sequence_name(frames_a, folder_a)}: {folder_a} has {len(frames_a)} "
                             f"frames but {folder_b} has {len(frames_b)} "
                             f"(in {sequence_name(frames_b, folder_b)}); frame counts must match")
