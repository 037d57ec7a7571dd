"""From per-frame landmarks (some frames without a face) to the sequences written for training.

Short gaps (runs of frames without a face) between two faces are filled by linear interpolation; a longer
gap ends a sequence and the next face starts another; frames before the first face and after the last one
are dropped. Optional temporal smoothing (a centred moving average) damps dlib's frame-to-frame jitter.
Points are `(68, 2)` (x, y) arrays; sequences are lists of positions in the list of frames read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Tracks:
    """Sequences of frame positions, the points of every position in one (filled in where interpolated),
    and what happened to the frames without a face."""

    sequences: list[list[int]]
    points: dict[int, np.ndarray]
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (first position, length) of each run without a face
    interpolated: int = 0  # frames without a face filled in
    dropped: int = 0  # frames without a face, or in too short a sequence, that are not written


def build_tracks(found: list[np.ndarray | None], max_gap: int, min_length: int) -> Tracks:
    """Splits the frames at gaps longer than `max_gap` frames and fills the shorter ones.

    found: per frame read, its points or None. Sequences of fewer than `min_length` frames are dropped.
    """
    positions = [i for i, p in enumerate(found) if p is not None]
    points = {i: np.asarray(found[i], dtype=np.float64) for i in positions}
    tracks = Tracks(sequences=[], points=points, dropped=len(found) - len(positions))
    if positions and positions[0] > 0:
        tracks.gaps.append((0, positions[0]))
    current: list[int] = []
    for before, after in zip([None, *positions], positions):
        gap = 0 if before is None else after - before - 1
        if gap:
            tracks.gaps.append((before + 1, gap))
        if gap and gap <= max_gap:
            for k in range(before + 1, after):
                weight = (k - before) / (after - before)
                points[k] = points[before] + (points[after] - points[before]) * weight
                current.append(k)
            tracks.interpolated += gap
            tracks.dropped -= gap
        elif gap:
            tracks.sequences.append(current)
            current = []
        current.append(after)
    tracks.sequences.append(current)
    if positions and positions[-1] < len(found) - 1:
        tracks.gaps.append((positions[-1] + 1, len(found) - 1 - positions[-1]))
    for sequence in [s for s in tracks.sequences if len(s) < min_length]:
        tracks.dropped += len(sequence)
        tracks.sequences.remove(sequence)
    return tracks


def cut_sequences(sequences: list[list[int]], max_length: int, min_length: int) -> list[list[int]]:
    """Cuts every sequence into pieces of `max_length` frames (0: no cut); a last piece shorter than
    `min_length` stays with the piece before it."""
    if max_length <= 0:
        return sequences
    pieces = []
    for sequence in sequences:
        cut = [sequence[i : i + max_length] for i in range(0, len(sequence), max_length)]
        if len(cut) > 1 and len(cut[-1]) < min_length:
            last = cut.pop()
            cut[-1] = cut[-1] + last
        pieces += cut
    return pieces


def smooth(points: list[np.ndarray], window: int) -> list[np.ndarray]:
    """The centred moving average of one sequence's points over `window` frames (shrunk at its ends).

    window <= 1 returns the points unchanged.
    """
    if window <= 1:
        return points
    stacked = np.stack(points)
    before, after = (window - 1) // 2, window // 2
    return [stacked[max(0, t - before) : t + after + 1].mean(axis=0) for t in range(len(points))]
