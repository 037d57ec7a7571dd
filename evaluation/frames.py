"""Finding the frames of a results folder and of its ground truth, matched by name per sequence.

A folder holds one sequence per directory that directly holds image files, at any depth, named by its path
relative to the folder (`seq01`, `city/seq01`; `.` for images directly in the folder). Frames are ordered by
plain string sorting, as the datasets do (data/image_folder.py). In a results sequence the frames that
test.py writes, `fake_B_<stem>.jpg`, are used when there are any (its `real_A_*` inputs are not frames to
score); otherwise every image, `<stem>.<ext>`. A result frame is matched to the ground-truth frame of the same
stem, any extension, in the sequence of the same relative path, or else of the same last path component
(test.py names its folders by the last component only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff")
RENDERED_PREFIX = "fake_B_"


@dataclass(frozen=True)
class Sequence:
    """One sequence of a run, matched to its ground truth: parallel lists, one entry per frame, in order."""

    name: str
    stems: tuple[str, ...]
    result_paths: tuple[str, ...]
    truth_paths: tuple[str, ...]
    # (width, height) to score at; None: the result frames' own size
    size: tuple[int, int] | None = None


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def image_sequences(folder: str, source: str) -> dict[str, list[str]]:
    """Relative sequence path -> its sorted image files, for every directory under `folder` holding images.

    Raises FileNotFoundError naming `source` (e.g. '--results DIR') when `folder` is not a directory.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{source}: not a directory")
    sequences = {}
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        images = sorted(os.path.join(root, name) for name in files if _is_image(name))
        if images:
            sequences[os.path.relpath(root, folder)] = images
    return dict(sorted(sequences.items()))


def result_frames(images: list[str]) -> dict[str, str]:
    """stem -> path of the frames to score among one results sequence's images (see the module docstring)."""
    rendered = [p for p in images if os.path.basename(p).startswith(RENDERED_PREFIX)]
    chosen = rendered or images
    strip = len(RENDERED_PREFIX) if rendered else 0
    return {os.path.splitext(os.path.basename(p))[0][strip:]: p for p in chosen}


def _truth_sequence(name: str, truth: dict[str, list[str]], truth_dir: str) -> list[str]:
    """The ground-truth images of results sequence `name`: same relative path, else same last component."""
    if name in truth:
        return truth[name]
    same_base = [key for key in truth if os.path.basename(key) == os.path.basename(name)]
    if len(same_base) != 1:
        found = "several" if same_base else "none"
        raise FileNotFoundError(f"--ground_truth {truth_dir}: no sequence folder matches results sequence "
                                f"{name!r} ({found} with that name)")
    return truth[same_base[0]]


def match_frames(results_dir: str, truth_dir: str, source: str = "") -> list[Sequence]:
    """Every results sequence with its frames matched to the ground truth's by stem.

    source: how errors name the results folder (default '--results <results_dir>').
    Raises FileNotFoundError (naming the flag and folder) when `results_dir` holds no images, a results
    sequence has no ground-truth folder, or a result frame has no ground-truth frame of its stem.
    """
    source = source or f"--results {results_dir}"
    results = image_sequences(results_dir, source)
    truth = image_sequences(truth_dir, f"--ground_truth {truth_dir}")
    if not results:
        raise FileNotFoundError(f"{source}: no image frames in it or its sub-folders")
    matched = []
    for name, images in results.items():
        frames = result_frames(images)
        truth_by_stem = {}
        for path in _truth_sequence(name, truth, truth_dir):
            truth_by_stem.setdefault(os.path.splitext(os.path.basename(path))[0], path)
        stems = sorted(frames)
        missing = [s for s in stems if s not in truth_by_stem]
        if missing:
            raise FileNotFoundError(f"--ground_truth {truth_dir}: no frame {missing[0]!r} for results sequence "
                                    f"{name!r} ({len(missing)} of its {len(stems)} frames have none)")
        matched.append(Sequence(name, tuple(stems), tuple(frames[s] for s in stems),
                                tuple(truth_by_stem[s] for s in stems)))
    return matched


def restrict_to_common(runs: list[list[Sequence]], labels: list[str]) -> list[list[Sequence]]:
    """The runs cut down to the sequences and frames that all of them have, so that every row of a table is
    scored on the same frames. Raises ValueError naming the runs when they share no frame."""
    common_names = set.intersection(*({s.name for s in run} for run in runs))
    out: list[list[Sequence]] = [[] for _ in runs]
    for name in sorted(common_names):
        seqs = [next(s for s in run if s.name == name) for run in runs]
        stems = set.intersection(*(set(s.stems) for s in seqs))
        for i, seq in enumerate(seqs):
            keep = [k for k, stem in enumerate(seq.stems) if stem in stems]
            if keep:
                out[i].append(replace(seq, stems=tuple(seq.stems[k] for k in keep),
                                      result_paths=tuple(seq.result_paths[k] for k in keep),
                                      truth_paths=tuple(seq.truth_paths[k] for k in keep)))
    if not out[0]:
        raise ValueError(f"the runs {', '.join(labels)} have no frame (sequence and name) in common")
    return out


def copy_frame_sequences(sequences: list[Sequence], truth_dir: str, given_index: int) -> list[Sequence]:
    """The baseline that repeats one real frame: for every frame of `sequences`, ground-truth frame number
    `given_index` (0-based, in sorted order) of the same sequence. With --use_real_img the model is given
    frames 0..tG-2, so `given_index = tG - 2` is the last real frame it sees."""
    truth = image_sequences(truth_dir, f"--ground_truth {truth_dir}")
    out = []
    for seq in sequences:
        images = _truth_sequence(seq.name, truth, truth_dir)
        if given_index >= len(images):
            raise ValueError(f"--ground_truth {truth_dir}: sequence {seq.name!r} has {len(images)} frames, "
                             f"no frame {given_index} to repeat (--n_frames_G)")
        # scored at the size of the frames it stands in for, as every other row
        with Image.open(seq.result_paths[0]) as rendered:
            size = seq.size or rendered.size
        out.append(replace(seq, result_paths=(images[given_index],) * len(seq.stems), size=size))
    return out


def load_frames(paths: tuple[str, ...] | list[str], size: tuple[int, int] | None = None) -> np.ndarray:
    """The images as uint8 RGB `(T, H, W, 3)`; each resized (bicubic) to `size` = (width, height) when given
    and different (a ground truth of another size than the rendered frames)."""
    frames = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        if size is not None and image.size != size:
            image = image.resize(size, Image.BICUBIC)
        frames.append(np.asarray(image))
    if size is None and len({f.shape for f in frames}) > 1:
        raise ValueError(f"frames of different sizes in {os.path.dirname(paths[0])}; expected one size")
    return np.stack(frames)


def load_pair(seq: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(result, ground truth) frames of one sequence, uint8 `(T, H, W, 3)` each: at `seq.size` when set, else
    the truth resized to the results' size."""
    result = load_frames(seq.result_paths, seq.size)
    height, width = result.shape[1:3]
    return result, load_frames(seq.truth_paths, (width, height))
