"""The one warp (resample) function used by the generator, the losses and FlowNet2's Resample2d."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from util.precision import float32_island


def base_grid(height: int, width: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Returns the identity sampling grid `(1, H, W, 2)` in grid_sample's [-1, 1] coordinates (x, then y)."""
    ys = torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype)
    xs = torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((grid_x, grid_y), dim=-1).unsqueeze(0)


@float32_island
def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Samples `image` at each pixel displaced by `flow`: out(x, y) = image(x + fx, y + fy).

    Bilinear, clamped to the border, with align_corners=True: the PyTorch 0.4 semantics the official code
    relied on, which also equal FlowNet2's Resample2d op. It always samples in float32 (float64 for double
    images), with autocast off: the official fp16 path sampled in float32 too, but cast the result back to
    half; here it stays float32.

    Args:
        image: `(N, C, H, W)`.
        flow: `(N, 2, H, W)` in pixels; channel 0 is x (width), channel 1 is y (height).
    Returns:
        `(N, C, H, W)`, float32 for float16/bfloat16/float32 images, float64 for float64 ones.
    """
    if flow.shape[0] != image.shape[0] or flow.shape[-2:] != image.shape[-2:] or flow.shape[1] != 2:
        raise ValueError(f"warp: flow {tuple(flow.shape)} does not fit image {tuple(image.shape)}; "
                         "expected (N, 2, H, W) with the image's N, H and W")
    height, width = image.shape[-2:]
    dtype = torch.promote_types(image.dtype, torch.float32)
    # pixels -> normalised units; a side of length 1 cannot move (its normaliser would be 0)
    scale = torch.tensor([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)], device=flow.device, dtype=dtype)
    grid = base_grid(height, width, flow.device, dtype) + flow.to(dtype).permute(0, 2, 3, 1) * scale
    out = F.grid_sample(image.to(dtype), grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out
