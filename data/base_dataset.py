"""The base class of every `--dataset_mode`, and the helpers that find and check its sequence folders.

A dataset folder `<dataroot>/<phase>_<suffix>` holds one sub-folder of frames per video (a sequence).
Spatial transforms live in data/transforms.py, file reading in data/frame_readers.py, windows in
data/windows.py and size checks in data/size_checks.py; data/template_dataset.py shows how they fit.
"""

from __future__ import annotations

import argparse
import os
from typing import Literal, NamedTuple

import torch.utils.data

from data.image_folder import make_grouped_dataset, sequence_name

# What a folder's files hold, for the data check (data/dataset_check.py): "image" (any picture, its
# header opened), "label" (one-channel class ids < --label_nc), "instance" (one-channel ids), "keypoints"
# (face text files of 68 `x,y` rows), "openpose" (OpenPose JSON), "densepose" (IUV PNG, part channel <= 24).
FileKind = Literal["image", "label", "instance", "keypoints", "openpose", "densepose"]


class DataFolder(NamedTuple):
    """One parallel folder `<dataroot>/<phase>_<suffix>` of a dataset mode, as the data check sees it."""

    suffix: str
    kind: FileKind
    needed_by: str = ""  # the flag that asks for the folder, for messages ('' when always read)


class BaseDataset(torch.utils.data.Dataset):
    """Base class of the datasets found by `--dataset_mode`.

    `n_frames_total` is the current number N of frames a training item generates (from
    --n_frames_total when the option exists, else 1); `longest_sequence` (frames in the longest sequence,
    set by the subclass once it has found its sequences) lets the trainer's schedule cap N's growth.
    """

    # Whether training items may be mirrored. A pose dataset sets False: mirroring a person would swap
    # the left/right body-part labels of DensePose and OpenPose.
    allow_flip: bool = True
    # Whether a training window starts at `index % offsets` instead of a random offset (pose mode).
    start_at_index: bool = False

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__()
        self.opt = opt
        self.longest_sequence: int = 0
        self.n_frames_total: int = getattr(opt, "n_frames_total", 1)

    @classmethod
    def data_folders(cls, opt: argparse.Namespace) -> list[DataFolder]:
        """The parallel folders this mode reads with these options, the first being the one whose
        sequences the others must match; the data check counts, matches and opens their files.
        A subclass that reads files must say which."""
        raise NotImplementedError(f"{cls.__name__} does not describe its folders (data_folders)")

    def set_sequence_length(self, n_frames_total: int) -> None:
        """Sets N, the frames a training item generates.

        The trainer's schedule calls it (it owns the growth rule and its cap). DataLoader workers are not
        persistent, so the new value reaches them at the next epoch.
        """
        self.n_frames_total = n_frames_total


def find_sequences(opt: argparse.Namespace, suffix: str, needed_by: str = "") -> tuple[str, list[list[str]]]:
    """Returns `<dataroot>/<phase>_<suffix>` and its sequences (lists of frame paths).

    `needed_by` names the flag that asks for the folder, for the error message. Raises
    FileNotFoundError when the folder is missing or holds no frames.
    """
    folder = os.path.join(opt.dataroot, f"{opt.phase}_{suffix}")
    if not os.path.isdir(folder):
        reason = f", needed by {needed_by}" if needed_by else ""
        raise FileNotFoundError(f"missing folder {folder} (from --dataroot {opt.dataroot} and --phase "
                                f"{opt.phase}{reason})")
    sequences = make_grouped_dataset(folder)
    if not sequences:
        raise FileNotFoundError(f"no frames in {folder}: expected one sub-folder of images per video")
    return folder, sequences


def check_sequence_lengths(folder: str, sequences: list[list[str]], n_frames_G: int) -> None:
    """Raises ValueError when a sequence is shorter than the tG frames the generator needs."""
    for frames in sequences:
        if len(frames) < n_frames_G:
            raise ValueError(f"sequence {sequence_name(frames, folder)} in {folder} has {len(frames)} "
                             f"frames; --n_frames_G {n_frames_G} needs at least {n_frames_G}")
