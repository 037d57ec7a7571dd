"""Which frames an item reads: random training windows of a video, and sliding test windows.

Training (`get_video_params`): an item generates N frames in K chunks of L (`frames_per_chunk`), so it
reads T_load = L*K + tG - 1 frames, `start + k * t_step` for k < T_load. Test (`SlidingWindowIndex`): a
window of tG frames slides by one frame through each sequence in order.
"""

from __future__ import annotations

import argparse
import bisect
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from data.image_folder import sequence_name
from util.runtime import generator_gpu_count


class VideoWindow(NamedTuple):
    """Which frames one training item reads: `start + k * t_step` for k < n_frames_load."""

    n_frames: int  # N: frames generated (after clamping to the sequence)
    frames_per_chunk: int  # L: frames generated per forward pass
    n_chunks: int  # K = N // L
    n_frames_load: int  # T_load = L*K + tG - 1
    start: int
    t_step: int


def frames_per_chunk(n_frames: int, max_frames_per_gpu: int, n_gpus: int) -> int:
    """L: `max_frames_per_gpu` times the generator GPUs `n_gpus` that one sequence gets, at most `n_frames`.

    The trainer splits the loaded frames with this same function, so that the dataset and the generator
    agree on the chunking. `n_gpus` comes from `util.runtime.generator_gpu_count` (at least 1).
    """
    return min(n_frames, max_frames_per_gpu * n_gpus)


def get_video_params(opt: argparse.Namespace, n_frames_total: int, seq_len: int, index: int, *,
                     start_at_index: bool = False) -> VideoWindow:
    """The window of one item of a `seq_len`-frame video, with N = `n_frames_total` frames wanted.

    Training: N is clamped to seq_len - tG + 1 and rounded down to whole chunks; t_step is uniform in
    1..max_t_step (reduced so the window fits) and start is uniform over the valid offsets, or
    `index % offsets` with `start_at_index` (a dataset's `start_at_index` class attribute). Otherwise:
    tG frames from `index` with step 1.
    """
    tG = opt.n_frames_G
    if not opt.isTrain:
        return VideoWindow(1, 1, 1, tG, index, 1)
    n_frames = min(n_frames_total, seq_len - tG + 1)
    chunk = frames_per_chunk(n_frames, opt.max_frames_per_gpu, generator_gpu_count(opt.n_gpus_gen, opt.batchSize))
    n_chunks = n_frames // chunk
    n_load = chunk * n_chunks + tG - 1
    # max(1, ...) only guards the degenerate one-frame window, where the step does not matter.
    max_t_step = max(1, min(opt.max_t_step, (seq_len - 1) // max(1, n_load - 1)))
    t_step = np.random.randint(max_t_step) + 1
    offset_max = max(1, seq_len - (n_load - 1) * t_step)
    # With start_at_index no start is drawn, so the NumPy generator advances by the t_step draw only.
    start = index % offset_max if start_at_index else np.random.randint(offset_max)
    if opt.debug:
        print(f"loading {n_load} frames in total, first frame starting at index {start}, "
              f"space between neighboring frames is {t_step}")
    return VideoWindow(n_frames, chunk, n_chunks, n_load, int(start), int(t_step))


class SlidingWindowIndex:
    """Maps a flat item index to (sequence, first frame) of a window of `window` frames.

    Sequence s gives `lengths[s] - window + 1` windows; `start_frame` skips the first windows of the
    first sequence only (all of it when it is that long).
    """

    def __init__(self, lengths: list[int], window: int, start_frame: int = 0) -> None:
        counts = [n - window + 1 for n in lengths]
        self.first_window = [min(start_frame, counts[0])] + [0] * (len(counts) - 1)
        self.ends = []  # ends[s]: number of items in sequences 0..s
        total = 0
        for count, first in zip(counts, self.first_window):
            total += count - first
            self.ends.append(total)

    def __len__(self) -> int:
        return self.ends[-1]

    def locate(self, index: int) -> tuple[int, int]:
        """(sequence, first frame of the window) of item `index`."""
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} out of range for {len(self)} test windows")
        seq = bisect.bisect_right(self.ends, index)
        before = self.ends[seq - 1] if seq else 0
        return seq, self.first_window[seq] + index - before


class SlidingWindowReader:
    """Reads the test windows of a `SlidingWindowIndex` in any order; consecutive windows of a sequence read
    only their newest frame (the previous window minus its oldest frame, plus the newest).

    `read(seq, frame_indices)` returns {'A': (n, ...), ...}, time first, for the given frames of `seq`.
    """

    def __init__(self, windows: SlidingWindowIndex, window: int) -> None:
        self.windows = windows
        self.window = window
        self._cache: tuple[int, int, dict[str, torch.Tensor]] | None = None  # (sequence, first frame, frames)

    def item(self, index: int, read: Callable[[int, list[int]], dict[str, torch.Tensor]],
             paths: list[list[str]], folder: str) -> dict:
        """Test item `index`: the window's frames plus 'A_path' (newest frame, from `paths`), 'change_seq'
        (first item of every sequence but the first), 'seq_name' (relative to `folder`) and 'frame_index'."""
        seq, first = self.windows.locate(index)
        newest = first + self.window - 1
        if self._cache is not None and self._cache[:2] == (seq, first - 1):
            added = read(seq, [newest])
            frames = {key: torch.cat([old[1:], added[key]]) for key, old in self._cache[2].items()}
        else:
            frames = read(seq, list(range(first, newest + 1)))
        self._cache = (seq, first, frames)
        return {
            **frames,
            "A_path": paths[seq][newest],
            "change_seq": index > 0 and self.windows.locate(index - 1)[0] != seq,
            "seq_name": sequence_name(paths[seq], folder),
            "frame_index": newest,
        }
