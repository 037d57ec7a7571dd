"""Tests of scripts/datasets/synthetic_street.py and its command-line wrapper: determinism, labels and
instances, motion, colours, the on-disk layout and the reuse of an existing dataset."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scripts.datasets import synthetic_street as ss

REPO = Path(__file__).resolve().parents[1]
TINY = {"n_train": 2, "n_test": 1, "n_frames": 6, "width": 64, "height": 32, "seed": 0}


def _render(seed: int, n_frames: int = 8, width: int = 128, height: int = 64) -> tuple[np.ndarray, ...]:
    return ss.render_video(np.random.default_rng(seed), n_frames, width, height)


@pytest.fixture(scope="module")
def videos() -> list[tuple[np.ndarray, ...]]:
    """A few small videos: (labels, instances, frames) each."""
    return [_render(seed) for seed in range(3)]


def _edges(maps: np.ndarray) -> np.ndarray:
    """vid2vid's instance edge rule: a pixel differing from a 4-neighbour is an edge."""
    maps = maps.astype(np.int64)
    edges = np.zeros(maps.shape, dtype=bool)
    dx = maps[..., :, 1:] != maps[..., :, :-1]
    dy = maps[..., 1:, :] != maps[..., :-1, :]
    edges[..., :, 1:] |= dx
    edges[..., :, :-1] |= dx
    edges[..., 1:, :] |= dy
    edges[..., :-1, :] |= dy
    return edges


def _best_shift(before: np.ndarray, after: np.ndarray, max_shift: int = 6) -> int:
    """The horizontal shift s (pixels, + = rightwards) best matching after[:, x] to before[:, x - s]."""
    w = before.shape[1]
    errors = [np.abs(after[:, max_shift:w - max_shift] - before[:, max_shift - s:w - max_shift - s]).mean()
              for s in range(-max_shift, max_shift + 1)]
    return int(np.argmin(errors)) - max_shift


def _files(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def _check_layout(root: Path, n_train: int, n_test: int, n_frames: int, width: int, height: int) -> None:
    for phase, count in (("train", n_train), ("test", n_test)):
        for kind, mode in (("A", "L"), ("B", "RGB"), ("inst", "L")):
            folder = root / f"{phase}_{kind}"
            assert sorted(p.name for p in folder.iterdir()) == [f"seq_{i:03d}" for i in range(count)]
            for seq in folder.iterdir():
                frames = sorted(seq.iterdir())
                assert [p.name for p in frames] == [f"frame_{t:04d}.png" for t in range(n_frames)]
                with Image.open(frames[0]) as image:
                    assert (image.mode, image.size) == (mode, (width, height))


def test_same_seed_same_video_other_seed_other_video():
    first, again, other = _render(7, 4, 64, 32), _render(7, 4, 64, 32), _render(8, 4, 64, 32)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


def test_shapes_and_types():
    labels, instances, frames = _render(0, 5, 64, 32)
    assert labels.shape == instances.shape == (5, 32, 64)
    assert frames.shape == (5, 32, 64, 3)
    assert labels.dtype == instances.dtype == frames.dtype == np.uint8


def test_labels_are_the_declared_cityscapes_ids(videos):
    seen = set()
    for labels, _, _ in videos:
        seen |= set(np.unique(labels).tolist())
    assert seen <= set(ss.LABEL_IDS)
    assert {ss.ROAD, ss.SIDEWALK, ss.BUILDING, ss.VEGETATION, ss.SKY, ss.CAR} <= seen


def test_instances_hold_the_label_for_stuff_and_one_value_per_car(videos):
    most_cars = 0
    for labels, instances, _ in videos:
        car = labels == ss.CAR
        np.testing.assert_array_equal(instances[~car], labels[~car])
        assert (instances[car] >= ss.CAR_INSTANCE_BASE).all()
        per_frame = [set(np.unique(instances[t][car[t]]).tolist()) for t in range(len(labels))]
        most_cars = max(most_cars, *map(len, per_frame))
        # A car keeps its value from one frame to the next.
        for now, after in zip(per_frame, per_frame[1:]):
            assert not now or not after or now & after
    assert most_cars >= 2


def test_instance_edges_refine_label_edges(videos):
    car_meets_car = 0
    for labels, instances, _ in videos:
        label_edges, instance_edges = _edges(labels), _edges(instances)
        assert instance_edges.any()
        assert (instance_edges | ~label_edges).all()
        car_meets_car += int((instance_edges & ~label_edges).sum())
    # Somewhere one car hides part of another: only the instance map separates them.
    assert car_meets_car > 0


def test_consecutive_frames_differ(videos):
    for _, _, frames in videos:
        change = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
        assert (change > 1.0).all()


def test_facades_scroll_outwards_as_the_camera_drives_forward(videos):
    for _, _, frames in videos:
        gray = frames.astype(np.float64).mean(axis=-1)
        height, width = gray.shape[1:]
        horizon = round(ss.HORIZON_PER_HEIGHT * height)
        # Just above the horizon, the image edges show the facades on either side of the street.
        band = gray[:, horizon - height // 6:horizon]
        left = [_best_shift(a[:, :width // 4], b[:, :width // 4]) for a, b in zip(band, band[1:])]
        right = [_best_shift(a[:, -width // 4:], b[:, -width // 4:]) for a, b in zip(band, band[1:])]
        assert all(s < 0 for s in left), left
        assert all(s > 0 for s in right), right


def test_colours_follow_the_labels(videos):
    for labels, _, frames in videos:
        frames = frames.astype(np.float64)
        sky = frames[labels == ss.SKY].mean(axis=0)
        assert sky[2] > sky[0] + 40 and sky[2] > sky[1]
        road = frames[labels == ss.ROAD]
        assert np.median(np.ptp(road, axis=1)) < 12
        leaves = frames[labels == ss.VEGETATION].mean(axis=0)
        assert leaves[1] > leaves[0] and leaves[1] > leaves[2]
        # A label explains most of a pixel's colour: the spread within labels is well below the total.
        within = np.mean([frames[labels == k].std(axis=0).mean() for k in np.unique(labels)])
        assert within < 0.8 * frames.reshape(-1, 3).std(axis=0).mean()


def test_generate_dataset_writes_the_layout(tmp_path):
    ss.generate_dataset(str(tmp_path), **TINY)
    _check_layout(tmp_path, 2, 1, 6, 64, 32)
    assert json.loads((tmp_path / ss.MANIFEST_NAME).read_text())["seed"] == 0
    labels = np.array(Image.open(tmp_path / "test_A" / "seq_000" / "frame_0005.png"))
    assert set(np.unique(labels).tolist()) <= set(ss.LABEL_IDS)


def test_generate_dataset_reuses_and_regenerates(tmp_path):
    ss.generate_dataset(str(tmp_path), **TINY)
    written = _files(tmp_path)
    ss.generate_dataset(str(tmp_path), **TINY)
    assert _files(tmp_path) == written

    # Other parameters replace the dataset, leaving no frame of the old one behind.
    ss.generate_dataset(str(tmp_path), **{**TINY, "n_frames": 4})
    _check_layout(tmp_path, 2, 1, 4, 64, 32)

    # An incomplete dataset (a frame deleted) is generated again.
    (tmp_path / "train_B" / "seq_001" / "frame_0002.png").unlink()
    ss.generate_dataset(str(tmp_path), **{**TINY, "n_frames": 4})
    _check_layout(tmp_path, 2, 1, 4, 64, 32)


def test_command_line_writes_the_layout(tmp_path, monkeypatch, capsys):
    # Run in this process as `python scripts/datasets/make_synthetic_street.py ...` would, which is quicker
    # than starting a new interpreter.
    root = tmp_path / "street"
    script = REPO / "scripts" / "datasets" / "make_synthetic_street.py"
    argv = [str(script), "--dataroot", str(root), "--n_train", "1", "--n_test", "1", "--n_frames", "3",
            "--width", "48", "--height", "24"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(script), run_name="__main__")
    _check_layout(root, 1, 1, 3, 48, 24)
    assert "wrote 2 videos" in capsys.readouterr().out
    runpy.run_path(str(script), run_name="__main__")
    assert "nothing to do" in capsys.readouterr().out
