"""PatchGAN discriminators of pix2pixHD/vid2vid: `NLayerDiscriminator` and `MultiscaleDiscriminator`.

The multiscale D registers its sub-discriminators' stages under the official names (`scale{i}_layer{j}` with
intermediate features, one flat `layer{i}` without), so its state_dict matches `latest_net_D*.pth`.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from models.networks.blocks import NormLayer

KERNEL = 4
PADDING = math.ceil((KERNEL - 1) / 2)  # 2: each conv grows the map by one pixel, as in pix2pixHD
MAX_WIDTH = 512
# the widest sub-discriminator of a multiscale D
MAX_SUB_D_WIDTH = 64


def _stages(input_nc: int, ndf: int, n_layers: int, norm_layer: NormLayer) -> list[list[nn.Module]]:
    """The n_layers + 2 stages of a PatchGAN: stride-2 convs, one stride-1 conv, then a 1-channel conv."""
    stages: list[list[nn.Module]] = [
        [nn.Conv2d(input_nc, ndf, KERNEL, stride=2, padding=PADDING), nn.LeakyReLU(0.2, True)]
    ]
    width = ndf
    for n in range(1, n_layers + 1):
        stride = 2 if n < n_layers else 1
        prev, width = width, min(2 * width, MAX_WIDTH)
        conv = nn.Conv2d(prev, width, KERNEL, stride=stride, padding=PADDING)
        stages.append([conv, norm_layer(width), nn.LeakyReLU(0.2, True)])
    # no sigmoid: the GAN loss is least squares
    stages.append([nn.Conv2d(width, 1, KERNEL, stride=1, padding=PADDING)])
    return stages


def _run(stages: list[nn.Module], x: torch.Tensor, get_interm_feat: bool) -> list[torch.Tensor]:
    """Runs `stages` in order; returns every stage's output, or just [final] without intermediate features."""
    outputs = []
    for stage in stages:
        x = stage(x)
        outputs.append(x)
    return outputs if get_interm_feat else outputs[-1:]


class NLayerDiscriminator(nn.Module):
    """PatchGAN with kernel 4 and padding 2: `n_layers` stride-2 convs (widths doubling from `ndf`, capped at
    512), a stride-1 conv and a 1-channel output conv; LeakyReLU(0.2) after every conv but the last.

    Stages are `model0` ... `model{n_layers+1}` with `get_interm_feat`, else one flat Sequential `model`
    (pix2pixHD's names). `forward((N, input_nc, H, W))` returns the list of every stage's output
    (`get_interm_feat`) or `[final]`. Each stride-2 conv maps a side S to S // 2 + 1 and each stride-1 conv to
    S + 1, so the final map is `(N, 1, H', W')`, e.g. 11 x 11 for a 64 x 64 input and n_layers 3.
    """

    def __init__(self, input_nc: int, ndf: int, n_layers: int, norm_layer: NormLayer, get_interm_feat: bool):
        super().__init__()
        self.get_interm_feat = get_interm_feat
        stages = _stages(input_nc, ndf, n_layers, norm_layer)
        if get_interm_feat:
            for j, stage in enumerate(stages):
                setattr(self, f"model{j}", nn.Sequential(*stage))
        else:
            self.model = nn.Sequential(*[layer for stage in stages for layer in stage])

    def stages(self) -> list[nn.Module]:
        """The stage modules in order: `[model0, model1, ...]`, or `[model]` without intermediate features."""
        return list(self.children())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return _run(self.stages(), x, self.get_interm_feat)


class MultiscaleDiscriminator(nn.Module):
    """`num_D` PatchGANs on an average-pooled input pyramid.

    Sub-D i has width `min(64, ndf * 2**(num_D - 1 - i))`. The full-resolution input goes to sub-D num_D-1,
    and each coarser level (AvgPool 3, stride 2, pad 1, count_include_pad=False) to the next lower index, so
    sub-D 0 sees the coarsest input.

    forward((N, input_nc, H, W)) returns a list over scales, finest first, of lists of tensors: every stage's
    output with `get_interm_feat` (n_layers + 2 of them), else `[final (N, 1, H', W')]`.
    """

    def __init__(
        self,
        input_nc: int,
        ndf: int,
        n_layers: int,
        norm_layer: NormLayer,
        num_D: int,
        get_interm_feat: bool,
    ):
        super().__init__()
        self.num_D = num_D
        self.n_layers = n_layers
        self.get_interm_feat = get_interm_feat
        for i in range(num_D):
            width = min(MAX_SUB_D_WIDTH, ndf * 2 ** (num_D - 1 - i))
            sub_d = NLayerDiscriminator(input_nc, width, n_layers, norm_layer, get_interm_feat)
            if get_interm_feat:
                for j, stage in enumerate(sub_d.stages()):
                    setattr(self, f"scale{i}_layer{j}", stage)
            else:
                setattr(self, f"layer{i}", sub_d.model)
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def _sub_d_stages(self, i: int) -> list[nn.Module]:
        if self.get_interm_feat:
            return [getattr(self, f"scale{i}_layer{j}") for j in range(self.n_layers + 2)]
        return [getattr(self, f"layer{i}")]

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        results = []
        for k in range(self.num_D):
            if k > 0:
                x = self.downsample(x)
            results.append(_run(self._sub_d_stages(self.num_D - 1 - k), x, self.get_interm_feat))
        return results
