"""The official training display images of a vid2vid chunk (batch 0, the chunk's last frame)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from util.image import input_picture, tensor2flow, tensor2im

if TYPE_CHECKING:  # model.py imports this module
    from models.vid2vid.model import Chunk


def training_visuals(chunk: Chunk, fake_first: torch.Tensor, label_nc: int, input_nc: int,
                     use_instance: bool, pose: bool = False) -> dict[str, np.ndarray]:
    """Label -> uint8 picture: input, output, the video's first output, raw output, real frame, reference
    flow and confidence, and (unless --no_flow) G's flow and blend weight. fake_first: `(3, H, W)`."""
    out, frames = chunk.generated, chunk.frames
    batch_0_last = out.fake_B.shape[1] - 1  # the flattened index of (batch 0, last frame)
    visuals = {
        "input_image": input_picture(out.real_A[0, -1], label_nc, input_nc, instance_edges=use_instance, pose=pose),
        "fake_image": tensor2im(out.fake_B),
        "fake_first_image": tensor2im(fake_first),
        "fake_raw_image": tensor2im(out.fake_B_raw),
        "real_image": tensor2im(frames.real_B[batch_0_last]),
        "flow_ref": tensor2flow(frames.flow_ref[batch_0_last]),
        "conf_ref": tensor2im(frames.conf_ref[batch_0_last], normalize=False),
    }
    if out.flow is not None:
        visuals["flow"] = tensor2flow(out.flow)
        visuals["weight"] = tensor2im(out.weight, normalize=False)
    return visuals
