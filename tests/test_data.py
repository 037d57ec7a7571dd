"""Tests of data/: sequence discovery, spatial parameters, training windows, test windows, the template
mode and errors.

Every test builds a tiny street-style dataset in tmp_path: 2 sequences x 6 frames of 64x32 PNGs, label
maps whose pixel (0, 0) holds a per-frame marker id, RGB targets and 16-bit instance maps.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import data.test_dataset as test_dataset
import options.test_options as test_options
import options.train_options as train_options
from data import available_dataset_modes, create_dataloader, create_dataset, find_dataset_class
from data.image_folder import check_parallel_sequences, make_grouped_dataset
from data.size_checks import check_frame_size, possible_output_sizes
from data.template_dataset import TemplateDataset
from data.temporal_dataset import TemporalDataset
from data.transforms import get_img_params, get_transform, normalize_half, pil_to_tensor
from data.windows import frames_per_chunk, get_video_params
from util.runtime import generator_gpu_count

REPO = Path(__file__).resolve().parent.parent

W, H = 64, 32
N_SEQS, N_FRAMES = 2, 6


def marker(seq: int, frame: int) -> int:
    """The label id at pixel (0, 0) of a frame, which identifies it."""
    return seq * N_FRAMES + frame


def label_array(seq: int, frame: int) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W]
    return ((marker(seq, frame) + xs // 8 + 3 * (ys // 8)) % 35).astype(np.uint8)


def rgb_array(seq: int, frame: int) -> np.ndarray:
    return np.random.default_rng(100 * seq + frame).integers(0, 256, (H, W, 3), dtype=np.uint8)


def inst_array(seq: int, frame: int) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W]
    return (26000 + 1000 * seq + 10 * frame + xs // 16 + 4 * (ys // 16)).astype(np.uint16)


def frame_path(root: Path, folder: str, seq: int, frame: int) -> Path:
    return root / folder / f"seq{seq:02d}" / f"frame{frame:04d}.png"


def write_dataset(root: Path, phase: str = "train") -> Path:
    for seq in range(N_SEQS):
        for frame in range(N_FRAMES):
            for suffix, array in (("A", label_array), ("B", rgb_array), ("inst", inst_array)):
                path = frame_path(root, f"{phase}_{suffix}", seq, frame)
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(array(seq, frame)).save(path)
    return root


def make_train_opt(root: Path, *args: str) -> argparse.Namespace:
    return train_options.TrainOptions().parse([
        "--dataroot", str(root), "--checkpoints_dir", str(root / "checkpoints"), "--gpu_ids", "-1",
        "--nThreads", "0", "--label_nc", "35", "--loadSize", "64", *args])


def make_test_opt(root: Path, *args: str) -> argparse.Namespace:
    return test_options.TestOptions().parse([
        "--dataroot", str(root), "--checkpoints_dir", str(root / "checkpoints"), "--gpu_ids", "-1",
        "--label_nc", "35", "--loadSize", "64", *args])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data")


@pytest.fixture
def test_root(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data", phase="test")


def seed(value: int) -> None:
    random.seed(value)
    np.random.seed(value)


# ----------------------------------------------------------------------------------------------------
# Discovery and lookup


def test_discovery_order_and_extensions(tmp_path: Path) -> None:
    names = ["b/2.png", "b/10.png", "b/k.txt", "b/z.JPG", "b/notes.md", "b/x.gif", "b/y.Png",
             "a/0.jpeg", "a/nested/1.jpg", "a/nested/pose.json", "empty/readme.md"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    expected = [["a/0.jpeg"], ["a/nested/1.jpg", "a/nested/pose.json"],
                ["b/10.png", "b/2.png", "b/k.txt", "b/z.JPG"]]
    assert make_grouped_dataset(str(tmp_path)) == [[str(tmp_path / n) for n in seq] for seq in expected]
    with pytest.raises(FileNotFoundError, match="missing_dir"):
        make_grouped_dataset(str(tmp_path / "missing_dir"))


def test_find_dataset_class() -> None:
    assert find_dataset_class("temporal") is TemporalDataset
    assert find_dataset_class("test") is test_dataset.TestDataset
    assert find_dataset_class("template") is TemplateDataset
    assert available_dataset_modes() == ["face", "pose", "template", "temporal", "test"]
    with pytest.raises(ValueError, match=r"--dataset_mode nope.*temporal"):
        find_dataset_class("nope")


def test_parallel_check_messages() -> None:
    with pytest.raises(ValueError, match=r"A.* 2 sequences.*B.* 1"):
        check_parallel_sequences("A", [["A/s/0.png"], ["A/t/0.png"]], "B", [["B/s/0.png"]])
    with pytest.raises(ValueError, match=r"sequence t: A has 2 frames but B has 1"):
        check_parallel_sequences("A", [["A/t/0.png", "A/t/1.png"]], "B", [["B/t/0.png"]])


# ----------------------------------------------------------------------------------------------------
# Spatial parameters and transforms


@pytest.mark.parametrize("mode, load, fine, size, expected", [
    ("scaleWidth", 64, 64, (100, 50), (64, 32)),
    ("scaleHeight", 64, 64, (100, 50), (128, 64)),
    ("resize", 96, 96, (100, 50), (96, 96)),
    ("none", 64, 64, (100, 50), (96, 64)),  # (100, 48) in 4s, then 3.125 -> 3 and 1.5 -> 2 in 32s
    ("crop", 64, 32, (100, 50), (32, 32)),
    ("crop", 64, 128, (100, 50), (100, 48)),  # crop larger than the image: no crop, no 32-rounding
    ("scaleWidth_and_crop", 64, 32, (100, 50), (32, 32)),
    ("scaleHeight_and_scaledCrop", 64, 32, (100, 50), (64, 32)),
    ("scaleWidth_and_scaledCrop", 128, 64, (100, 50), (64, 32)),
    ("randomScaleWidth", 70, 60, (100, 50), (64, 32)),
])
def test_resize_or_crop_sizes(tmp_path: Path, mode: str, load: int, fine: int, size: tuple,
                              expected: tuple) -> None:
    opt = make_train_opt(tmp_path, "--resize_or_crop", mode, "--loadSize", str(load), "--fineSize", str(fine))
    image = Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8))
    labels = Image.fromarray(np.zeros((size[1], size[0]), np.uint8))
    assert possible_output_sizes(opt, size) == {expected}
    for value in range(5):
        seed(value)
        params = get_img_params(opt, size)
        assert get_transform(opt, params)(image).shape == (3, expected[1], expected[0])
        ids = get_transform(opt, params, Image.NEAREST, normalize=False, to_tensor=False)(labels)
        assert ids.size == expected


def test_crop_position_is_centred_in_x_and_top_biased_in_y(tmp_path: Path) -> None:
    opt = make_train_opt(tmp_path, "--resize_or_crop", "scaleWidth_and_crop", "--loadSize", "128",
                         "--fineSize", "32")
    seed(0)
    draws = [get_img_params(opt, (100, 50)) for _ in range(300)]
    xs = [p["crop_pos"][0] for p in draws]
    ys = [p["crop_pos"][1] for p in draws]
    assert draws[0]["new_size"] == (128, 64) and draws[0]["crop_size"] == (32, 32)
    assert min(xs) >= 0 and max(xs) <= 96 and 40 < np.mean(xs) < 56  # x_span 48, sigma 16
    assert set(ys) == set(range(9))  # min(64 - 32, 64 // 8) = 8
    assert {p["flip"] for p in draws} == {True, False}
    seed(0)
    assert get_img_params(opt, (100, 50)) == draws[0]


def test_flip_mirrors_images_and_labels(tmp_path: Path) -> None:
    opt = make_train_opt(tmp_path, "--resize_or_crop", "none")
    params = {**get_img_params(opt, (W, H)), "flip": True}
    labels = label_array(0, 0)

    def transformed() -> np.ndarray:
        tf = get_transform(opt, params, Image.NEAREST, normalize=False, to_tensor=False)
        return np.asarray(tf(Image.fromarray(labels)))

    assert np.array_equal(transformed(), labels[:, ::-1])
    opt.no_flip = True
    assert np.array_equal(transformed(), labels)


def test_allow_flip_false_never_flips_but_draws_the_same(tmp_path: Path) -> None:
    opt = make_train_opt(tmp_path, "--resize_or_crop", "scaleWidth_and_crop", "--loadSize", "128",
                         "--fineSize", "32")
    seed(0)
    allowed = [get_img_params(opt, (100, 50)) for _ in range(50)]
    after_allowed = (random.random(), np.random.rand())
    seed(0)
    refused = [get_img_params(opt, (100, 50), allow_flip=False) for _ in range(50)]
    assert (random.random(), np.random.rand()) == after_allowed
    assert {p["flip"] for p in allowed} == {True, False} and not any(p["flip"] for p in refused)
    assert refused == [{**p, "flip": False} for p in allowed]


def test_label_maps_stay_exact_after_nearest_resize(root: Path) -> None:
    dataset = TemporalDataset(make_train_opt(root, "--loadSize", "128", "--no_flip"))  # 64x32 -> 128x64
    item = dataset[0]
    assert item["A"].shape == (6, 1, 64, 128) and item["A"].dtype == torch.float32
    for k in range(6):
        expected = np.kron(label_array(0, k), np.ones((2, 2), np.uint8))
        assert np.array_equal(item["A"][k, 0].numpy(), expected)


def test_targets_are_hand_normalised_pixels(root: Path) -> None:
    item = TemporalDataset(make_train_opt(root, "--resize_or_crop", "none", "--no_flip"))[1]
    assert item["B"].shape == (6, 3, H, W)
    assert item["B"].min() >= -1 and item["B"].max() <= 1
    for k in range(6):
        expected = (rgb_array(1, k).astype(np.float32) / 255 - 0.5) / 0.5
        assert np.allclose(item["B"][k].permute(1, 2, 0).numpy(), expected, atol=1e-6)
    assert item["A_path"].endswith("seq01/frame0005.png") and item["B_paths"].endswith("seq01/frame0005.png")


def test_rgb_inputs_when_label_nc_is_zero(root: Path) -> None:
    item = TemporalDataset(make_train_opt(root, "--label_nc", "0", "--input_nc", "3"))[0]
    assert item["A"].shape == (6, 3, H, W) and item["A"].min() >= -1 and item["A"].max() <= 1
    with pytest.raises(ValueError, match="--input_nc 2"):
        TemporalDataset(make_train_opt(root, "--label_nc", "0", "--input_nc", "2"))


def test_instance_maps_keep_their_ids(root: Path) -> None:
    item = TemporalDataset(make_train_opt(root, "--use_instance", "--no_flip"))[0]
    assert item["inst"].shape == (6, 1, H, W)
    for k in range(6):
        assert np.array_equal(item["inst"][k, 0].numpy(), inst_array(0, k).astype(np.float32))
    assert "inst" not in TemporalDataset(make_train_opt(root))[0]


# ----------------------------------------------------------------------------------------------------
# Training windows


def window_opt(**changes: object) -> argparse.Namespace:
    values = {"n_frames_G": 3, "isTrain": True, "batchSize": 1, "n_gpus_gen": 0, "max_frames_per_gpu": 1,
              "max_t_step": 1, "debug": False}
    return argparse.Namespace(**{**values, **changes})


def test_window_chunking_rules() -> None:
    # N = min(30, 6 - 3 + 1) = 4 frames, L = 1 per chunk, K = 4, T_load = 4 + 2 = 6
    assert tuple(get_video_params(window_opt(), 30, 6, 0)) == (4, 1, 4, 6, 0, 1)
    seed(0)
    window = get_video_params(window_opt(max_frames_per_gpu=3, max_t_step=4), 30, 6, 0)
    assert window[:5] == (4, 3, 1, 5, window.start) and window.t_step == 1 and window.start in (0, 1)
    # n_gpus = n_gpus_gen only with batchSize 1: L = 2 * 2 = 4, else L = 2 and K = 18 // 2
    assert get_video_params(window_opt(n_gpus_gen=2, max_frames_per_gpu=2), 30, 20, 0).frames_per_chunk == 4
    two_per_batch = window_opt(n_gpus_gen=2, max_frames_per_gpu=2, batchSize=2)
    assert get_video_params(two_per_batch, 30, 20, 0)[1:3] == (2, 9)
    assert get_video_params(window_opt(isTrain=False), 30, 20, 7)[3:] == (3, 7, 1)


def test_frames_per_chunk_takes_plain_values() -> None:
    assert frames_per_chunk(30, 1, 1) == 1
    assert frames_per_chunk(30, 2, 2) == 4
    assert frames_per_chunk(3, 2, 2) == 3  # never more than the frames generated
    assert frames_per_chunk(8, 4, generator_gpu_count(0, 1)) == 4  # the CPU counts as one device
    assert frames_per_chunk(30, 2, generator_gpu_count(4, 2)) == 2  # batchSize > 1: one GPU per sequence


def test_window_start_and_step_stay_inside_the_video() -> None:
    seed(0)
    opt = window_opt(max_t_step=3)
    steps = set()
    for _ in range(200):
        window = get_video_params(opt, 4, 20, 0)  # T_load 6, max step min(3, 19 // 5) = 3
        assert window.n_frames_load == 6 and 1 <= window.t_step <= 3
        assert 0 <= window.start and window.start + 5 * window.t_step <= 19
        steps.add(window.t_step)
    assert steps == {1, 2, 3}
    starts = [get_video_params(window_opt(), 4, 20, i, start_at_index=True).start for i in (0, 14, 15, 16)]
    assert starts == [0, 14, 0, 1]  # offsets 15


def test_items_follow_their_window(tmp_path: Path) -> None:
    root = tmp_path / "data"
    for frame in range(20):
        path = frame_path(root, "train_A", 0, frame)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(label_array(0, frame) * 0 + frame).save(path)
        (root / "train_B" / "seq00").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb_array(0, frame)).save(frame_path(root, "train_B", 0, frame))
    dataset = TemporalDataset(make_train_opt(root, "--n_frames_total", "4", "--max_t_step", "3", "--no_flip"))
    seed(1)
    for _ in range(20):
        item = dataset[0]
        frames = item["A"][:, 0, 0, 0].long().tolist()
        assert len(frames) == 6 and len({b - a for a, b in zip(frames, frames[1:])}) == 1
        assert item["A_path"].endswith(f"frame{frames[-1]:04d}.png")


def test_set_sequence_length_and_longest_sequence(root: Path, test_root: Path) -> None:
    assert TemporalDataset(make_train_opt(root)).n_frames_total == 30  # the --n_frames_total default
    dataset = TemporalDataset(make_train_opt(root, "--n_frames_total", "1"))
    assert dataset.n_frames_total == 1 and dataset.longest_sequence == N_FRAMES
    assert dataset[0]["A"].shape[0] == 3  # N 1 -> T_load 1 + tG - 1
    dataset.set_sequence_length(2)
    assert dataset.n_frames_total == 2 and dataset[0]["A"].shape[0] == 4
    dataset.set_sequence_length(30)  # the window clamps N to 6 - tG + 1 = 4
    assert dataset.n_frames_total == 30 and dataset[0]["A"].shape[0] == 6
    testing = create_dataset(make_test_opt(test_root))  # no --n_frames_total at test time
    assert testing.n_frames_total == 1 and testing.longest_sequence == N_FRAMES


def test_set_sequence_length_reaches_workers_at_the_next_epoch(root: Path) -> None:
    loader = create_dataloader(make_train_opt(root, "--n_frames_total", "1", "--nThreads", "1"))
    assert [batch["A"].shape[1] for batch in loader] == [3, 3]
    loader.dataset.set_sequence_length(2)
    assert [batch["A"].shape[1] for batch in loader] == [4, 4]


class FixedWindowDataset(TemporalDataset):
    """A subclass as a pose dataset would declare it: no mirroring, windows starting at `index % offsets`."""

    allow_flip = False
    start_at_index = True


def test_allow_flip_false_and_start_at_index(root: Path) -> None:
    opt = make_train_opt(root, "--n_frames_total", "1")  # T_load 3, so 6 - 2 = 4 offsets
    fixed, plain = FixedWindowDataset(opt), TemporalDataset(opt)
    plain_flipped = set()
    for i in range(12):
        seed(i)
        item = fixed[i]
        seq, start = i % N_SEQS, i % 4
        assert [int(v) for v in item["A"][:, 0, 0, 0]] == [marker(seq, start + k) for k in range(3)]
        for k in range(3):
            expected = (rgb_array(seq, start + k).astype(np.float32) / 255 - 0.5) / 0.5
            assert np.allclose(item["B"][k].permute(1, 2, 0).numpy(), expected, atol=1e-6)
        seed(i)
        first = int(plain[i]["A"][0, 0, 0, 0])
        plain_flipped.add(first not in [marker(seq, f) for f in range(N_FRAMES)])
    assert plain_flipped == {True, False}  # the same draws do flip the plain dataset


def test_dataloader_batches_videos(root: Path) -> None:
    loader = create_dataloader(make_train_opt(root, "--batchSize", "2", "--serial_batches", "--use_instance"))
    assert isinstance(loader.dataset.dataset, TemporalDataset) and len(loader.dataset) == N_SEQS
    batch = next(iter(loader))
    assert batch["A"].shape == (2, 6, 1, H, W) and batch["B"].shape == (2, 6, 3, H, W)
    assert batch["inst"].shape == (2, 6, 1, H, W) and len(batch["A_path"]) == 2


def test_max_dataset_size_keeps_every_training_sequence(root: Path) -> None:
    # As in the official code, the training loop (not the dataset) ends an epoch after that many items.
    dataset = TemporalDataset(make_train_opt(root, "--max_dataset_size", "1", "--use_instance"))
    assert len(dataset) == N_SEQS and len(dataset.B_paths) == len(dataset.I_paths) == N_SEQS
    assert dataset[1]["A_path"].endswith("seq01/frame0005.png")
    assert len(create_dataloader(make_train_opt(root, "--max_dataset_size", "1"))) == N_SEQS


def test_max_dataset_size_is_ignored_at_test_time(test_root: Path) -> None:
    dataset = create_dataset(make_test_opt(test_root, "--max_dataset_size", "1", "--use_real_img",
                                           "--use_instance"))
    assert len(dataset) == N_SEQS * (N_FRAMES - 3 + 1)
    assert len(dataset.B_paths) == len(dataset.I_paths) == N_SEQS
    last = dataset[len(dataset) - 1]
    assert last["seq_name"] == "seq01" and last["B"].shape == (3, 3, H, W) and last["inst"].shape == (3, 1, H, W)


# ----------------------------------------------------------------------------------------------------
# The template mode


def test_template_dataset_reads_pairs_like_the_temporal_mode(root: Path) -> None:
    opt = make_train_opt(root, "--dataset_mode", "template")
    dataset = create_dataset(opt)
    assert isinstance(dataset, TemplateDataset) and len(dataset) == N_SEQS
    assert dataset.longest_sequence == N_FRAMES and dataset.n_frames_total == 30
    seed(3)
    item = dataset[1]
    seed(3)
    expected = TemporalDataset(opt)[1]
    assert set(item) == {"A", "B", "A_path", "B_paths"}
    assert item["A"].shape == (6, 1, H, W) and item["B"].shape == (6, 3, H, W)
    assert torch.equal(item["A"], expected["A"]) and torch.equal(item["B"], expected["B"])
    assert item["A_path"] == expected["A_path"] and item["B_paths"] == expected["B_paths"]
    batch = next(iter(create_dataloader(make_train_opt(root, "--dataset_mode", "template", "--batchSize", "2"))))
    assert batch["A"].shape == (2, 6, 1, H, W) and batch["B"].shape == (2, 6, 3, H, W)
    with pytest.raises(ValueError, match="--dataset_mode template is a training example"):
        TemplateDataset(make_test_opt(root))


# ----------------------------------------------------------------------------------------------------
# Test-time windows


def test_test_windows_slide_through_each_sequence(test_root: Path) -> None:
    opt = make_test_opt(test_root)
    dataset = create_dataset(opt)
    assert isinstance(dataset, test_dataset.TestDataset) and len(dataset) == N_SEQS * (N_FRAMES - 3 + 1)
    items = [dataset[i] for i in range(len(dataset))]
    for i, item in enumerate(items):
        seq, first = divmod(i, N_FRAMES - 2)
        assert item["A"].shape == (3, 1, H, W) and "B" not in item and "inst" not in item
        assert [int(v) for v in item["A"][:, 0, 0, 0]] == [marker(seq, first + k) for k in range(3)]
        assert item["A_path"] == str(frame_path(test_root, "test_A", seq, first + 2))
        assert item["seq_name"] == f"seq{seq:02d}" and item["frame_index"] == first + 2
    assert [item["change_seq"] for item in items] == [False] * 4 + [True] + [False] * 3
    # Any access order gives the same windows as the cached sequential pass.
    fresh = create_dataset(opt)
    for i in reversed(range(len(fresh))):
        assert torch.equal(fresh[i]["A"], items[i]["A"])


def test_test_loader_with_real_images_and_instances(test_root: Path) -> None:
    loader = create_dataloader(make_test_opt(test_root, "--use_real_img", "--use_instance"))
    batches = list(loader)
    assert [bool(b["change_seq"]) for b in batches] == [False] * 4 + [True] + [False] * 3
    last = batches[-1]
    assert last["A"].shape == (1, 3, 1, H, W) and last["B"].shape == (1, 3, 3, H, W)
    expected = (rgb_array(1, 5).astype(np.float32) / 255 - 0.5) / 0.5
    assert np.allclose(last["B"][0, 2].permute(1, 2, 0).numpy(), expected, atol=1e-6)
    assert np.array_equal(last["inst"][0, 2, 0].numpy(), inst_array(1, 5).astype(np.float32))
    assert last["seq_name"] == ["seq01"] and int(last["frame_index"]) == 5


def test_start_frame_skips_only_the_first_sequence(test_root: Path) -> None:
    dataset = create_dataset(make_test_opt(test_root, "--start_frame", "2"))
    assert len(dataset) == 6
    assert [dataset[i]["frame_index"] for i in range(6)] == [4, 5, 2, 3, 4, 5]
    assert [dataset[i]["change_seq"] for i in range(6)] == [False, False, True, False, False, False]


# ----------------------------------------------------------------------------------------------------
# Bad inputs


def test_missing_folders_name_the_flags(tmp_path: Path, root: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"train_A.*--dataroot"):
        TemporalDataset(make_train_opt(tmp_path / "nowhere"))
    for path in (root / "train_inst").rglob("*.png"):
        path.unlink()
    for path in sorted((root / "train_inst").rglob("*"), reverse=True):
        path.rmdir()
    (root / "train_inst").rmdir()
    with pytest.raises(FileNotFoundError, match=r"train_inst.*--use_instance"):
        TemporalDataset(make_train_opt(root, "--use_instance"))


def test_missing_test_b_names_use_real_img(test_root: Path) -> None:
    (test_root / "test_B").rename(test_root / "elsewhere")
    with pytest.raises(FileNotFoundError, match=r"test_B.*--use_real_img"):
        create_dataset(make_test_opt(test_root, "--use_real_img"))


def test_mismatched_sequences_and_frame_counts(root: Path) -> None:
    frame_path(root, "train_B", 1, 5).unlink()
    with pytest.raises(ValueError, match=r"sequence seq01: .*train_A has 6 frames but .*train_B has 5"):
        TemporalDataset(make_train_opt(root))
    for path in (root / "train_B" / "seq01").iterdir():
        path.unlink()
    (root / "train_B" / "seq01").rmdir()
    with pytest.raises(ValueError, match=r"train_A has 2 sequences but .*train_B has 1"):
        TemporalDataset(make_train_opt(root))


def test_too_short_sequences_name_n_frames_g(root: Path) -> None:
    with pytest.raises(ValueError, match=r"seq00 .* 6 frames; --n_frames_G 7"):
        TemporalDataset(make_train_opt(root, "--n_frames_G", "7"))


def test_corrupt_images_name_their_path(root: Path) -> None:
    broken = frame_path(root, "train_B", 0, 3)
    broken.write_bytes(broken.read_bytes()[:60])  # a valid header, then truncated
    dataset = TemporalDataset(make_train_opt(root))
    with pytest.raises(ValueError, match=re.escape(str(broken))):
        dataset[0]
    garbage = frame_path(root, "train_B", 1, 0)
    garbage.write_bytes(b"not an image")
    with pytest.raises(ValueError, match=re.escape(str(garbage))):
        TemporalDataset(make_train_opt(root))


def test_label_ids_beyond_label_nc(root: Path) -> None:
    bad = frame_path(root, "train_A", 0, 2)
    array = label_array(0, 2)
    array[5, 5] = 40
    Image.fromarray(array).save(bad)
    with pytest.raises(ValueError, match=rf"{re.escape(str(bad))}: label id 40 .*--label_nc 35"):
        TemporalDataset(make_train_opt(root))[0]


@pytest.mark.parametrize("args", [
    ["--resize_or_crop", "resize", "--loadSize", "100"],  # 100x100, divisor 8
    ["--n_downsample_G", "4", "--n_scales_spatial", "3"],  # 64x32, divisor 64
    ["--resize_or_crop", "scaleWidth_and_crop", "--loadSize", "100", "--fineSize", "128"],  # 100x48
])
def test_indivisible_frame_sizes_suggest_a_size(root: Path, args: list[str]) -> None:
    with pytest.raises(ValueError, match=r"not divisible by .*--loadSize") as error:
        TemporalDataset(make_train_opt(root, *args))
    suggestion = re.search(r"try (.*)$", str(error.value)).group(1).split()
    assert len(TemporalDataset(make_train_opt(root, *args, *suggestion))) == N_SEQS


def test_crop_modes_can_suggest_a_fine_size(tmp_path: Path) -> None:
    opt = make_train_opt(tmp_path, "--resize_or_crop", "crop", "--fineSize", "128")
    with pytest.raises(ValueError, match=r"100x48 .*--fineSize 128 .*by 8 .*try --fineSize") as error:
        check_frame_size(opt, (100, 50), "frame.png")  # a crop larger than the image: (100, 48) stays
    opt.fineSize = int(re.search(r"--fineSize (\d+)$", str(error.value)).group(1))
    check_frame_size(opt, (100, 50), "frame.png")


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "1", "I", "I;16", "F"])
def test_pil_to_tensor_and_normalize_equal_torchvision(mode):
    import torchvision.transforms as tv

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    img = Image.fromarray(pixels).convert(mode)
    ours, theirs = pil_to_tensor(img), tv.ToTensor()(img)
    assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)
    if ours.is_floating_point():
        assert torch.equal(normalize_half(ours), tv.Normalize((0.5,), (0.5,))(theirs))


def test_training_import_path_leaves_torchvision_out():
    code = "import sys, train, test; from data import find_dataset_class; find_dataset_class('temporal'); " \
           "print('torchvision' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "False"
