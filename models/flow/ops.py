"""FlowNet2's three custom CUDA ops (Correlation, Resample2d, ChannelNorm) rewritten in plain PyTorch.

They run on any device, support autograd, and give the same numbers as the CUDA kernels of the official
flownet2-pytorch package (reference §8.4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.networks.warp import warp

# output columns per matrix product of `correlation`: wider tiles waste more products on shifts beyond
# the displacement range, narrower ones cost more calls (16-64 measured within 30 % of each other)
_CORRELATION_TILE = 32


def correlation(f1: torch.Tensor, f2: torch.Tensor, max_displacement: int = 20,
                stride: int = 2) -> torch.Tensor:
    """FlowNetC's cost volume: per-pixel dot products of `f1` with shifted copies of `f2`.

    The official op with kernel_size 1, stride1 1 and pad_size = max_displacement (FlowNetC uses 20, 20, 2):
    `out[n, k, y, x] = sum_c f1[n, c, y, x] * f2[n, c, y + stride*dj, x + stride*di] / C`, where `f2` reads 0
    outside the image, `dj, di` run over `[-R, R]` with `R = max_displacement // stride`, and the channel
    index is `k = (dj + R) * (2R + 1) + (di + R)` (vertical displacement major).

    For each vertical shift and each tile of 32 output columns, one batched matrix product gives the dot
    products of every pixel of a row with every column of the shifted row within reach, and the wanted
    shifts are a strided diagonal band of it: the channel sums run in the BLAS (faster than a product
    and sum per shift, whose 441 passes over the features are memory-bound: 2x faster for 256x128 frames, 4x
    for 1024x512, 12x for 2048x1024; it rounds differently, within 2e-7 of a float64 result). The extra
    memory is the features in channels-last order, one product per call (`N*H x 32 x 32+2*max_displacement`)
    and the output, never a `(2R+1)^2 x C` unfold. The sums run in float32 (float64 for double inputs) even
    under autocast, as the official fp16 model wraps the op in fp32 casts; the result comes back in the
    dtype of `f1`.

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
    shifts = 2 * radius + 1
    reach = 2 * radius * stride  # the columns between the leftmost and the rightmost shift of a pixel
    pad = max_displacement
    n, channels, height, width = f1.shape
    dtype = torch.promote_types(f1.dtype, torch.float32)  # float32, or float64 for double inputs
    with torch.autocast(device_type=f1.device.type, enabled=False):
        # rows first, then samples: a band of rows of all samples is one batch of the matrix products
        first = f1.to(dtype).permute(2, 0, 3, 1).contiguous()  # (H, N, W, C)
        second = F.pad(f2.to(dtype), (pad,) * 4).permute(2, 0, 3, 1).contiguous()  # (H + 2p, N, W + 2p, C)
        out = first.new_empty(shifts, shifts, height, n, width)
        for left in range(0, width, _CORRELATION_TILE):
            cols = min(_CORRELATION_TILE, width - left)
            rows1 = first[:, :, left:left + cols].reshape(height * n, cols, channels)
            column = pad - radius * stride + left  # the padded column of the leftmost shift of pixel `left`
            for j in range(shifts):
                top = pad + (j - radius) * stride
                rows2 = second[top:top + height, :, column:column + cols + reach]
                products = torch.bmm(rows1, rows2.reshape(height * n, cols + reach, channels).transpose(1, 2))
                # pixel x's shift i is column x + i * stride of its row of products
                band = products.as_strided((height * n, cols, shifts),
                                           (products.stride(0), products.stride(1) + 1, stride),
                                           products.storage_offset())
                out[j, :, :, :, left:left + cols] = band.view(height, n, cols, shifts).permute(3, 0, 1, 2)
        out = out.permute(3, 0, 1, 2, 4).reshape(n, shifts * shifts, height, width).div_(channels)
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
        `(N, 1, H, W)`, `sqrt(sum_c x^2)`, the squares added channel by channel as the official kernel does
        (`torch.linalg.vector_norm` over dim 1 gives the same to an ulp but took 75x longer on the CPU).
    """
    total = x[:, :1].square()
    for channel in range(1, x.shape[1]):
        total = total + x[:, channel:channel + 1].square()
    return total.sqrt()
