"""The pose2body data (`--dataset_mode pose`): DensePose and OpenPose inputs, RGB targets (reference §2.7).

Layout under --dataroot, one sub-folder per video, frames in the same sorted order in every folder:
    <phase>_img/<seq>/<frame>.jpg|png            the RGB frames
    <phase>_openpose/<seq>/<frame>_keypoints.json  OpenPose BODY_25 + hands + face (scripts/pose/prepare_video.py
                                                  makes them from a plain video), unless --densepose_only
    <phase>_densepose/<seq>/<frame>_IUV.png       DensePose IUV images, unless --openpose_only
An input frame is cat(DensePose (3), OpenPose picture (3)) in [-1, 1] (input_nc 6), or one of them alone with
--densepose_only / --openpose_only (input_nc 3). Every frame, input and target, then keeps only its central
columns (`data.transforms.central_crop`). Frames are never mirrored (left and right body parts would swap).

Training: item i picks a video at random with probability proportional to its len - tG + 1 windows and
reads the window starting at i % offsets; an epoch holds the sum of those counts. Test: windows of tG frames
slide through each video in order, as in data/test_dataset.py.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

from data.base_dataset import BaseDataset, DataFolder, check_sequence_lengths, find_sequences
from data.densepose import densepose_frame
from data.frame_readers import image_size, read_b_frame
from data.image_folder import check_parallel_sequences
from data.openpose_json import read_openpose_json
from data.pose_drawing import draw_openpose
from data.size_checks import check_frame_sizes
from data.transforms import central_crop, get_img_params, get_transform
from data.windows import SlidingWindowIndex, SlidingWindowReader, get_video_params


class FrameTransforms:
    """What every frame of one item shares: the canvas size (w, h) of the OpenPose pictures (the size of
    the item's first image) and one draw of spatial parameters, as BICUBIC (images) and NEAREST (pose
    pictures) transforms to `(C, H, W)` tensors in [-1, 1]."""

    def __init__(self, opt: argparse.Namespace, size: tuple[int, int], allow_flip: bool) -> None:
        params = get_img_params(opt, size, allow_flip=allow_flip)
        self.size = size
        self.image = get_transform(opt, params)
        self.pose = get_transform(opt, params, method=Image.NEAREST)


class PoseDataset(BaseDataset):
    """Pose videos. Item: 'A' (T, input_nc, H, W) and 'B' (T, 3, H, W) in [-1, 1], 'A_path' (the image of
    the newest frame); at test also 'change_seq', 'seq_name' and 'frame_index' as in data/test_dataset.py.
    T = T_load (training, see data/windows.py) or tG (test)."""

    allow_flip = False  # mirroring would swap the left and right body-part labels
    start_at_index = True  # official: a training window starts at index % offsets

    def __init__(self, opt: argparse.Namespace) -> None:
        super().__init__(opt)
        check_pose_options(opt)
        self.dir_img, self.img_paths = find_sequences(opt, "img")
        self.dp_paths = self._parallel_folder("densepose", "--dataset_mode pose without --openpose_only",
                                              skip=opt.openpose_only)
        self.op_paths = self._parallel_folder("openpose", "--dataset_mode pose without --densepose_only",
                                              skip=opt.densepose_only)
        check_sequence_lengths(self.dir_img, self.img_paths, opt.n_frames_G)
        check_frame_sizes(opt, (frames[0] for frames in self.img_paths), central_crop=True)
        lengths = [len(frames) for frames in self.img_paths]
        self.longest_sequence = max(lengths)
        self.windows_per_sequence = [n - opt.n_frames_G + 1 for n in lengths]
        total = sum(self.windows_per_sequence)
        self.sequence_probs = [count / total for count in self.windows_per_sequence]
        self.test_windows = SlidingWindowIndex(lengths, opt.n_frames_G, opt.start_frame) if not opt.isTrain else None
        self._sequence_tf: tuple[int, FrameTransforms] | None = None  # test: (sequence, its transforms)
        self.reader = None if opt.isTrain else SlidingWindowReader(self.test_windows, opt.n_frames_G)

    @classmethod
    def data_folders(cls, opt: argparse.Namespace) -> list[DataFolder]:
        folders = [DataFolder("img", "image")]
        if not opt.openpose_only:
            folders.append(DataFolder("densepose", "densepose", "--dataset_mode pose without --openpose_only"))
        if not opt.densepose_only:
            folders.append(DataFolder("openpose", "openpose", "--dataset_mode pose without --densepose_only"))
        return folders

    def _parallel_folder(self, suffix: str, needed_by: str, skip: bool) -> list[list[str]] | None:
        """The sequences of `<phase>_<suffix>`, checked against the images; None when `skip`."""
        if skip:
            return None
        folder, sequences = find_sequences(self.opt, suffix, needed_by=needed_by)
        check_parallel_sequences(self.dir_img, self.img_paths, folder, sequences)
        return sequences

    def __len__(self) -> int:
        if self.test_windows is not None:
            return len(self.test_windows)
        return sum(self.windows_per_sequence)

    def __getitem__(self, index: int) -> dict:
        return self._training_item(index) if self.opt.isTrain else self._test_item(index)

    def _training_item(self, index: int) -> dict:
        """A random video (weighted by its windows), its window starting at index % offsets."""
        seq = int(np.random.choice(len(self.img_paths), p=self.sequence_probs))
        img_paths = self.img_paths[seq]
        window = get_video_params(self.opt, self.n_frames_total, len(img_paths), index,
                                  start_at_index=self.start_at_index)
        frames = [window.start + k * window.t_step for k in range(window.n_frames_load)]
        tf = FrameTransforms(self.opt, image_size(img_paths[window.start]), self.allow_flip)
        A, B = self._read_frames(seq, frames, tf)
        return {"A": A, "B": B, "A_path": img_paths[frames[-1]]}

    def _test_item(self, index: int) -> dict:
        """The tG-frame window of item `index`; consecutive items read only their newest frame."""
        def read(seq: int, frames: list[int]) -> dict[str, torch.Tensor]:
            return dict(zip(("A", "B"), self._read_frames(seq, frames, self._test_transforms(seq))))

        return self.reader.item(index, read, self.img_paths, self.dir_img)

    def _test_transforms(self, seq: int) -> FrameTransforms:
        """Transforms from frame 0 of `seq`, made once per sequence so that all its windows agree."""
        if self._sequence_tf is None or self._sequence_tf[0] != seq:
            self._sequence_tf = (seq, FrameTransforms(self.opt, image_size(self.img_paths[seq][0]),
                                                      self.allow_flip))
        return self._sequence_tf[1]

    def _read_frames(self, seq: int, frames: list[int], tf: FrameTransforms) -> tuple[torch.Tensor, torch.Tensor]:
        """(A `(n, input_nc, H, W)`, B `(n, 3, H, W)`) of the given frame indices of `seq`, centrally cropped.

        Per frame, in the official order of random draws: DensePose (its part drops), then OpenPose.
        """
        opt = self.opt
        drop_prob = opt.random_drop_prob if opt.isTrain else 0.0
        inputs, targets = [], []
        for f in frames:
            parts = []
            if self.dp_paths is not None:
                parts.append(densepose_frame(self.dp_paths[seq][f], tf.pose, opt.random_drop_prob,
                                             opt.remove_face_labels, augment=opt.isTrain))
            if self.op_paths is not None:
                picture = draw_openpose(read_openpose_json(self.op_paths[seq][f]), tf.size, drop_prob,
                                        opt.remove_face_labels, opt.basic_point_only)
                parts.append(tf.pose(Image.fromarray(picture)))
            inputs.append(central_crop(torch.cat(parts)))
            targets.append(central_crop(read_b_frame(self.img_paths[seq][f], tf.image)))
        return torch.stack(inputs), torch.stack(targets)


def check_pose_options(opt: argparse.Namespace) -> None:
    """ValueError naming the flags when the pose options contradict each other or --input_nc."""
    if opt.openpose_only and opt.densepose_only:
        raise ValueError("--openpose_only and --densepose_only exclude each other: each leaves out the other input")
    if opt.label_nc:
        raise ValueError(f"--label_nc {opt.label_nc}: the pose mode's inputs are pictures; use --label_nc 0")
    expected = 3 if opt.openpose_only or opt.densepose_only else 6
    if opt.input_nc != expected:
        flag = "with --openpose_only" if opt.openpose_only else "with --densepose_only" if opt.densepose_only \
            else "for DensePose + OpenPose (3 with --openpose_only or --densepose_only)"
        raise ValueError(f"--input_nc {opt.input_nc}: the pose mode needs --input_nc {expected} {flag}")
