"""Frame groups for the temporal discriminators (official get_skipped_frames and its sparse variant).

Temporal scale s judges groups of tD frames taken tD**s frames apart. Histories of real and generated
frames are carried across the chunks of a video (detached), and the new frames of each chunk are appended.
"""

from __future__ import annotations

import torch


def dense_groups(history: torch.Tensor | None, new: torch.Tensor, t_scales: int, tD: int
                 ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """Appends `new` to `history` and cuts the groups every temporal scale can judge.

    history: `(B, n, ...)` or None; new: `(B, L, ...)` (not detached: the G loss flows into it).
    For scale s (stride tDs = tD**s, span tDs*(tD-1)), groups end at the newest frame, then tD, 2tD, ...
    frames earlier, while fewer than min(len - span, L) frames back; they are stacked on the batch axis.
    Returns (the history trimmed to the frames later groups can still need, per scale `(G, tD, ...)` or None).
    """
    frames = new if history is None else torch.cat([history.detach(), new], dim=1)
    groups: list[torch.Tensor | None] = [None] * t_scales
    length = frames.shape[1]
    for s in range(t_scales):
        stride = tD ** s
        span = stride * (tD - 1)
        n_groups = min(length - span, new.shape[1])
        picked = []
        for t in range(0, max(n_groups, 0), tD):
            end = length - t  # exclusive end of the group ending t frames before the newest
            picked.append(frames[:, end - span - 1 : end : stride])
        if picked:
            groups[s] = torch.cat(picked, dim=0)
    keep = tD ** (t_scales - 1) * (tD - 1)
    return frames[:, -keep:] if length > keep else frames, groups


def sparse_groups(histories: list[torch.Tensor | None], new: torch.Tensor, t_scales: int, tD: int,
                  chunk_start: int, is_flow: bool = False) -> tuple[list[torch.Tensor | None], list]:
    """--sparse_D: scale s keeps only frames whose index in the video is a multiple of tD**s.

    histories: per scale `(B, n, ...)` or None; new: `(B, L, ...)`, frames chunk_start .. chunk_start+L-1.
    Each scale emits its last tD-aligned groups once it holds >= tD frames; flows keep the last tD-1
    of each group (with is_flow).
    """
    batch, n_new = new.shape[:2]
    histories = list(histories)
    groups: list[torch.Tensor | None] = [None] * t_scales
    for s in range(t_scales):
        hist = histories[s]
        if hist is not None and hist.shape[1] > 0 and hist.shape[1] % tD == 0:
            hist = hist[:, -(tD - 1):]  # the frames of a completed group that the next group shares
        stride = tD ** s
        first = (-chunk_start) % stride  # first new frame whose video index is a multiple of stride
        if first < n_new:
            picked = new[:, first::stride]
            hist = picked if hist is None else torch.cat([hist.detach(), picked], dim=1)
        if hist is not None and hist.shape[1] >= tD:
            hist = hist[:, hist.shape[1] % tD:]
            group = hist.reshape(-1, tD, *hist.shape[2:])
            groups[s] = group[:, 1:] if is_flow else group
        histories[s] = hist
    return histories, groups
