"""The I3D network (Carreira and Zisserman 2017, "Quo Vadis, Action Recognition?") for FVD's features.

Inception-v1 inflated to 3D, with TensorFlow's "SAME" padding, built so that its state_dict keys are those of
the common PyTorch port (pytorch-i3d's `InceptionI3d`: `Conv3d_1a_7x7.conv3d.weight`, `Mixed_3b.b1b.bn.*`,
`logits.conv3d.bias`, ...), whose Kinetics-400 files (`rgb_imagenet.pt`) then load strictly. It is written to
be TorchScript-compatible. Input: `(B, 3, T, H, W)` in [-1, 1]; output: the 400 logits before the softmax,
averaged over the remaining time and space, `(B, 400)`.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

# (name, input channels, [branch 0, branch 1 reduce, branch 1, branch 2 reduce, branch 2, branch 3 pool proj])
_INCEPTION_BLOCKS = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


def same_padding(size: list[int], kernel: list[int], stride: list[int]) -> list[int]:
    """F.pad amounts (W, H, T order, each before then after) of TensorFlow's 'SAME' padding of `(T, H, W)`.

    TensorFlow pads k - s (or k - n % s when s does not divide n) in all, the odd one after.
    """
    pads: list[int] = []
    for dim in (2, 1, 0):
        n, k, s = size[dim], kernel[dim], stride[dim]
        total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
        pads += [total // 2, total - total // 2]
    return pads


class Unit3D(nn.Module):
    """Conv3d with 'SAME' padding, then BatchNorm (eps 1e-3, as TensorFlow's) and ReLU unless turned off."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int, int] = (1, 1, 1),
                 stride: tuple[int, int, int] = (1, 1, 1), batch_norm: bool = True, relu: bool = True) -> None:
        super().__init__()
        self.kernel, self.stride, self.relu = list(kernel), list(stride), relu
        # without batch norm (the logits) the convolution has its own bias
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel, stride, padding=0, bias=not batch_norm)
        self.bn = nn.BatchNorm3d(out_channels, eps=0.001, momentum=0.01) if batch_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv3d(F.pad(x, same_padding(list(x.shape[2:]), self.kernel, self.stride))))
        return F.relu(x) if self.relu else x


class MaxPool3dSame(nn.Module):
    """3D max pooling with 'SAME' padding. It always follows a ReLU, so padding with zeros equals TensorFlow's
    padding that never wins the max."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = list(kernel), list(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, same_padding(list(x.shape[2:]), self.kernel, self.stride))
        return F.max_pool3d(x, self.kernel, self.stride)


class InceptionModule(nn.Module):
    """Four branches concatenated: 1x1x1; 1x1x1 then 3x3x3; 1x1x1 then 3x3x3; 3x3x3 max pool then 1x1x1."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        self.b0 = Unit3D(in_channels, widths[0])
        self.b1a = Unit3D(in_channels, widths[1])
        self.b1b = Unit3D(widths[1], widths[2], (3, 3, 3))
        self.b2a = Unit3D(in_channels, widths[3])
        self.b2b = Unit3D(widths[3], widths[4], (3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, widths[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


def _layers(num_classes: int) -> OrderedDict[str, nn.Module]:
    """The end points in order, named as the TensorFlow graph and the PyTorch port name them."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    layers["Conv3d_1a_7x7"] = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
    layers["MaxPool3d_2a_3x3"] = MaxPool3dSame((1, 3, 3), (1, 2, 2))
    layers["Conv3d_2b_1x1"] = Unit3D(64, 64)
    layers["Conv3d_2c_3x3"] = Unit3D(64, 192, (3, 3, 3))
    layers["MaxPool3d_3a_3x3"] = MaxPool3dSame((1, 3, 3), (1, 2, 2))
    for name, (in_channels, widths) in _INCEPTION_BLOCKS.items():
        if name == "Mixed_4b":
            layers["MaxPool3d_4a_3x3"] = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        elif name == "Mixed_5b":
            layers["MaxPool3d_5a_2x2"] = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        layers[name] = InceptionModule(in_channels, widths)
    # a 224x224, 16-frame clip is 7x7 and 2 frames here, pooled to one position (stride 1, no padding)
    layers["avg_pool"] = nn.AvgPool3d((2, 7, 7), (1, 1, 1))
    layers["dropout"] = nn.Dropout(0.5)
    layers["logits"] = Unit3D(1024, num_classes, batch_norm=False, relu=False)
    return layers


class InceptionI3d(nn.Sequential):
    """I3D: `(B, 3, T, H, W)` in [-1, 1] (T >= 9 and H, W >= 193, e.g. 16x224x224) -> logits `(B, classes)`."""

    def __init__(self, num_classes: int = 400) -> None:
        super().__init__(_layers(num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x)
        return x.mean(dim=(2, 3, 4))
