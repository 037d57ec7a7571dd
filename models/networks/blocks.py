"""Blocks shared by the vid2vid and pix2pixHD networks: normalisation, ResnetBlock, conv stacks, init.

The layer order inside every helper is the official one, so that `nn.Sequential` indices (and therefore
checkpoint keys) match the official state_dicts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch.nn as nn

NormLayer = Callable[[int], nn.Module]


def get_norm_layer(norm_type: str) -> NormLayer:
    """Returns a constructor `norm_layer(num_channels) -> nn.Module` for `--norm`.

    'batch' is an affine BatchNorm2d; 'instance' is InstanceNorm2d without affine parameters but with
    running statistics (its state_dict holds running_mean, running_var and num_batches_tracked, as the
    official one).
    """
    if norm_type == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True)
    if norm_type == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=True)
    raise ValueError(f"--norm {norm_type!r}: expected 'batch' or 'instance'")


class ResnetBlock(nn.Module):
    """x + [ReflPad1, Conv3x3, Norm, ReLU, ReflPad1, Conv3x3, Norm](x), with no activation after the sum.

    Maps `(N, dim, H, W)` to `(N, dim, H, W)`.
    """

    def __init__(self, dim: int, norm_layer: NormLayer):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3),
            norm_layer(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3),
            norm_layer(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


def stem_layers(in_nc: int, out_nc: int, norm_layer: NormLayer) -> list[nn.Module]:
    """[ReflPad3, Conv7x7, Norm, ReLU] at full resolution: `(N, in_nc, H, W) -> (N, out_nc, H, W)`."""
    return [nn.ReflectionPad2d(3), nn.Conv2d(in_nc, out_nc, kernel_size=7), norm_layer(out_nc), nn.ReLU(True)]


def down_layers(in_nc: int, out_nc: int, norm_layer: NormLayer) -> list[nn.Module]:
    """[Conv3x3 stride 2 pad 1, Norm, ReLU]: `(N, in_nc, H, W) -> (N, out_nc, ceil(H/2), ceil(W/2))`."""
    return [nn.Conv2d(in_nc, out_nc, kernel_size=3, stride=2, padding=1), norm_layer(out_nc), nn.ReLU(True)]


def up_layers(in_nc: int, out_nc: int, norm_layer: NormLayer) -> list[nn.Module]:
    """[ConvT3x3 stride 2 pad 1 output_pad 1, Norm, ReLU]: `(N, in_nc, H, W) -> (N, out_nc, 2H, 2W)`."""
    return [
        nn.ConvTranspose2d(in_nc, out_nc, kernel_size=3, stride=2, padding=1, output_padding=1),
        norm_layer(out_nc),
        nn.ReLU(True),
    ]


def head_layers(in_nc: int, out_nc: int, activation: nn.Module | None) -> list[nn.Module]:
    """[ReflPad3, Conv7x7(in_nc -> out_nc)] plus `activation` if given: every generator's output layers."""
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_nc, out_nc, kernel_size=7)]
    if activation is not None:
        layers.append(activation)
    return layers


def encoder_layers(in_nc: int, ngf: int, n_downsampling: int, norm_layer: NormLayer) -> list[nn.Module]:
    """Stem to width `ngf`, then `n_downsampling` stride-2 stages doubling the width each time (no cap).

    `(N, in_nc, H, W) -> (N, ngf * 2**n_downsampling, H / 2**n, W / 2**n)`.
    """
    layers = stem_layers(in_nc, ngf, norm_layer)
    for i in range(n_downsampling):
        layers += down_layers(ngf * 2**i, ngf * 2 ** (i + 1), norm_layer)
    return layers


def decoder_layers(ngf: int, n_upsampling: int, norm_layer: NormLayer) -> list[nn.Module]:
    """`n_upsampling` transposed-conv stages halving the width, from `ngf * 2**n_upsampling` down to `ngf`."""
    layers: list[nn.Module] = []
    for i in range(n_upsampling):
        width = ngf * 2 ** (n_upsampling - i)
        layers += up_layers(width, width // 2, norm_layer)
    return layers


def resnet_blocks(dim: int, n_blocks: int, norm_layer: NormLayer) -> list[nn.Module]:
    """`n_blocks` ResnetBlocks of width `dim`."""
    return [ResnetBlock(dim, norm_layer) for _ in range(n_blocks)]


def init_weights(module: nn.Module) -> None:
    """The official init, for use with `net.apply(init_weights)`.

    Conv and ConvTranspose weights ~ N(0, 0.02) with the PyTorch default bias; BatchNorm2d weight ~ N(1, 0.02)
    and bias 0. Other modules keep their defaults. Works on the 'meta' device (the calls are then no-ops).
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
