"""Tests of `--dataset_mode pose` (data/pose_dataset.py, data/densepose.py, the central crop and the pose
size checks): windows, weighted sequence choice, channel content, DensePose dropping and remap, flip never,
test windows, the resize_or_crop modes of the pose scripts, and the bad-input errors.

The tiny dataset: 2 videos of 5 and 9 frames of 256x128, each frame with an RGB image, an OpenPose file
with one horizontal limb and a DensePose IUV image with three part blocks.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import options.test_options as test_options
import options.train_options as train_options
from data import create_dataset
from data.densepose import drop_parts, remap_part_channel
from data.pose_dataset import PoseDataset
from data.transforms import central_crop, central_crop_bounds, get_img_params, get_transform

REPO = Path(__file__).resolve().parent.parent
W, H = 256, 128
LENGTHS = (5, 9)
# IUV part blocks (columns of the 256-wide frame): I = 0 | 12 | 24 | 23
PART_BLOCKS = ((0, 64, 0), (64, 128, 12), (128, 192, 24), (192, 256, 23))


def rgb(seq: int, frame: int) -> np.ndarray:
    return np.random.default_rng(100 * seq + frame).integers(0, 256, (H, W, 3), dtype=np.uint8)


def iuv(seq: int, frame: int) -> np.ndarray:
    array = np.zeros((H, W, 3), np.uint8)
    for x0, x1, part in PART_BLOCKS:
        array[:, x0:x1] = (10 * frame + seq, 200, part)
    return array


def openpose_entry(frame: int) -> dict:
    body = np.zeros((25, 3))
    body[2] = (100, 40 + 2 * frame, 1)  # right upper arm 2-3, one row lower per frame
    body[3] = (150, 40 + 2 * frame, 1)
    return {"pose_keypoints_2d": body.reshape(-1).tolist(), "face_keypoints_2d": [0] * 210,
            "hand_left_keypoints_2d": [0] * 63, "hand_right_keypoints_2d": [0] * 63}


def write_pose_dataset(root: Path, phase: str = "train") -> Path:
    for seq, n_frames in enumerate(LENGTHS):
        for frame in range(n_frames):
            for folder in ("img", "openpose", "densepose"):
                (root / f"{phase}_{folder}" / f"seq{seq}").mkdir(parents=True, exist_ok=True)
            stem = f"{frame:06d}"
            Image.fromarray(rgb(seq, frame)).save(root / f"{phase}_img" / f"seq{seq}" / f"{stem}.png")
            Image.fromarray(iuv(seq, frame)).save(root / f"{phase}_densepose" / f"seq{seq}" / f"{stem}_IUV.png")
            with open(root / f"{phase}_openpose" / f"seq{seq}" / f"{stem}_keypoints.json", "w") as f:
                json.dump({"people": [openpose_entry(frame)]}, f)
    return root


POSE_FLAGS = ["--dataset_mode", "pose", "--gpu_ids", "-1", "--nThreads", "0", "--resize_or_crop", "scaleHeight",
              "--loadSize", "64"]


def make_train_opt(root: Path, *args: str) -> argparse.Namespace:
    flags = [*POSE_FLAGS, "--input_nc", "6", *args]
    return train_options.TrainOptions().parse(["--dataroot", str(root), "--checkpoints_dir", str(root / "ck"),
                                               *flags], save=False)


def make_test_opt(root: Path, *args: str) -> argparse.Namespace:
    flags = [*POSE_FLAGS, "--input_nc", "6", *args]
    return test_options.TestOptions().parse(["--dataroot", str(root), "--checkpoints_dir", str(root / "ck"),
                                             *flags])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_pose_dataset(tmp_path / "pose")


def seed(value: int) -> None:
    random.seed(value)
    np.random.seed(value)


def expected_b(seq: int, frame: int, size: tuple[int, int] = (128, 64), x0: int = 32, x1: int = 96) -> torch.Tensor:
    """The bicubic-resized, normalised, centrally cropped target frame (3, H, W)."""
    resized = np.asarray(Image.fromarray(rgb(seq, frame)).resize(size, Image.BICUBIC), np.float32) / 255
    return torch.from_numpy((resized - 0.5) / 0.5).permute(2, 0, 1)[:, :, x0:x1]


@pytest.mark.parametrize(("width", "bounds"), [
    (128, (32, 96)), (192, (64, 128)), (256, (64, 192)), (448, (128, 320)), (455, (131, 323)),
    (1024, (256, 768)), (127, (63, 63)),  # int(0.25 * 127) = 31 -> 0: nothing is kept below 128 columns
])
def test_central_crop_width(width, bounds):
    assert central_crop_bounds(width) == bounds


def test_training_item_window_and_content(root: Path) -> None:
    opt = make_train_opt(root, "--n_frames_total", "2", "--max_frames_per_gpu", "1", "--random_drop_prob", "0")
    dataset = create_dataset(opt)
    assert isinstance(dataset, PoseDataset) and dataset.longest_sequence == 9
    assert len(dataset) == (5 - 2) + (9 - 2)  # sum of len - tG + 1 over the videos
    assert dataset.sequence_probs == pytest.approx([0.3, 0.7])
    for index in (0, 5, 9):
        seed(index)
        item = dataset[index]
        seed(index)
        seq = int(np.random.choice(2, p=[0.3, 0.7]))  # the draw the dataset makes first
        start = index % (LENGTHS[seq] - 3)  # T_load = 2 + tG - 1 = 4 frames, offsets len - 3
        assert item["A"].shape == (4, 6, 64, 64) and item["B"].shape == (4, 3, 64, 64)
        assert item["A_path"].endswith(f"seq{seq}/{start + 3:06d}.png")
        for k in range(4):
            assert torch.allclose(item["B"][k], expected_b(seq, start + k), atol=1e-5)
            # the limb of frame f lies on row (40 + 2f) / 2 of the 64-high frame, in (153, 102, 0)
            row = (40 + 2 * (start + k)) // 2
            assert torch.allclose(item["A"][k, 3:, row, 32], torch.tensor([153, 102, 0]) / 255 * 2 - 1)
        assert "inst" not in item


def test_densepose_channels_and_remap(root: Path) -> None:
    item = create_dataset(make_train_opt(root, "--random_drop_prob", "0"))[0]
    frame = item["A"][0]  # 64 columns kept of 128: [32, 96) = the blocks I = 12 and 24, at 16 columns each
    assert torch.allclose(frame[2, :, :32], torch.zeros(64, 32), atol=1e-6)  # I = 12 -> 12/12 - 1 = 0
    assert torch.allclose(frame[2, :, 32:], torch.ones(64, 32), atol=1e-6)  # I = 24 -> 1
    assert torch.allclose(frame[1], torch.full((64, 64), 200 / 255 * 2 - 1))  # V normalised
    # the remap itself: I/255 normalised -> I/12 - 1
    parts = torch.tensor([0.0, 6, 12, 18, 24]) / 255 * 2 - 1
    remapped = remap_part_channel(torch.stack([parts, parts, parts]))
    assert torch.allclose(remapped[2], torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]), atol=1e-6)


def test_densepose_part_dropping() -> None:
    array = iuv(0, 1)
    dropped = drop_parts(array, 1.0, False)  # every part 1..24, all three channels; the background stays
    assert dropped[:, :64].tolist() == array[:, :64].tolist() and not dropped[:, 64:].any()
    kept = drop_parts(array, 0.0, True)  # only the head (23, 24) is removed
    assert kept[:, :128].tolist() == array[:, :128].tolist() and not kept[:, 128:].any()
    # 24 draws per frame in part order: part k is dropped when the k-th uniform < p
    np.random.seed(5)
    draws = np.random.rand(24)
    np.random.seed(5)
    dropped = drop_parts(array, 0.5, False)
    for x0, _, part in PART_BLOCKS[1:]:
        assert (not dropped[:, x0].any()) == (draws[part - 1] < 0.5)


def test_training_drops_densepose_but_test_does_not(root: Path) -> None:
    everything = create_dataset(make_train_opt(root, "--random_drop_prob", "1"))[0]["A"]
    assert torch.equal(everything[:, :3], torch.full_like(everything[:, :3], -1))  # all parts gone
    assert torch.equal(everything[:, 3:], torch.full_like(everything[:, 3:], -1))  # every limb dropped too
    testing = write_pose_dataset(root.parent / "pose_test", phase="test")
    kept = create_dataset(make_test_opt(testing, "--random_drop_prob", "1", "--remove_face_labels"))[0]["A"]
    assert (kept[:, 2] > -1).any() and (kept[:, 3:] > -1).any()


def test_never_flipped(root: Path) -> None:
    dataset = create_dataset(make_train_opt(root, "--random_drop_prob", "0", "--n_frames_total", "1"))
    for value in range(8):  # draws that flip the temporal mode about half of the time
        seed(value)
        item = dataset[0]
        seq = 0 if item["A_path"].split("/")[-2] == "seq0" else 1
        assert torch.allclose(item["B"][0], expected_b(seq, 0), atol=1e-5)


@pytest.mark.parametrize("flag", ["--openpose_only", "--densepose_only"])
def test_single_source(tmp_path: Path, flag: str) -> None:
    root = write_pose_dataset(tmp_path / "pose")
    missing = "densepose" if flag == "--openpose_only" else "openpose"
    for path in sorted((root / f"train_{missing}").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / f"train_{missing}").rmdir()  # the other source is not needed
    opt = train_options.TrainOptions().parse(["--dataroot", str(root), *POSE_FLAGS, "--input_nc", "3", flag,
                                              "--random_drop_prob", "0"], save=False)
    item = create_dataset(opt)[0]
    assert item["A"].shape[1] == 3
    if flag == "--openpose_only":  # the limb colour, where the 6-channel input has it in channels 3-5
        assert (item["A"][0, 0] > 0.19).any()
    else:
        assert torch.allclose(item["A"][0, 1], torch.full((64, 64), 200 / 255 * 2 - 1))


def test_options_that_do_not_fit(root: Path) -> None:
    with pytest.raises(ValueError, match="--input_nc 3: the pose mode needs --input_nc 6"):
        create_dataset(make_train_opt(root, "--input_nc", "3"))
    with pytest.raises(ValueError, match="--input_nc 6: .* needs --input_nc 3 with --openpose_only"):
        create_dataset(make_train_opt(root, "--openpose_only"))
    with pytest.raises(ValueError, match="exclude each other"):
        create_dataset(make_train_opt(root, "--openpose_only", "--densepose_only"))
    with pytest.raises(ValueError, match="narrower than 128 pixels"):
        create_dataset(make_train_opt(root, "--loadSize", "32"))  # 64x32 frames: the central crop keeps nothing


def test_test_windows(root: Path) -> None:
    testing = write_pose_dataset(root.parent / "pose_test", phase="test")
    dataset = create_dataset(make_test_opt(testing))
    assert len(dataset) == 3 + 7
    items = [dataset[i] for i in range(len(dataset))]
    assert [it["seq_name"] for it in items] == ["seq0"] * 3 + ["seq1"] * 7
    assert [it["frame_index"] for it in items] == [2, 3, 4] + list(range(2, 9))
    assert [it["change_seq"] for it in items] == [False] * 3 + [True] + [False] * 6
    fresh = create_dataset(make_test_opt(testing))[5]  # read without the cache of the previous window
    assert torch.equal(fresh["A"], items[5]["A"]) and torch.equal(fresh["B"], items[5]["B"])
    assert items[5]["A"].shape == (3, 6, 64, 64) and items[5]["A_path"].endswith("seq1/000004.png")
    assert torch.allclose(items[5]["B"][-1], expected_b(1, 4), atol=1e-5)


@pytest.mark.parametrize("mode", ["randomScaleHeight_and_scaledCrop", "scaleHeight_and_scaledCrop", "scaleHeight"])
def test_resize_or_crop_modes_of_the_pose_scripts(root: Path, mode: str) -> None:
    # 256x128 frames; loadSize 96, fineSize 64: scaled heights 64..97 (random) or 96, a 128x64 crop
    # (scaledCrop keeps the aspect ratio), then the central 64 columns
    opt = make_train_opt(root, "--resize_or_crop", mode, "--loadSize", "96", "--fineSize", "64",
                    "--random_drop_prob", "0", "--n_frames_total", "1")
    dataset = create_dataset(opt)
    expected_h = 96 if mode == "scaleHeight" else 64
    for value in range(4):
        seed(value)
        item = dataset[value]
        assert item["A"].shape[-2:] == (expected_h, 64) and item["B"].shape[-2:] == (expected_h, 64)
        # the same draws in the official order: the video, the time step, then the spatial parameters
        seed(value)
        seq = int(np.random.choice(2, p=[0.3, 0.7]))
        np.random.randint(1)  # t_step (--max_t_step 1)
        params = get_img_params(opt, (W, H), allow_flip=False)
        start = value % (LENGTHS[seq] - 2)
        target = get_transform(opt, params)(Image.fromarray(rgb(seq, start)))
        assert torch.allclose(item["B"][0], central_crop(target), atol=1e-6)


def test_data_folders(root: Path) -> None:
    kinds = [(f.suffix, f.kind) for f in PoseDataset.data_folders(make_train_opt(root))]
    assert kinds == [("img", "image"), ("densepose", "densepose"), ("openpose", "openpose")]
    only = train_options.TrainOptions().parse(["--dataroot", str(root), *POSE_FLAGS, "--input_nc", "3",
                                               "--openpose_only"], save=False)
    assert [(f.suffix, f.kind) for f in PoseDataset.data_folders(only)] == [("img", "image"), ("openpose", "openpose")]


# ----------------------------------------------------------------------------------------------------
# Bad input: one-line errors naming the file, key or counts


def test_frame_count_mismatch_names_the_sequence_and_counts(root: Path) -> None:
    (root / "train_openpose" / "seq1" / "000008_keypoints.json").unlink()
    with pytest.raises(ValueError, match=r"sequence seq1: .*train_img has 9 frames but .*train_openpose has 8"):
        create_dataset(make_train_opt(root))


@pytest.mark.parametrize(("content", "message"), [
    ({"version": 1.3}, r"000002_keypoints.json: no 'people' key"),
    ({"people": [{"pose_keypoints_2d": [1] * 72}]}, r"000002_keypoints.json: people\[0\].pose_keypoints_2d has 72 "
                                                    r"values; expected 75"),
    ({"people": [{**openpose_entry(2), "hand_left_keypoints_2d": [0] * 60}]},
     r"people\[0\].hand_left_keypoints_2d has 60 values; expected 63"),
    ({"people": [{k: v for k, v in openpose_entry(2).items() if k != "face_keypoints_2d"}]},
     r"people\[0\] has no 'face_keypoints_2d'"),
])
def test_bad_openpose_files(tmp_path: Path, content: dict, message: str) -> None:
    root = write_pose_dataset(tmp_path / "pose", phase="test")
    with open(root / "test_openpose" / "seq0" / "000002_keypoints.json", "w") as f:
        json.dump(content, f)
    dataset = create_dataset(make_test_opt(root))
    with pytest.raises(ValueError, match=message) as error:
        dataset[0]
    assert "\n" not in str(error.value)


def test_bad_densepose_file(root: Path) -> None:
    bad = iuv(0, 0)
    bad[5, 5, 2] = 25
    Image.fromarray(bad).save(root / "train_densepose" / "seq0" / "000000_IUV.png")
    dataset = create_dataset(make_train_opt(root, "--n_frames_total", "1"))
    with pytest.raises(ValueError, match=r"seq0/000000_IUV.png: DensePose part index 25 in channel 2"):
        for value in range(20):  # until the window of video 0 starting at frame 0 is drawn
            seed(value)
            dataset[0]


def test_missing_folder_names_the_flag(root: Path) -> None:
    (root / "train_densepose").rename(root / "elsewhere")
    with pytest.raises(FileNotFoundError, match=r"train_densepose .*without --openpose_only"):
        create_dataset(make_train_opt(root))


# ----------------------------------------------------------------------------------------------------
# The official pose scripts parse and build the dataset


def script_flags(path: Path) -> tuple[str, list[str]]:
    line = next(line for line in path.read_text().splitlines() if line.startswith("python "))
    words = shlex.split(line)
    return words[1], [w for w in words[2:] if w != "$@"]


@pytest.mark.parametrize("script", sorted(p.name for p in (REPO / "scripts" / "pose").glob("*.sh")
                                          if re.match(r"(train|test)_", p.name)))
def test_official_pose_scripts_build_the_dataset(tmp_path: Path, script: str) -> None:
    program, flags = script_flags(REPO / "scripts" / "pose" / script)
    phase = "train" if program == "train.py" else "test"
    root = write_pose_dataset(tmp_path / "pose", phase=phase)
    options = train_options.TrainOptions() if phase == "train" else test_options.TestOptions()
    opt = options.parse([*flags, "--dataroot", str(root), "--checkpoints_dir", str(tmp_path / "ck"),
                         "--gpu_ids", "-1"], save=False)  # the last --gpu_ids wins: no GPU here
    dataset = create_dataset(opt)
    assert isinstance(dataset, PoseDataset) and opt.input_nc == 6
    item = dataset[0]
    assert item["A"].shape[1] == 6 and item["A"].shape[-2:] == item["B"].shape[-2:]

