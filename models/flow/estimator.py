"""Reference-flow estimators for training: `(flow, conf)` for pairs of frames, as vid2vid's FlowNet wrapper.

Contract shared by every estimator (reference §8.1):
- `forward(im1, im2)` takes `(N, 3, H, W)` or `(B, T, 3, H, W)` RGB frames in [-1, 1];
- it returns `flow` `(..., 2, H, W)` in pixels with `warp(im2, flow) ≈ im1`, and `conf` `(..., 1, H, W)` in
  [0, 1], where a pixel is trusted when `sum_c (im1 - warp(im2, flow))^2 < 0.02`;
- no gradients; float32 outputs on the inputs' device. The trainer calls `estimator(current, previous)`.

`--flownet flownet2` (the official choice) runs FlowNet2 with the official checkpoint; `--flownet dis` runs
OpenCV's DIS optical flow, which needs no weights and no network.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from models.constants import FLOWNET2_SIZE_MULTIPLE
from models.flow.flownet2 import FlowNet2
from models.flow.ops import resample2d
from util.state_dicts import CheckpointError, load_state_dict, read_checkpoint

CONFIDENCE_THRESHOLD = 0.02
CHECKPOINT_SOURCE = ("the official vid2vid script scripts/download_models_flownet2.py downloads it from "
                     "Google Drive (file id 1E8re-b6csNuo-abg1vJKCDjCzlIam50F) to "
                     "models/flownet2_pytorch/FlowNet2_checkpoint.pth.tar")


def brightness_confidence(im1: torch.Tensor, warped_im2: torch.Tensor) -> torch.Tensor:
    """`(N, 3, H, W)` x2 -> `(N, 1, H, W)` float 0/1: the squared colour error (no sqrt) is below 0.02."""
    error = ((im1 - warped_im2) ** 2).sum(dim=1, keepdim=True)
    return (error < CONFIDENCE_THRESHOLD).float()


class FlowEstimator(nn.Module):
    """Base class: checks and flattens the inputs; subclasses implement `estimate` on `(N, 3, H, W)`."""

    def __init__(self) -> None:
        super().__init__()
        self.training = False

    def estimate(self, im1: torch.Tensor, im2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(N, 3, H, W)` float32 frames -> flow `(N, 2, H, W)`, conf `(N, 1, H, W)`."""
        raise NotImplementedError

    @torch.no_grad()
    def forward(self, im1: torch.Tensor, im2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flow and confidence of `im1` with respect to `im2` (see the module docstring).

        Args:
            im1, im2: `(N, 3, H, W)` or `(B, T, 3, H, W)` RGB in [-1, 1], the same shape.
        Returns:
            flow `(..., 2, H, W)` and conf `(..., 1, H, W)`, float32.
        """
        if im1.shape != im2.shape:
            raise ValueError(f"flow estimator: the two frames differ in shape, {tuple(im1.shape)} vs "
                             f"{tuple(im2.shape)}; expected frames of the same size")
        if im1.dim() not in (4, 5) or im1.shape[-3] != 3:
            raise ValueError(f"flow estimator: expected (N, 3, H, W) or (B, T, 3, H, W) RGB frames, "
                             f"got {tuple(im1.shape)}")
        lead, (height, width) = im1.shape[:-3], im1.shape[-2:]
        flow, conf = self.estimate(im1.reshape(-1, 3, height, width).float(),
                                   im2.reshape(-1, 3, height, width).float())
        return flow.float().reshape(*lead, 2, height, width), conf.float().reshape(*lead, 1, height, width)

    def train(self, mode: bool = True) -> FlowEstimator:
        # frozen: stays in eval mode even when the model that owns it is switched to training
        return super().train(False)


def load_flownet2(checkpoint_path: str) -> FlowNet2:
    """Builds FlowNet2 from the official `FlowNet2_checkpoint.pth.tar` (`{'state_dict': ...}`), strictly.

    The network is built on the meta device and the checkpoint's tensors are assigned to it, so the
    162M parameters are allocated once and never randomly initialised.

    Raises:
        FileNotFoundError: no file at `checkpoint_path` (the message says where the official scripts get it).
        CheckpointError (a ValueError): the file is not a `{'state_dict': ...}` checkpoint, or its keys or
            shapes differ from FlowNet2's (the message names them).
    """
    where = f"--flownet_checkpoint {checkpoint_path}"
    if not os.path.isfile(checkpoint_path):
        raise FileNotFoundError(f"FlowNet2 checkpoint not found ({where}); {CHECKPOINT_SOURCE}; "
                                "or train with --flownet dis, which needs no weights")
    checkpoint = read_checkpoint(checkpoint_path, where)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise CheckpointError(f"{where}: expected a dict with a 'state_dict' entry, as the official "
                              "FlowNet2_checkpoint.pth.tar")
    with torch.device("meta"):
        net = FlowNet2()
    load_state_dict(net, checkpoint["state_dict"], where, optional=(), assign=True)
    return net.float().eval().requires_grad_(False)


class FlowNet2Estimator(FlowEstimator):
    """vid2vid's FlowNet wrapper around FlowNet2 (reference §8.1).

    Frames whose height or width is not a multiple of 64 are resized down to the nearest multiples
    (bilinear, align_corners=False), and the flow and confidence are resized back; the flow's x is then
    scaled by `W / new_w` and its y by `H / new_h`. Deliberate difference: the official wrapper resizes only
    when the height is off (an off width makes FlowNet2 crash there) and scales both components by
    `H / new_h`, so whenever the height is off its x component is `(H / new_h) / (W / new_w)` times ours
    (e.g. 1.125 for 512x288 frames). The confidence is computed at the network's size, so after resizing it
    is fractional, as in the official code.
    """

    def __init__(self, checkpoint_path: str) -> None:
        super().__init__()
        self.flownet2 = load_flownet2(checkpoint_path)

    def estimate(self, im1: torch.Tensor, im2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = im1.shape[-2:]
        multiple = FLOWNET2_SIZE_MULTIPLE
        new_h, new_w = height // multiple * multiple, width // multiple * multiple
        if new_h == 0 or new_w == 0:
            raise ValueError(f"FlowNet2 needs frames of at least {multiple}x{multiple} pixels, got {width}x{height}")
        resized = (new_h, new_w) != (height, width)
        if resized:
            im1 = F.interpolate(im1, size=(new_h, new_w), mode="bilinear", align_corners=False)
            im2 = F.interpolate(im2, size=(new_h, new_w), mode="bilinear", align_corners=False)
        flow = self.flownet2(torch.stack((im1, im2), dim=2))
        conf = brightness_confidence(im1, resample2d(im2, flow))
        if resized:
            scale = torch.tensor([width / new_w, height / new_h], device=flow.device).view(1, 2, 1, 1)
            flow = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False) * scale
            conf = F.interpolate(conf, size=(height, width), mode="bilinear", align_corners=False)
        return flow, conf


class DISEstimator(FlowEstimator):
    """OpenCV's DIS optical flow on grey frames, with the same contract and confidence rule as FlowNet2.

    Runs on the CPU whatever the inputs' device; the outputs go back to that device.
    """

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        super().__init__()
        self.preset = preset

    @staticmethod
    def _to_grey(frame: torch.Tensor) -> np.ndarray:
        """`(3, H, W)` RGB in [-1, 1] -> `(H, W)` uint8 grey."""
        rgb = ((frame.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)

    def estimate(self, im1: torch.Tensor, im2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # created per call: cheap, and keeps the module picklable and copyable
        dis = cv2.DISOpticalFlow_create(self.preset)
        # DIS's flow maps the first frame's pixels into the second, the direction of warp(im2, flow) ≈ im1
        flows = [dis.calc(self._to_grey(a), self._to_grey(b), None) for a, b in zip(im1, im2)]
        flow = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).to(im1.device)
        return flow, brightness_confidence(im1, resample2d(im2, flow))


def create_flow_estimator(name: str, checkpoint_path: str) -> nn.Module:
    """The estimator for `--flownet` (`flownet2` or `dis`); `checkpoint_path` is `--flownet_checkpoint`."""
    if name == "flownet2":
        return FlowNet2Estimator(checkpoint_path)
    if name == "dis":
        return DISEstimator()
    raise ValueError(f"--flownet {name!r}: expected 'flownet2' or 'dis'")
