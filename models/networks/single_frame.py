"""pix2pixHD single-image generators, used by `--use_single_G` at test time to synthesise the first frames.

`GlobalGenerator` and `LocalEnhancer` keep pix2pixHD's attribute names (`model`, `model{n}_1`, `model{n}_2`),
so the official `label2city_single/latest_net_G_<loadSize>.pth` files map onto them key for key; the face
models `GlobalWithZ` (official `Global_with_z`) and `FeatureEncoder` (official `Encoder`) keep theirs, for
`edge2face_single/latest_net_G.pth` and `latest_net_E.pth` (reference §3.8).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.networks.blocks import (
    NormLayer,
    decoder_layers,
    down_layers,
    encoder_layers,
    head_layers,
    resnet_blocks,
    stem_layers,
    up_layers,
)

# widest feature map of the global generator
MAX_GLOBAL_WIDTH = 1024


class GlobalGenerator(nn.Module):
    """pix2pixHD global generator: stem, `n_downsampling` stride-2 convs, `n_blocks` ResnetBlocks, as many
    transposed convs, then ReflPad3 + Conv7 + Tanh, all in the one Sequential `model`.

    Widths double per downsampling from `ngf`, capped at 1024. Maps `(N, input_nc, H, W)` to
    `(N, output_nc, H, W)` with H and W divisible by 2**n_downsampling.
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        ngf: int,
        n_downsampling: int,
        n_blocks: int,
        norm_layer: NormLayer,
    ):
        super().__init__()
        widths = [min(ngf * 2**i, MAX_GLOBAL_WIDTH) for i in range(n_downsampling + 1)]
        layers = stem_layers(input_nc, ngf, norm_layer)
        for i in range(n_downsampling):
            layers += down_layers(widths[i], widths[i + 1], norm_layer)
        layers += resnet_blocks(widths[-1], n_blocks, norm_layer)
        for i in range(n_downsampling, 0, -1):
            layers += up_layers(widths[i], widths[i - 1], norm_layer)
        layers += head_layers(ngf, output_nc, nn.Tanh())
        self.model = nn.Sequential(*layers)

    def forward(self, label: torch.Tensor) -> torch.Tensor:
        return self.model(label)


class LocalEnhancer(nn.Module):
    """pix2pixHD coarse-to-fine generator: a global generator of width `ngf * 2**n_local_enhancers` (without
    its output layers) on the input downsampled `n_local_enhancers` times, then one enhancer per doubling.

    Enhancer n (1 = coarsest) has width `ngf * 2**(n_local_enhancers - n)`: `model{n}_1` encodes its input
    level to half resolution, the coarser features are added, and `model{n}_2` (res blocks + transposed conv,
    plus the output layers for the last enhancer) decodes.
    Maps `(N, input_nc, H, W)` to `(N, output_nc, H, W)`, H and W divisible by
    2**(n_downsample_global + n_local_enhancers).
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        ngf: int,
        n_downsample_global: int,
        n_blocks_global: int,
        n_local_enhancers: int,
        n_blocks_local: int,
        norm_layer: NormLayer,
    ):
        super().__init__()
        self.n_local_enhancers = n_local_enhancers
        global_model = GlobalGenerator(
            input_nc, output_nc, ngf * 2**n_local_enhancers, n_downsample_global, n_blocks_global, norm_layer
        ).model
        # drop ReflPad, Conv7 and Tanh: the enhancers consume the global generator's features
        self.model = global_model[:-3]
        for n in range(1, n_local_enhancers + 1):
            width = ngf * 2 ** (n_local_enhancers - n)
            encode = stem_layers(input_nc, width, norm_layer) + down_layers(width, 2 * width, norm_layer)
            decode = resnet_blocks(2 * width, n_blocks_local, norm_layer)
            decode += up_layers(2 * width, width, norm_layer)
            if n == n_local_enhancers:
                decode += head_layers(ngf, output_nc, nn.Tanh())
            setattr(self, f"model{n}_1", nn.Sequential(*encode))
            setattr(self, f"model{n}_2", nn.Sequential(*decode))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, label: torch.Tensor) -> torch.Tensor:
        pyramid = [label]  # pyramid[k] is downsampled k times
        for _ in range(self.n_local_enhancers):
            pyramid.append(self.downsample(pyramid[-1]))
        features = self.model(pyramid[-1])
        for n in range(1, self.n_local_enhancers + 1):
            level = pyramid[self.n_local_enhancers - n]
            features = getattr(self, f"model{n}_2")(getattr(self, f"model{n}_1")(level) + features)
        return features


def _halve(z: torch.Tensor) -> torch.Tensor:
    """AvgPool(3, stride 2, pad 1, count_include_pad=False): how the face G brings its features down."""
    return F.avg_pool2d(z, 3, stride=2, padding=1, count_include_pad=False)


class GlobalWithZ(nn.Module):
    """The face first-frame generator (official `Global_with_z`): a global generator that also sees a
    feature map z of `nz` channels, concatenated at the input, on both sides of the res blocks (at the
    bottleneck resolution) and before the output conv.

    model_downsample: stem (input_nc + nz -> ngf) and `n_downsampling` stride-2 convs (widths capped at
    1024); model_resnet: `n_blocks` ResnetBlocks of width bottleneck + nz; model_upsample: transposed convs,
    the first taking bottleneck + 2 nz channels; model_upsample_conv: ReflPad3, Conv7(ngf + nz -> output_nc),
    Tanh. Maps x `(N, input_nc, H, W)` and z `(N, nz, H, W)` to `(N, output_nc, H, W)`, H and W divisible by
    2**n_downsampling.
    """

    def __init__(self, input_nc: int, output_nc: int, nz: int, ngf: int, n_downsampling: int, n_blocks: int,
                 norm_layer: NormLayer):
        super().__init__()
        self.n_downsampling = n_downsampling
        widths = [min(ngf * 2**i, MAX_GLOBAL_WIDTH) for i in range(n_downsampling + 1)]
        down = stem_layers(input_nc + nz, ngf, norm_layer)
        for i in range(n_downsampling):
            down += down_layers(widths[i], widths[i + 1], norm_layer)
        up: list[nn.Module] = []
        for level in range(n_downsampling, 0, -1):
            extra = 2 * nz if level == n_downsampling else 0  # the res blocks' z and the bottleneck's z again
            up += up_layers(widths[level] + extra, widths[level - 1], norm_layer)
        self.model_downsample = nn.Sequential(*down)
        self.model_resnet = nn.Sequential(*resnet_blocks(widths[-1] + nz, n_blocks, norm_layer))
        self.model_upsample = nn.Sequential(*up)
        self.model_upsample_conv = nn.Sequential(*head_layers(ngf + nz, output_nc, nn.Tanh()))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        z_low = z
        for _ in range(self.n_downsampling):
            z_low = _halve(z_low)
        features = self.model_downsample(torch.cat([x, z], dim=1))
        features = self.model_resnet(torch.cat([features, z_low], dim=1))
        features = self.model_upsample(torch.cat([features, z_low], dim=1))
        return self.model_upsample_conv(torch.cat([features, z], dim=1))


class FeatureEncoder(nn.Module):
    """The face features' encoder (official `Encoder`): an encoder-decoder of width `ngf` with
    `n_downsampling` stride-2 stages each way and a Tanh output, whose output is then averaged over each
    region of a label map.

    `model` = stem, downsamplings, transposed convs, ReflPad3 + Conv7(ngf -> output_nc) + Tanh. Maps an image
    `(N, input_nc, H, W)` and its regions `(N, 1, H, W)` to `(N, output_nc, H, W)`, constant per region.
    """

    def __init__(self, input_nc: int, output_nc: int, ngf: int, n_downsampling: int, norm_layer: NormLayer):
        super().__init__()
        layers = encoder_layers(input_nc, ngf, n_downsampling, norm_layer)
        layers += decoder_layers(ngf, n_downsampling, norm_layer)
        layers += head_layers(ngf, output_nc, nn.Tanh())
        self.model = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
        return region_means(self.model(image), regions)


def region_means(features: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
    """Replaces each channel of `features` `(N, C, H, W)` by its mean over every region of `regions`
    `(N, 1, H, W)` (integer-valued ids, per image): the official instance-wise average pooling."""
    pooled = features.clone()
    for b in range(features.shape[0]):
        ids = regions[b, 0].long()
        for region in torch.unique(ids):
            mask = ids == region
            pooled[b][:, mask] = features[b][:, mask].mean(dim=1, keepdim=True)
    return pooled
