"""An example of adding a dataset mode: `--dataset_mode template` reads `<phase>_A` / `<phase>_B` videos.

To add a mode `foo`, copy this file to `data/foo_dataset.py` and rename the class `FooDataset` (the
registry in data/__init__.py finds `<mode>_dataset.py` and, in it, the BaseDataset subclass named
`<mode>dataset`, any case). Its constructor takes the parsed options; it then:

1. finds its folders with `find_sequences(opt, suffix)`: `<dataroot>/<phase>_<suffix>`, one sub-folder
   of frames per video, each a sorted list of paths; `check_parallel_sequences` checks that two folders
   hold the same videos with the same frame counts;
2. checks them (`check_sequence_lengths`: at least tG frames per video; `check_frame_sizes`: sizes the
   generator can take) and sets `longest_sequence`, which caps the trainer's sequence-length schedule;
3. says in `data_folders` which folders it reads and what their files hold, for the data check.

A training item (`__getitem__`) is one window of one video, time first:
    'A'       (T, C_A, H, W) float: 1 channel of class ids with --label_nc > 0, else input_nc in [-1, 1]
    'B'       (T, 3, H, W) float in [-1, 1], the frames to generate
    'inst'    (T, 1, H, W) float instance ids, optional (only with --use_instance)
    'A_path', 'B_paths'  the paths of the last frame read (str)
`get_video_params` picks the window (T = L*K + tG - 1 frames, see data/windows.py) from the current
`n_frames_total`; `make_frame_transforms` draws one set of spatial parameters (resize, crop, flip) from a
frame's size and returns the transforms every frame of the item then shares; `read_a_frame` and
`read_b_frame` read one frame each. Set the class attributes `allow_flip = False` (never mirror) or
`start_at_index = True` (windows start at `index % offsets`) when the data needs them.

This example is the temporal mode without instance maps. It is for training only: test.py reads the
sliding windows of the `test` mode.
"""

from __future__ import annotations

import argparse

import torch

from data.base_dataset import BaseDataset, DataFolder, check_sequence_lengths, find_sequences
from data.frame_readers import image_size, input_image_mode, make_frame_transforms, read_a_frame, read_b_frame
from data.image_folder import check_parallel_sequences
from data.size_checks import check_frame_sizes
from data.windows import get_video_params


class TemplateDataset(BaseDataset):
    """Item `i` is a random window of video `i % len(self)` of `<phase>_A` (inputs) and `<phase>_B` (RGB).

    Item: 'A' (T, C_A, H, W), 'B' (T, 3, H, W), 'A_path' and 'B_paths' (see the module docstring).
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        if not opt.isTrain:
            raise ValueError("--dataset_mode template is a training example; test with --dataset_mode test")
        input_image_mode(opt)  # fail now, not in a DataLoader worker, on a bad --input_nc
        self.dir_A, self.A_paths = find_sequences(opt, "A")
        self.dir_B, self.B_paths = find_sequences(opt, "B")
        check_parallel_sequences(self.dir_A, self.A_paths, self.dir_B, self.B_paths)
        check_sequence_lengths(self.dir_A, self.A_paths, opt.n_frames_G)
        check_frame_sizes(opt, (frames[0] for frames in self.B_paths))
        self.longest_sequence = max(len(frames) for frames in self.A_paths)

    @classmethod
    def data_folders(cls, opt: argparse.Namespace) -> list[DataFolder]:
        """What the data check (scripts/check_dataset.py) counts, matches and opens: the first folder's
        sequences are the reference."""
        return [DataFolder("A", "label" if opt.label_nc else "image"), DataFolder("B", "image")]

    def __len__(self) -> int:
        return len(self.A_paths)  # one item per video; an epoch visits every video once

    def __getitem__(self, index: int) -> dict:
        seq = index % len(self.A_paths)
        A_paths, B_paths = self.A_paths[seq], self.B_paths[seq]
        window = get_video_params(self.opt, self.n_frames_total, len(A_paths), index,
                                  start_at_index=self.start_at_index)
        frames = [window.start + k * window.t_step for k in range(window.n_frames_load)]
        # One draw of spatial parameters per item, so that every frame is resized, cropped and flipped alike.
        image_tf, ids_tf = make_frame_transforms(self.opt, image_size(B_paths[window.start]),
                                                 allow_flip=self.allow_flip)
        return {
            "A": torch.stack([read_a_frame(A_paths[f], self.opt, image_tf, ids_tf) for f in frames]),
            "B": torch.stack([read_b_frame(B_paths[f], image_tf) for f in frames]),
            "A_path": A_paths[frames[-1]],
            "B_paths": B_paths[frames[-1]],
        }
