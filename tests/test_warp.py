"""The warp: integer shifts move the image exactly, borders clamp, and it matches a naive bilinear loop."""

import torch

from models.networks.warp import warp


def test_integer_shift_equals_shifted_image():
    image = torch.rand(2, 3, 16, 24)
    flow = torch.zeros(2, 2, 16, 24)
    flow[:, 0] = 3  # sample 3 pixels to the right
    flow[:, 1] = -2  # and 2 pixels up
    out = warp(image, flow)
    # out(x, y) = image(x + 3, y - 2) wherever that is inside the image
    torch.testing.assert_close(out[:, :, 2:, :-3], image[:, :, :-2, 3:], atol=1e-5, rtol=0)
    # outside, the border is repeated
    torch.testing.assert_close(out[:, :, 5, -3:], image[:, :, 3, -1:].expand(-1, -1, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(out[:, :, 0, :-3], image[:, :, 0, 3:], atol=1e-5, rtol=0)


def naive_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    n, c, h, w = image.shape
    out = torch.zeros_like(image)
    for b in range(n):
        for y in range(h):
            for x in range(w):
                xf = min(max(x + flow[b, 0, y, x].item(), 0), w - 1)
                yf = min(max(y + flow[b, 1, y, x].item(), 0), h - 1)
                x0, y0 = int(xf), int(yf)
                x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
                ax, ay = xf - x0, yf - y0
                out[b, :, y, x] = ((1 - ax) * (1 - ay) * image[b, :, y0, x0] + ax * (1 - ay) * image[b, :, y0, x1]
                                   + (1 - ax) * ay * image[b, :, y1, x0] + ax * ay * image[b, :, y1, x1])
    return out


def test_fractional_flow_matches_naive_bilinear_with_clamping():
    torch.manual_seed(0)
    image = torch.rand(1, 2, 7, 9)
    flow = torch.randn(1, 2, 7, 9) * 3
    torch.testing.assert_close(warp(image, flow), naive_warp(image, flow), atol=1e-5, rtol=0)


def test_zero_flow_is_identity_and_dtype_is_kept():
    image = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    out = warp(image, torch.zeros(1, 2, 8, 8))
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, image)
