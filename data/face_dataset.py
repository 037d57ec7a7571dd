"""edge2face data (`--dataset_mode face`, reference §2.6 and §2.8): face keypoints in, face video out.

Layout under --dataroot: `<phase>_keypoints/<seq>/<frame>.txt` (68 rows of `x,y`, from dlib; see
scripts/face/prepare_video.py) beside `<phase>_img/<seq>/<frame>.jpg`. Each item is cropped to a square
box 2.5 face widths wide around the keypoints of its first frame (data/face_keypoints.py), and every frame
becomes the edge image plus 14 distance maps (data/face_frames.py).

Training: item `i` is a random window of sequence `i % len(self)`, as the temporal mode. Test: windows of
tG frames slide by one frame through each sequence (as data/test_dataset.py). The official test loader
computed the crop box once for the whole run, from the first window; here each sequence gets its own box
from its first window, so the first sequence is cropped exactly as officially and later ones around their
own face.
"""

from __future__ import annotations

import argparse

import torch

from data.base_dataset import BaseDataset, DataFolder, check_sequence_lengths, find_sequences
from data.face_frames import (
    Box,
    FaceTransforms,
    box_size,
    check_face_dependencies,
    check_face_options,
    make_face_transforms,
    read_face_frame,
)
from data.face_keypoints import face_crop_box, read_keypoints
from data.frame_readers import image_size
from data.image_folder import check_parallel_sequences
from data.size_checks import check_frame_size
from data.windows import SlidingWindowIndex, SlidingWindowReader, get_video_params


class FaceDataset(BaseDataset):
    """Windows of `<phase>_keypoints` (inputs, drawn) and `<phase>_img` (RGB) videos.

    Item: 'A' (T, C_A, H, W) in [0, 1] (C_A = 15, or 1 with --no_dist_map), 'B' (T, 3, H, W) in [-1, 1],
    'inst' (T, 1, H, W) part labels 0..6 (the face first-frame model pools its features over them),
    'A_path' (the newest keypoint file) and, in training, 'B_paths' (the newest image). Test items also
    hold 'change_seq', 'seq_name' and 'frame_index' (see data/test_dataset.py); T is tG there.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        check_face_options(opt)
        check_face_dependencies()
        self.dir_A, self.A_paths = find_sequences(opt, "keypoints")
        self.dir_B, self.B_paths = find_sequences(opt, "img")
        check_parallel_sequences(self.dir_A, self.A_paths, self.dir_B, self.B_paths)
        check_sequence_lengths(self.dir_A, self.A_paths, opt.n_frames_G)
        for frames in self.A_paths:  # every file, so that a bad one fails now with its name
            for path in frames:
                read_keypoints(path)
        self.windows = None if opt.isTrain else SlidingWindowIndex([len(f) for f in self.A_paths],
                                                                   opt.n_frames_G, opt.start_frame)
        for seq, frames in enumerate(self.B_paths):
            first = self._first_window_frame(seq)
            box = self._crop_box(seq, first)
            check_frame_size(opt, box_size(box), frames[first])
        self.longest_sequence = max(len(frames) for frames in self.A_paths)
        self._sequence_setup: tuple[int, Box, FaceTransforms] | None = None
        self.reader = None if self.windows is None else SlidingWindowReader(self.windows, opt.n_frames_G)

    @classmethod
    def data_folders(cls, opt: argparse.Namespace) -> list[DataFolder]:
        return [DataFolder("keypoints", "keypoints"), DataFolder("img", "image")]

    def __len__(self) -> int:
        return len(self.A_paths) if self.windows is None else len(self.windows)

    def __getitem__(self, index: int) -> dict:
        return self._training_item(index) if self.windows is None else self._test_item(index)

    def _first_window_frame(self, seq: int) -> int:
        """The frame a test sequence's box comes from: its first window's first frame (the official
        loader's, for the first sequence); 0 in training, where each item has its own box."""
        return 0 if self.windows is None else self.windows.first_window[seq]

    def _crop_box(self, seq: int, frame: int) -> Box:
        return face_crop_box(read_keypoints(self.A_paths[seq][frame]), image_size(self.B_paths[seq][frame]))

    def _read(self, seq: int, frames: list[int], box: Box, transforms: FaceTransforms) -> dict[str, torch.Tensor]:
        """{'A', 'B', 'inst'} of the given frames of `seq`, each stacked to (n, C, H, W)."""
        read = [read_face_frame(self.A_paths[seq][f], self.B_paths[seq][f], box, transforms, self.opt)
                for f in frames]
        return {key: torch.stack([frame[key] for frame in read]) for key in ("A", "B", "inst")}

    def _training_item(self, index: int) -> dict:
        seq = index % len(self.A_paths)
        n_frames = len(self.A_paths[seq])
        window = get_video_params(self.opt, self.n_frames_total, n_frames, index,
                                  start_at_index=self.start_at_index)
        frames = [window.start + k * window.t_step for k in range(window.n_frames_load)]
        # the box, then one draw of resize/crop/flip from its size, for the whole item (official order)
        box = self._crop_box(seq, window.start)
        transforms = make_face_transforms(self.opt, box_size(box), allow_flip=self.allow_flip)
        return {**self._read(seq, frames, box, transforms), "A_path": self.A_paths[seq][frames[-1]],
                "B_paths": self.B_paths[seq][frames[-1]]}

    def _test_item(self, index: int) -> dict:
        def read(seq: int, frames: list[int]) -> dict[str, torch.Tensor]:
            if self._sequence_setup is None or self._sequence_setup[0] != seq:
                box = self._crop_box(seq, self._first_window_frame(seq))
                self._sequence_setup = (seq, box, make_face_transforms(self.opt, box_size(box)))
            _, box, transforms = self._sequence_setup
            return self._read(seq, frames, box, transforms)

        return self.reader.item(index, read, self.A_paths, self.dir_A)
