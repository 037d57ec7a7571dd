"""FlowNet2's ops (models/flow/ops.py) against naive loops written from the CUDA kernels' definitions."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from models.flow.ops import channel_norm, correlation, resample2d


def naive_correlation(f1, f2, pad, max_displacement, stride2):
    """The official kernel with kernel_size 1 and stride1 1, one output value at a time."""
    n, c, h, w = f1.shape
    p1, p2 = F.pad(f1, (pad,) * 4), F.pad(f2, (pad,) * 4)
    radius = max_displacement // stride2
    out_h, out_w = h + 2 * pad - 2 * max_displacement, w + 2 * pad - 2 * max_displacement
    values = []
    for b in range(n):
        for dj in range(-radius, radius + 1):
            for di in range(-radius, radius + 1):
                for y in range(out_h):
                    for x in range(out_w):
                        # output (y, x) is centred on the padded position (y + D, x + D)
                        y1, x1 = y + max_displacement, x + max_displacement
                        y2, x2 = y1 + stride2 * dj, x1 + stride2 * di
                        values.append((p1[b, :, y1, x1] * p2[b, :, y2, x2]).sum() / c)
    return torch.stack(values).view(n, (2 * radius + 1) ** 2, out_h, out_w)


def naive_resample(image, flow):
    """Resample2d's kernel: bilinear blend of the 4 corners, each corner index clamped to the image."""
    n, c, h, w = image.shape
    out = []
    for b in range(n):
        for y in range(h):
            for x in range(w):
                xf, yf = x + flow[b, 0, y, x], y + flow[b, 1, y, x]
                x0, y0 = math.floor(xf.item()), math.floor(yf.item())
                alpha, beta = xf - x0, yf - y0
                xs = [min(max(x0, 0), w - 1), min(max(x0 + 1, 0), w - 1)]
                ys = [min(max(y0, 0), h - 1), min(max(y0 + 1, 0), h - 1)]
                out.append((1 - alpha) * (1 - beta) * image[b, :, ys[0], xs[0]]
                           + alpha * (1 - beta) * image[b, :, ys[0], xs[1]]
                           + (1 - alpha) * beta * image[b, :, ys[1], xs[0]]
                           + alpha * beta * image[b, :, ys[1], xs[1]])
    return torch.stack(out).view(n, h, w, c).permute(0, 3, 1, 2)


def naive_channel_norm(x):
    n, c, h, w = x.shape
    out = torch.zeros(n, 1, h, w, dtype=x.dtype)
    for b in range(n):
        for y in range(h):
            for xx in range(w):
                out[b, 0, y, xx] = sum(x[b, k, y, xx] ** 2 for k in range(c)).sqrt()
    return out


def grads(fn, *inputs):
    """Values and input gradients of `sum(fn(*inputs) * weights)` for fixed random weights."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    (out * weights).sum().backward()
    return out.detach(), [t.grad for t in leaves]


@pytest.mark.parametrize("shape,max_disp,stride",
                         [((1, 3, 6, 7), 4, 2), ((2, 4, 5, 6), 2, 1), ((1, 3, 6, 7), 6, 3)])
def test_correlation_matches_loops_forward_and_gradient(shape, max_disp, stride):
    torch.manual_seed(0)
    f1, f2 = torch.randn(shape, dtype=torch.float64), torch.randn(shape, dtype=torch.float64)
    ours, ours_grads = grads(lambda a, b: correlation(a, b, max_disp, stride), f1, f2)
    ref, ref_grads = grads(lambda a, b: naive_correlation(a, b, max_disp, max_disp, stride), f1, f2)
    assert ours.shape == (shape[0], (2 * (max_disp // stride) + 1) ** 2, shape[2], shape[3])
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-6)
    for g, r in zip(ours_grads, ref_grads):
        torch.testing.assert_close(g, r, rtol=1e-6, atol=1e-6)


def test_correlation_flownetc_setting():
    """Pad 20, displacement 20, stride 2: 441 channels, vertical displacement major."""
    torch.manual_seed(0)
    f1 = torch.randn(1, 8, 24, 26)
    # f2 = f1 moved by (+4 rows, -6 columns): f1(y, x) = f2(y + 2*2, x + 2*(-3))
    f2 = torch.roll(f1, shifts=(4, -6), dims=(2, 3))
    out = correlation(f1, f2)
    assert out.shape == (1, 441, 24, 26)
    centre = out[0, :, 8:16, 8:16].mean((1, 2))
    assert centre.argmax().item() == (2 + 10) * 21 + (-3 + 10)
    small = torch.randn(1, 3, 6, 7, dtype=torch.float64), torch.randn(1, 3, 6, 7, dtype=torch.float64)
    torch.testing.assert_close(correlation(*small), naive_correlation(*small, 20, 20, 2))


def test_correlation_gradcheck():
    torch.manual_seed(0)
    f1 = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    f2 = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: correlation(a, b, 2, 1), (f1, f2))


def test_correlation_stays_float32_under_autocast():
    torch.manual_seed(0)
    f1, f2 = torch.randn(1, 16, 8, 8).bfloat16(), torch.randn(1, 16, 8, 8).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = correlation(f1, f2)
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, correlation(f1.float(), f2.float()).bfloat16())


class LargestTensor(TorchDispatchMode):
    """Records the largest tensor any op produces."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def test_correlation_never_builds_the_full_unfold():
    f1, f2 = torch.randn(1, 64, 16, 32), torch.randn(1, 64, 16, 32)
    with LargestTensor() as probe:
        out = correlation(f1, f2)
    padded = 64 * (16 + 40) * (32 + 40)
    assert probe.largest <= max(out.numel(), padded)
    assert probe.largest * 20 < 441 * f1.numel()  # a 441-channel unfold of the features


def test_correlation_rejects_mismatched_features():
    with pytest.raises(ValueError, match="same shape"):
        correlation(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 5))


def test_resample2d_matches_bilinear_loop_with_clamping():
    torch.manual_seed(0)
    image = torch.randn(2, 3, 5, 6)
    flow = torch.randn(2, 2, 5, 6) * 3  # many samples fall outside and get clamped
    ours, ours_grads = grads(resample2d, image, flow)
    ref, ref_grads = grads(naive_resample, image, flow)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)
    for g, r in zip(ours_grads, ref_grads):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-5)


def test_channel_norm_matches_loop():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3, 5, dtype=torch.float64)
    ours, ours_grads = grads(channel_norm, x)
    ref, ref_grads = grads(naive_channel_norm, x)
    assert ours.shape == (2, 1, 3, 5)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(ours_grads[0], ref_grads[0])
