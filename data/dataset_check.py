"""The data check: every file of a dataset looked at before hours are spent on it, every problem reported.

For the folders a mode reads (`BaseDataset.data_folders`) it checks that each folder exists, that every
folder holds the sequences of the first one with the same frames (by file stem), that every image opens
and is complete (its header, and for PNG and JPEG the end marker; `full` decodes everything), that the
frames of a sequence have one size in every folder, that label maps hold ids below --label_nc (on the
first, middle and last frame of each sequence, or every frame with `full`), and that keypoint, OpenPose
and DensePose files hold what their modes read. It reads headers and file ends, so thousands of frames
take seconds.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from data import find_dataset_class
from data.base_dataset import DataFolder
from data.image_folder import make_grouped_dataset, sequence_name
from data.openpose_json import read_openpose_json

# the last bytes of a complete file: PNG's IEND chunk (with its CRC), JPEG's end-of-image marker
_END_MARKERS = {".png": b"IEND\xaeB`\x82", ".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9"}
_N_KEYPOINTS = 68
_MAX_DENSEPOSE_PART = 24
_IMAGE_KINDS = ("image", "label", "instance", "densepose")
_FRAME_SUFFIXES = ("_keypoints", "_IUV")


@dataclass
class DataCheckReport:
    """What the check found: one line per problem, naming the file or folder."""

    problems: list[str] = field(default_factory=list)
    n_sequences: int = 0
    n_files: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"data check: {self.n_files} files in {self.n_sequences} sequences, "
                f"{len(self.problems)} problem(s), {self.seconds:.2f} s")


def _is_truncated(path: str) -> bool:
    marker = _END_MARKERS.get(os.path.splitext(path)[1].lower())
    if marker is None:
        return False
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 64))
        return marker not in f.read()  # JPEG writers may pad after the marker


def _check_image(path: str, kind: str, full: bool, sample: bool, label_nc: int) -> tuple[tuple[int, int] | None, str]:
    """(size, problem) of one image file; size None when it cannot be opened."""
    try:
        with Image.open(path) as img:
            size = img.size
            if _is_truncated(path):
                return size, f"{path}: truncated (the file ends before the image does)"
            if not (full or (sample and kind in ("label", "densepose"))):
                return size, ""
            array = np.asarray(img)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return None, f"{path}: cannot be read as an image ({error})"
    if kind == "label" and label_nc and (array.ndim != 2 or array.min() < 0 or array.max() >= label_nc):
        found = "several channels" if array.ndim != 2 else f"ids {array.min()}..{array.max()}"
        return size, f"{path}: a label map must hold one channel of ids in [0, --label_nc {label_nc}), found {found}"
    if kind == "densepose" and array.ndim == 3 and array[..., 2].max() > _MAX_DENSEPOSE_PART:
        return size, f"{path}: DensePose part index {array[..., 2].max()} > {_MAX_DENSEPOSE_PART}"
    return size, ""


def _check_text(path: str, kind: str) -> str:
    try:
        with open(path) as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as error:
        return f"{path}: cannot be read ({error})"
    if kind == "keypoints":
        rows = [row for row in text.splitlines() if row.strip()]
        try:
            ok = len(rows) == _N_KEYPOINTS and all(len([float(v) for v in row.split(",")]) == 2 for row in rows)
        except ValueError:
            ok = False
        return "" if ok else f"{path}: expected {_N_KEYPOINTS} rows of numeric 'x,y', found {len(rows)} rows"
    try:
        read_openpose_json(path)
    except ValueError as error:
        return str(error)
    return ""


def _stems(frames: list[str]) -> dict[str, str]:
    """Frame name -> path; OpenPose's `<frame>_keypoints.json` and DensePose's `<frame>_IUV.png` name the
    frame `<frame>`."""
    stems = {}
    for path in frames:
        stem = os.path.splitext(os.path.basename(path))[0]
        for suffix in _FRAME_SUFFIXES:
            stem = stem.removesuffix(suffix)
        stems[stem] = path
    return stems


def _find_folders(opt: argparse.Namespace, folders: list[DataFolder], report: DataCheckReport) -> dict:
    """suffix -> {sequence name -> frame paths} for the folders that exist."""
    found = {}
    for folder in folders:
        path = os.path.join(opt.dataroot, f"{opt.phase}_{folder.suffix}")
        needed = f" (needed by {folder.needed_by})" if folder.needed_by else ""
        if not os.path.isdir(path):
            report.problems.append(f"{path}: missing folder{needed}")
            continue
        sequences = {sequence_name(frames, path): frames for frames in make_grouped_dataset(path)}
        if not sequences:
            report.problems.append(f"{path}: no frames (expected one sub-folder of frames per video)")
        found[folder.suffix] = sequences
    return found


def _check_matching(opt: argparse.Namespace, reference: str, found: dict, report: DataCheckReport) -> None:
    """Every folder holds the reference folder's sequences with the same frame stems."""
    ref_folder = os.path.join(opt.dataroot, f"{opt.phase}_{reference}")
    ref_sequences = found[reference]
    for suffix, sequences in found.items():
        folder = os.path.join(opt.dataroot, f"{opt.phase}_{suffix}")
        for name in sorted(set(ref_sequences) - set(sequences)):
            report.problems.append(f"{os.path.join(folder, name)}: missing sequence (it is in {ref_folder})")
        for name in sorted(set(sequences) - set(ref_sequences)):
            report.problems.append(f"{os.path.join(folder, name)}: sequence not in {ref_folder}")
        for name in sorted(set(ref_sequences) & set(sequences)):
            ref_stems, stems = _stems(ref_sequences[name]), _stems(sequences[name])
            if len(ref_sequences[name]) != len(sequences[name]):
                report.problems.append(f"{os.path.join(folder, name)}: {len(sequences[name])} frames, but "
                                       f"{len(ref_sequences[name])} in {os.path.join(ref_folder, name)}")
            for stem in sorted(set(ref_stems) - set(stems)):
                report.problems.append(f"{os.path.join(folder, name, stem)}.*: missing (it is in "
                                       f"{ref_stems[stem]})")
            for stem in sorted(set(stems) - set(ref_stems)):
                report.problems.append(f"{os.path.join(ref_folder, name, stem)}.*: missing (it is in "
                                       f"{stems[stem]})")


def _check_files(opt: argparse.Namespace, folders: list[DataFolder], found: dict, full: bool,
                 report: DataCheckReport) -> None:
    """Opens every file; one size per sequence over every image folder."""
    kinds = {folder.suffix: folder.kind for folder in folders}
    for name in found[folders[0].suffix]:
        sizes: dict[tuple[int, int], str] = {}
        for suffix, sequences in found.items():
            frames = sequences.get(name, [])
            sampled = {0, len(frames) // 2, len(frames) - 1}
            for i, path in enumerate(frames):
                report.n_files += 1
                if kinds[suffix] not in _IMAGE_KINDS:
                    problem = _check_text(path, kinds[suffix])
                else:
                    size, problem = _check_image(path, kinds[suffix], full, i in sampled, opt.label_nc)
                    if size is not None:
                        sizes.setdefault(size, path)
                if problem:
                    report.problems.append(problem)
        if len(sizes) > 1:
            shown = "; ".join(f"{w}x{h} ({path})" for (w, h), path in sizes.items())
            report.problems.append(f"sequence {name}: frames of different sizes: {shown}")


def check_dataset(opt: argparse.Namespace, full: bool = False) -> DataCheckReport:
    """Checks the files `--dataset_mode` would read under --dataroot and --phase; returns every problem."""
    start = time.perf_counter()
    report = DataCheckReport()
    folders = find_dataset_class(opt.dataset_mode).data_folders(opt)
    found = _find_folders(opt, folders, report)
    if folders[0].suffix in found:
        report.n_sequences = len(found[folders[0].suffix])
        _check_matching(opt, folders[0].suffix, found, report)
        _check_files(opt, folders, found, full, report)
    report.seconds = time.perf_counter() - start
    return report
