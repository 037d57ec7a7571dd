"""Training data of the street (label-to-video) task: a random window of one video per item.

Layout under --dataroot: `<phase>_A/<seq>/*` (label maps, or input images when --label_nc 0),
`<phase>_B/<seq>/*` (RGB frames) and, with --use_instance, `<phase>_inst/<seq>/*` (instance-id maps).
Unlike the official code, which concatenated frames on the channel axis, an item keeps time as its own
axis, so a batch is (B, T, C, H, W). --max_dataset_size does not drop sequences here: as in the official
code, the training loop ends an epoch after that many items.
"""

from __future__ import annotations

import argparse

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
from data.windows import get_video_params


class TemporalDataset(BaseDataset):
    """Item `i` is a random window of sequence `i % len(self)`.

    Item: 'A' (T_load, C_A, H, W) float (C_A = 1 id channel when label_nc > 0, else input_nc in [-1, 1]),
    'B' (T_load, 3, H, W) in [-1, 1], 'inst' (T_load, 1, H, W) ids (only with use_instance), 'A_path' and
    'B_paths' (str, the last frame read). T_load = L*K + tG - 1, see `get_video_params`.
    """

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        input_image_mode(opt)  # fail now on a bad --input_nc
        self.dir_A, self.A_paths = find_sequences(opt, "A")
        self.dir_B, self.B_paths = find_sequences(opt, "B")
        check_parallel_sequences(self.dir_A, self.A_paths, self.dir_B, self.B_paths)
        self.I_paths: list[list[str]] | None = None
        if opt.use_instance:
            self.dir_inst, self.I_paths = find_sequences(opt, "inst", needed_by="--use_instance")
            check_parallel_sequences(self.dir_A, self.A_paths, self.dir_inst, self.I_paths)
        check_sequence_lengths(self.dir_A, self.A_paths, opt.n_frames_G)
        check_frame_sizes(opt, (frames[0] for frames in self.B_paths))
        self.longest_sequence = max(len(frames) for frames in self.A_paths)

    @classmethod
    def data_folders(cls, opt: argparse.Namespace) -> list[DataFolder]:
        folders = [DataFolder("A", "label" if opt.label_nc else "image"), DataFolder("B", "image")]
        if opt.use_instance:
            folders.append(DataFolder("inst", "instance", "--use_instance"))
        return folders

    def __len__(self) -> int:
        return len(self.A_paths)

    def __getitem__(self, index: int) -> dict:
        seq = index % len(self.A_paths)
        A_paths, B_paths = self.A_paths[seq], self.B_paths[seq]
        window = get_video_params(self.opt, self.n_frames_total, len(A_paths), index,
                                  start_at_index=self.start_at_index)
        frames = [window.start + k * window.t_step for k in range(window.n_frames_load)]
        image_tf, ids_tf = make_frame_transforms(self.opt, image_size(B_paths[window.start]),
                                                 allow_flip=self.allow_flip)
        item = {
            "A": torch.stack([read_a_frame(A_paths[f], self.opt, image_tf, ids_tf) for f in frames]),
            "B": torch.stack([read_b_frame(B_paths[f], image_tf) for f in frames]),
            "A_path": A_paths[frames[-1]],
            "B_paths": B_paths[frames[-1]],
        }
        if self.I_paths is not None:
            item["inst"] = torch.stack([load_id_map(self.I_paths[seq][f], ids_tf) for f in frames])
        return item
