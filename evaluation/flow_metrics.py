"""Temporal metrics from optical flow: the flow-warping error with its ground-truth floor, and tOF.

Flow-warping error (Lai et al. 2018, "Learning Blind Video Temporal Consistency"): for each pair of
consecutive frames, the mean of |out_t - W(out_{t-1})| over the non-occluded pixels, where W warps frame
t-1 onto frame t with the optical flow of the *ground truth*, and the occlusion mask comes from the forward-
backward consistency check of Ruder et al. 2016 ("Artistic style transfer for videos"). Values are in [0, 1]
intensity units, averaged over the RGB channels (Lai et al. sum squared differences instead; the issue that
asked for this metric defines it with the absolute difference). A pixel whose flow leaves the frame is
masked out too, as its warped value would only repeat the border. Real videos are not perfectly consistent
under an estimated flow (lighting, flow errors), so the same number on the ground truth itself is the floor a
perfect model would reach; a model can go below it only by being blurrier or more static than the truth.

tOF (Chu et al. 2020, TecoGAN): for each pair, the mean over pixels of the length of the difference between
the Farneback flow of the output pair and that of the ground-truth pair, with TecoGAN's parameters. It is 0
when the output moves as the truth does, whatever it looks like. TecoGAN also crops a border of at least 8
pixels first (its frames are super-resolved); we keep the whole frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn as nn

from models.networks.warp import warp

# Ruder et al.: a pixel is consistent when |w + w^|^2 <= 0.01 (|w|^2 + |w^|^2) + 0.5
CONSISTENCY_RELATIVE, CONSISTENCY_ABSOLUTE = 0.01, 0.5
# cv2.calcOpticalFlowFarneback(prev, next, None, 0.5, 3, 15, 3, 5, 1.2, 0), as in TecoGAN's metrics.py
FARNEBACK_PARAMS = (0.5, 3, 15, 3, 5, 1.2, 0)
# pairs of frames given to the flow estimator at once (FlowNet2 on large frames needs memory per pair)
FLOW_BATCH = 8


def to_unit_tensor(frames: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 `(T, H, W, 3)` -> float32 `(T, 3, H, W)` in [0, 1] on `device`."""
    return torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(0, 3, 1, 2).float() / 255.0


def occlusion_mask(backward: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
    """The pixels of frame t that frame t-1 explains (1) or not (0).

    Args:
        backward: `(N, 2, H, W)` flow of frame t to frame t-1 in pixels (`warp(frame_{t-1}, backward)` is
            frame t).
        forward: `(N, 2, H, W)` flow of frame t-1 to frame t (`warp(frame_t, forward)` is frame t-1).
    Returns:
        `(N, 1, H, W)` float 0/1: 1 where following `backward` and then `forward` comes back to the start
        (Ruder et al.'s forward-backward check) and `backward` stays inside the frame.
    """
    forward_there = warp(forward, backward)  # the forward flow at the point each pixel comes from
    round_trip = ((backward + forward_there) ** 2).sum(dim=1, keepdim=True)
    lengths = (backward**2).sum(dim=1, keepdim=True) + (forward_there**2).sum(dim=1, keepdim=True)
    consistent = round_trip <= CONSISTENCY_RELATIVE * lengths + CONSISTENCY_ABSOLUTE
    height, width = backward.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(height, device=backward.device, dtype=backward.dtype),
                            torch.arange(width, device=backward.device, dtype=backward.dtype), indexing="ij")
    x_from, y_from = xs + backward[:, 0:1], ys + backward[:, 1:2]
    inside = (x_from >= 0) & (x_from <= width - 1) & (y_from >= 0) & (y_from <= height - 1)
    return (consistent & inside).float()


@dataclass
class TruthFlow:
    """The ground truth's flow between consecutive frames, for the warping error of any video of its frames.

    backward: `(T-1, 2, H, W)`, flow of frame t to frame t-1 for t = 1..T-1; mask: `(T-1, 1, H, W)` 0/1.
    """

    backward: torch.Tensor
    mask: torch.Tensor


@torch.no_grad()
def truth_flow(truth: np.ndarray, estimator: nn.Module, device: torch.device | str = "cpu") -> TruthFlow:
    """Flow and occlusion mask of consecutive ground-truth frames, uint8 `(T, H, W, 3)`, T >= 2.

    `estimator(im1, im2)` follows models/flow/estimator.py: frames in [-1, 1], flow with warp(im2, flow) = im1.
    """
    frames = to_unit_tensor(truth, device) * 2 - 1
    backward, mask = [], []
    for start in range(0, len(frames) - 1, FLOW_BATCH):
        prev, cur = frames[start:start + FLOW_BATCH], frames[start + 1:start + 1 + FLOW_BATCH]
        prev = prev[:len(cur)]
        back, _ = estimator(cur, prev)
        forth, _ = estimator(prev, cur)
        backward.append(back.to(device))
        mask.append(occlusion_mask(back.to(device), forth.to(device)))
    return TruthFlow(torch.cat(backward), torch.cat(mask))


@torch.no_grad()
def warping_errors(frames: np.ndarray, flow: TruthFlow) -> list[float]:
    """Per pair (t-1, t), the mean |frame_t - W(frame_{t-1})| over the masked pixels and the 3 channels.

    Args:
        frames: uint8 `(T, H, W, 3)`, the video to score (a result, or the ground truth for the floor).
        flow: `truth_flow` of the ground truth of the same frames.
    Returns:
        T-1 values in [0, 1]; NaN for a pair whose mask is empty (then left out of means).
    """
    video = to_unit_tensor(frames, flow.backward.device)
    if video.shape[0] - 1 != flow.backward.shape[0] or video.shape[-2:] != flow.backward.shape[-2:]:
        raise ValueError(f"warping error: {tuple(video.shape)} frames do not fit the ground-truth flow "
                         f"{tuple(flow.backward.shape)}")
    errors = (video[1:] - warp(video[:-1], flow.backward)).abs().mean(dim=1, keepdim=True)
    masked = (errors * flow.mask).sum(dim=(1, 2, 3))
    counts = flow.mask.sum(dim=(1, 2, 3))
    return [float(s / c) if c > 0 else float("nan") for s, c in zip(masked, counts)]


def farneback_flows(frames: np.ndarray) -> np.ndarray:
    """TecoGAN's flow of each consecutive pair of uint8 `(T, H, W, 3)` frames: float32 `(T-1, H, W, 2)`."""
    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    return np.stack([cv2.calcOpticalFlowFarneback(a, b, None, *FARNEBACK_PARAMS) for a, b in zip(grey, grey[1:])])


def tof(fake_flows: np.ndarray, real_flows: np.ndarray) -> list[float]:
    """Per pair, the mean over pixels of |flow_fake - flow_real| (Euclidean length), from `farneback_flows`."""
    return [float(v) for v in np.sqrt(((fake_flows - real_flows) ** 2).sum(axis=-1)).mean(axis=(1, 2))]
