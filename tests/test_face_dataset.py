"""`--dataset_mode face` items on a hand-made dataset (data/face_dataset.py): the official crop and maps,
the channel counts of --no_dist_map / --no_canny_edge, test windows, and the bad-input errors."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from data import create_dataset
from data.face_drawing import add_background_edges, draw_face_edges, part_label_map
from data.face_keypoints import add_upper_face
from options.test_options import TestOptions
from options.train_options import TrainOptions
from tests.test_face_drawing import HAND_FACE, write_keypoints

# HAND_FACE squeezed to a width of exactly 64 (x 40..104), so that the crop side is 2.5 * 64 = 160: with
# --loadSize 160 the crop is not resized, and the item can be compared with the crop pixel for pixel.
FACE64 = np.stack([np.round((HAND_FACE[:, 0] - 40) * 64 / 120) + 40,
                   np.round((HAND_FACE[:, 1] - 72) * 64 / 120) + 72], axis=1)
OFFSET = np.array([100.0, 0.0])
# keypoints x 140..204, y 72..130: centre x 172, y (3 * 72 + 130) // 4 = 86, half side 80
BOX = (92, 6, 252, 166)
SIZE = (400, 300)


def frame_image(t: int, size=SIZE) -> np.ndarray:
    """A (H, W, 3) frame with texture everywhere, so that Canny finds background edges."""
    yy, xx = np.mgrid[: size[1], : size[0]]
    checker = ((xx // 12 + yy // 12 + t) % 2) * 180
    return np.stack([(xx * 3 + t * 7) % 256, (yy * 5) % 256, checker], axis=-1).astype(np.uint8)


def write_sequence(root, phase: str, name: str, n_frames: int, face=FACE64, offset=OFFSET, size=SIZE) -> None:
    for folder in ("keypoints", "img"):
        os.makedirs(os.path.join(root, f"{phase}_{folder}", name), exist_ok=True)
    for t in range(n_frames):
        write_keypoints(os.path.join(root, f"{phase}_keypoints", name, f"{t:05d}.txt"), face + offset + (t, 0))
        Image.fromarray(frame_image(t, size)).save(os.path.join(root, f"{phase}_img", name, f"{t:05d}.png"))


def train_opt(root, *flags: str):
    return TrainOptions().parse(["--dataroot", str(root), "--dataset_mode", "face", "--input_nc", "15",
                                 "--loadSize", "160", "--gpu_ids", "-1", "--checkpoints_dir", str(root / "ck"),
                                 "--n_frames_total", "2", "--max_frames_per_gpu", "2", "--no_flip", *flags],
                                save=False)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("face")
    write_sequence(root, "train", "clip", 4)
    return root


def expected_maps(t: int):
    """The full-frame maps of frame t, drawn as the official code does, then cropped by slicing."""
    points = add_upper_face(FACE64 + OFFSET + (t, 0))
    labels = part_label_map(points, SIZE)
    edges, maps = draw_face_edges(points, SIZE, True)
    image = frame_image(t)
    add_background_edges(edges, np.array(Image.fromarray(image).convert("L")), labels)
    x0, y0, x1, y1 = BOX
    return image[y0:y1, x0:x1], labels[y0:y1, x0:x1], edges[y0:y1, x0:x1], [m[y0:y1, x0:x1] for m in maps]


def test_training_item_is_the_official_crop_and_maps(root):
    np.random.seed(0)
    item = create_dataset(train_opt(root))[0]
    assert item["A"].shape == (4, 15, 160, 160) and item["B"].shape == (4, 3, 160, 160)
    assert item["inst"].shape == (4, 1, 160, 160)
    assert item["A_path"].endswith("00003.txt") and item["B_paths"].endswith("00003.png")
    for t in range(4):  # one box for the item, from its first frame
        image, labels, edges, maps = expected_maps(t)
        torch.testing.assert_close(item["B"][t], torch.from_numpy(image).permute(2, 0, 1) / 255 * 2 - 1)
        assert torch.equal(item["inst"][t, 0], torch.from_numpy(labels).float())
        assert torch.equal(item["A"][t, 0], torch.from_numpy(edges).float() / 255)
        assert torch.equal(item["A"][t, 1:], torch.from_numpy(np.stack(maps)).float() / 255)
    assert set(item["inst"].unique().tolist()) == set(range(7))
    # the straight nose bottom (y 122.5 -> 102 after the squeeze, row 96 of the crop) is on every frame's
    # edge image and zero in its own distance map (channel 1 + 4)
    assert item["A"][0, 5].min() == 0 and item["A"][0, 1:].max() <= 1


def test_channel_counts_and_background_edges(root):
    full = create_dataset(train_opt(root))
    np.random.seed(1)
    a = full[0]["A"]
    np.random.seed(1)
    no_dist = create_dataset(train_opt(root, "--no_dist_map", "--input_nc", "1"))[0]["A"]
    np.random.seed(1)
    item = create_dataset(train_opt(root, "--no_canny_edge"))[0]
    assert a.shape[1] == 15 and no_dist.shape[1] == 1 and item["A"].shape[1] == 15
    assert torch.equal(no_dist[:, 0], a[:, 0])
    # Canny adds edges only outside the face: the difference lies where the part label is 0
    added = a[:, 0] != item["A"][:, 0]
    assert added.any() and (item["inst"][:, 0][added] == 0).all()
    assert torch.equal(a[:, 1:], item["A"][:, 1:])


def test_options_must_describe_the_face_input(root):
    with pytest.raises(ValueError, match=r"--dataset_mode face makes 15-channel inputs .*use --input_nc 15"):
        create_dataset(train_opt(root, "--input_nc", "3"))
    with pytest.raises(ValueError, match=r"makes 1-channel inputs \(an edge image\): use --input_nc 1"):
        create_dataset(train_opt(root, "--no_dist_map"))
    with pytest.raises(ValueError, match="--add_face_disc with --dataset_mode face .* drop --no_dist_map"):
        create_dataset(train_opt(root, "--no_dist_map", "--input_nc", "1", "--add_face_disc"))


def test_bad_keypoint_file_fails_at_start_naming_it(tmp_path):
    write_sequence(tmp_path, "train", "clip", 3)
    bad = tmp_path / "train_keypoints" / "clip" / "00001.txt"
    bad.write_text("1,2\n" * 10)
    with pytest.raises(ValueError, match=r"keypoint file .*clip/00001\.txt holds 10 rows of x,y, expected the 68"):
        create_dataset(train_opt(tmp_path))


def test_different_counts_name_the_sequence(tmp_path):
    write_sequence(tmp_path, "train", "clip", 3)
    os.remove(tmp_path / "train_img" / "clip" / "00002.png")
    with pytest.raises(ValueError, match=r"sequence clip: .*train_keypoints has 3 frames but .*train_img has 2"):
        create_dataset(train_opt(tmp_path))


def test_data_folders(root):
    from data.face_dataset import FaceDataset

    assert [(f.suffix, f.kind) for f in FaceDataset.data_folders(train_opt(root))] == [("keypoints", "keypoints"),
                                                                                       ("img", "image")]


def face_test_opt(root, *flags: str):
    return TestOptions().parse(["--dataroot", str(root), "--dataset_mode", "face", "--input_nc", "15",
                                "--loadSize", "160", "--gpu_ids", "-1", *flags])


@pytest.fixture(scope="module")
def test_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("face_test")
    write_sequence(root, "test", "a", 4)
    write_sequence(root, "test", "b", 3, offset=np.array([150.0, 40.0]))  # its own box: x 142..302, y 46..206
    return root


def test_test_windows_slide_and_each_sequence_has_its_box(test_root):
    dataset = create_dataset(face_test_opt(test_root))
    assert len(dataset) == (4 - 2) + (3 - 2)
    items = [dataset[i] for i in range(3)]
    assert [i["change_seq"] for i in items] == [False, False, True]
    assert [(i["seq_name"], i["frame_index"]) for i in items] == [("a", 2), ("a", 3), ("b", 2)]
    assert all(i["A"].shape == (3, 15, 160, 160) and i["B"].shape == (3, 3, 160, 160) for i in items)
    # the window read from the cache equals a fresh read
    fresh = create_dataset(face_test_opt(test_root))[1]
    for key in ("A", "B", "inst"):
        assert torch.equal(items[1][key], fresh[key])
    # sequence a: the box of its first frame, for every window (the official box of the run)
    image, *_ = expected_maps(3)
    torch.testing.assert_close(items[1]["B"][2], torch.from_numpy(image).permute(2, 0, 1) / 255 * 2 - 1)
    # sequence b: the box of its own first frame
    b0 = frame_image(0)[46:206, 142:302]
    torch.testing.assert_close(items[2]["B"][0], torch.from_numpy(b0).permute(2, 0, 1) / 255 * 2 - 1)


def test_random_scale_points_moves_the_edges_not_the_labels(test_root):
    plain = create_dataset(face_test_opt(test_root))[0]
    moved = create_dataset(face_test_opt(test_root, "--random_scale_points"))[0]
    assert torch.equal(plain["inst"], moved["inst"]) and torch.equal(plain["B"], moved["B"])
    assert not torch.equal(plain["A"][:, 0], moved["A"][:, 0])
