"""Test-time data of the street task: a window of tG frames sliding by one frame through each video.

Sequences are visited in order; a sequence of n frames gives n - tG + 1 items, the first ending at its
frame tG-1 (outputs exist only from there on). The official loader kept a cursor and ignored the item
index, so it needed one worker and no shuffling; here the index locates the window, and a cache makes
consecutive indices read only the newest frame, so sequential access behaves as before and any other
access order is still correct. --max_dataset_size is ignored: every sequence is tested, as in the
official code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

from data.base_dataset import BaseDataset, DataFolder, check_sequence_lengths, find_sequences
from data.frame_readers import (
    image_size,
    input_image_mode,
    load_id_map,
    make_frame_transforms,
    read_a_frame,
    read_b_frame,
)
from data.image_folder import check_parallel_sequences
from data.size_checks import check_frame_sizes
from data.windows import SlidingWindowIndex, SlidingWindowReader


class TestDataset(BaseDataset):
    """Sliding windows over `<phase>_A`, `<phase>_B` (use_real_img) and `<phase>_inst` (use_instance).

    Item: 'A' (tG, C_A, H, W), 'B' (tG, 3, H, W) only with use_real_img, 'inst' (tG, 1, H, W) only with
    use_instance, 'A_path' (newest frame), 'change_seq' (True on the first item of every sequence but the
    first, when the generator must drop its previous frames), 'seq_name' (the sequence folder relative to
    `<phase>_A`) and 'frame_index' (index of the newest frame in its sequence).
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        input_image_mode(opt)  # fail now on a bad --input_nc
        self.dir_A, self.A_paths = find_sequences(opt, "A")
        self.B_paths: list[list[str]] | None = None
        self.I_paths: list[list[str]] | None = None
        if opt.use_real_img:
            dir_B, self.B_paths = find_sequences(opt, "B", needed_by="--use_real_img")
            check_parallel_sequences(self.dir_A, self.A_paths, dir_B, self.B_paths)
        if opt.use_instance:
            dir_inst, self.I_paths = find_sequences(opt, "inst", needed_by="--use_instance")
            check_parallel_sequences(self.dir_A, self.A_paths, dir_inst, self.I_paths)
        check_sequence_lengths(self.dir_A, self.A_paths, opt.n_frames_G)
        check_frame_sizes(opt, (frames[0] for frames in self.A_paths))
        self.longest_sequence = max(len(frames) for frames in self.A_paths)
        self.windows = SlidingWindowIndex([len(frames) for frames in self.A_paths], opt.n_frames_G,
                                          opt.start_frame)
        self._transforms: tuple[int, Callable, Callable] | None = None  # (sequence, image_tf, ids_tf)
        self.reader = SlidingWindowReader(self.windows, opt.n_frames_G)

    @classmethod
    def data_folders(cls, opt: argparse.Namespace) -> list[DataFolder]:
        folders = [DataFolder("A", "label" if opt.label_nc else "image")]
        if opt.use_real_img:
            folders.append(DataFolder("B", "image", "--use_real_img"))
        if opt.use_instance:
            folders.append(DataFolder("inst", "instance", "--use_instance"))
        return folders

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict:
        def read(seq: int, frames: list[int]) -> dict[str, torch.Tensor]:
            return self._read_frames(seq, frames, *self._sequence_transforms(seq))

        return self.reader.item(index, read, self.A_paths, self.dir_A)

    def _sequence_transforms(self, seq: int) -> tuple[Callable, Callable]:
        """Transforms from frame 0 of `seq`, drawn once per sequence so that all its windows agree.

        (The official loader redrew them on every call, which only matters for random crop or scale
        modes, where cached and new frames would then disagree.)
        """
        if self._transforms is None or self._transforms[0] != seq:
            image_tf, ids_tf = make_frame_transforms(self.opt, image_size(self.A_paths[seq][0]),
                                                     allow_flip=self.allow_flip)
            self._transforms = (seq, image_tf, ids_tf)
        return self._transforms[1], self._transforms[2]

    def _read_frames(self, seq: int, frames: list[int], image_tf: Callable, ids_tf: Callable) -> dict:
        """{'A': (n, C_A, H, W), and 'B' / 'inst' when enabled} for the given frame indices of `seq`."""
        A_paths = self.A_paths[seq]
        out = {"A": torch.stack([read_a_frame(A_paths[f], self.opt, image_tf, ids_tf) for f in frames])}
        if self.B_paths is not None:
            out["B"] = torch.stack([read_b_frame(self.B_paths[seq][f], image_tf) for f in frames])
        if self.I_paths is not None:
            out["inst"] = torch.stack([load_id_map(self.I_paths[seq][f], ids_tf) for f in frames])
        return out
