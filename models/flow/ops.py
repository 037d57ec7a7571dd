"""FlowNet2's three custom CUDA ops (Correlation, Resample2d, ChannelNorm) rewritten in plain PyTorch.

They run on any device, support autograd, and give the same numbers as the CUDA kernels of the official
flownet2-pytorch package (reference §8.4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.networks.warp import warp


def correlation(f1: torch.Tensor, f2: torch.Tensor, max_displacement: int = 20,
                stride: int = 2) -> torch.Tensor:
    """FlowNetC's cost volume: per-pixel dot products of `f1` with shifted copies of `f2`.

    The official op with kernel_size 1, stride1 1 and pad_size = max_displacement (FlowNetC uses 20, 20, 2):
    `out[n, k, y, x] = sum_c f1[n, c, y, x] * f2[n, c, y + stride*dj, x + stride*di] / C`, where `f2` reads 0
    outside the image, `dj, di` run over `[-R, R]` with `R = max_displacement // stride`, and the channel
    index is `k = (dj + R) * (2R + 1) + (di + R)` (vertical displacement major).

    Each displacement is one product and a channel sum, so the extra memory is a few feature maps plus the
    output (57 MB measured for the 256 x 64 x 128 features of 1024x512 frames), never a `(2R+1)^2 x C`
    unfold (3.7 GB there). The sums run in float32 (float64 for double inputs) even under autocast, as the
    official fp16 model wraps the op in fp32 casts; the result comes back in the dtype of `f1`.

    Args:
        f1, f2: `(N, C, H, W)` features of the first and second image.
        max_displacement: the largest shift in pixels (also the zero padding).
        stride: the step between tested shifts.
    Returns:
        `(N, (2R+1)^2, H, W)`.
    """
    if f1.dim() != 4 or f1.shape != f2.shape:
        raise ValueError(f"correlation expects two (N, C, H, W) tensors of the same shape, "
                         f"got {tuple(f1.shape)} and {tuple(f2.shape)}")
    radius = max_displacement // stride
    pad = max_displacement
    height, width = f1.shape[-2:]
    dtype = torch.promote_types(f1.dtype, torch.float32)  # float32, or float64 for double inputs
    with torch.autocast(device_type=f1.device.type, enabled=False):
        # channels last, so that each channel sum reads contiguous memory
        first = f1.to(dtype).permute(0, 2, 3, 1).contiguous()
        second = F.pad(f2.to(dtype), (pad, pad, pad, pad)).permute(0, 2, 3, 1).contiguous()
        maps = []
        for dj in range(-radius, radius + 1):
            top = pad + dj * stride
            rows = second[:, top:top + height]
            for di in range(-radius, radius + 1):
                left = pad + di * stride
                maps.append((first * rows[:, :, left:left + width]).sum(-1))
        out = torch.stack(maps, dim=1).div_(f1.shape[1])
    return out.to(f1.dtype)


def resample2d(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """FlowNet2's Resample2d: bilinear sampling of `image` at `pixel + flow`, clamped to the border.

    This is the project's single warp function (models.networks.warp.warp); the official kernel computes
    the same thing (reference §3.6, §8.4).

    Args:
        image: `(N, C, H, W)`.
        flow: `(N, 2, H, W)` in pixels, x then y.
    Returns:
        `(N, C, H, W)`.
    """
    return warp(image, flow)


def channel_norm(x: torch.Tensor) -> torch.Tensor:
    """FlowNet2's ChannelNorm: the L2 norm over channels.

    Args:
        x: `(N, C, H, W)`.
    Returns:
        `(N, 1, H, W)`, `sqrt(sum_c x^2)`.
    """
    return torch.linalg.vector_norm(x, dim=1, keepdim=True)
