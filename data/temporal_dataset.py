"""Training data of the street (label-to-video) task: a random window of one video per item.

Layout under --dataroot: `<phase>_A/<seq>/*` (label maps, or input images when --label_nc 0),
`<phase>_B/<seq>/*` (RGB frames) and, with --use_instance, `<phase>_inst/<seq>/*` (instance-id maps).
Unlike the official code, which concatenated frames on the channel axis, an item keeps time as its own
axis, so a batch is (B, T, C, H, W).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from PIL import Image

from data.base_dataset import (
    BaseDataset,
    cap_sequences,
    check_frame_sizes,
    check_sequence_lengths,
    find_sequences,
    get_img_params,
    get_transform,
    get_video_params,
    image_size,
    load_id_map,
    load_image,
)
from data.image_folder import check_parallel_sequences

# PIL mode that gives an A image `input_nc` channels when it is not a label map.
_INPUT_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def input_image_mode(opt: argparse.Namespace) -> str | None:
    """PIL mode of A frames: None for label maps (--label_nc > 0), else one giving --input_nc channels."""
    if opt.label_nc:
        return None
    if opt.input_nc not in _INPUT_MODES:
        raise ValueError(f"--input_nc {opt.input_nc}: input images must have 1, 3 or 4 channels "
                         "(or use label maps with --label_nc)")
    return _INPUT_MODES[opt.input_nc]


def make_frame_transforms(opt: argparse.Namespace, size: tuple[int, int]) -> tuple[Callable, Callable]:
    """(image transform, id-map transform) sharing one draw of spatial parameters for a (w, h) image."""
    params = get_img_params(opt, size)
    return (get_transform(opt, params),
            get_transform(opt, params, method=Image.NEAREST, normalize=False, to_tensor=False))


def read_a_frame(path: str, opt: argparse.Namespace, image_tf: Callable, ids_tf: Callable) -> torch.Tensor:
    """One A frame: (1, H, W) class ids when --label_nc > 0, else (input_nc, H, W) in [-1, 1]."""
    mode = input_image_mode(opt)
    if mode is not None:
        return image_tf(load_image(path).convert(mode))
    ids = load_id_map(path, ids_tf)
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= opt.label_nc:
        bad = high if high >= opt.label_nc else low
        raise ValueError(f"{path}: label id {bad} is outside [0, --label_nc {opt.label_nc})")
    return ids


def read_b_frame(path: str, image_tf: Callable) -> torch.Tensor:
    """One RGB target frame, (3, H, W) in [-1, 1] (RGBA and grey files are converted to RGB)."""
    return image_tf(load_image(path).convert("RGB"))


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
            self.I_paths = cap_sequences(self.I_paths, opt.max_dataset_size)
        self.A_paths = cap_sequences(self.A_paths, opt.max_dataset_size)
        self.B_paths = cap_sequences(self.B_paths, opt.max_dataset_size)
        check_sequence_lengths(self.dir_A, self.A_paths, opt.n_frames_G)
        check_frame_sizes(opt, (frames[0] for frames in self.B_paths))
        self.seq_len_max = max(len(frames) for frames in self.A_paths)
        self.n_frames_total = opt.n_frames_total

    def __len__(self) -> int:
        return len(self.A_paths)

    def __getitem__(self, index: int) -> dict:
        seq = index % len(self.A_paths)
        A_paths, B_paths = self.A_paths[seq], self.B_paths[seq]
        window = get_video_params(self.opt, self.n_frames_total, len(A_paths), index)
        frames = [window.start + k * window.t_step for k in range(window.n_frames_load)]
        image_tf, ids_tf = make_frame_transforms(self.opt, image_size(B_paths[window.start]))
        item = {
            "A": torch.stack([read_a_frame(A_paths[f], self.opt, image_tf, ids_tf) for f in frames]),
            "B": torch.stack([read_b_frame(B_paths[f], image_tf) for f in frames]),
            "A_path": A_paths[frames[-1]],
            "B_paths": B_paths[frames[-1]],
        }
        if self.I_paths is not None:
            item["inst"] = torch.stack([load_id_map(self.I_paths[seq][f], ids_tf) for f in frames])
        return item
