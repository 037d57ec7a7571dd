"""FlowNet2 (Ilg et al. 2017) as in NVIDIA's flownet2-pytorch, with the official module names.

The attribute names, layer order and shapes equal those of the official `FlowNet2_checkpoint.pth.tar`
(`flownetc.*`, `flownets_1.*`, `flownets_2.*`, `flownets_d.*`, `flownetfusion.*`; 162,518,834 parameters),
so the file loads with `strict=True`. Only the inference path exists: FlowNet2 is frozen in vid2vid and the
official wrapper keeps it in eval(), where each sub-network returns its finest flow only. The official
random init (xavier) is not reproduced because the checkpoint always overwrites it. Reference §8.2, §8.3.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.constants import FLOW_SCALE, FLOWNET2_SIZE_MULTIPLE
from models.flow.ops import channel_norm, correlation, resample2d


def _conv(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv (same padding, bias) + LeakyReLU(0.1); the Sequential gives the official `<name>.0.*` keys."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, stride, (kernel - 1) // 2),
                         nn.LeakyReLU(0.1, inplace=True))


def _deconv(in_ch: int, out_ch: int) -> nn.Sequential:
    """Transposed conv that doubles the resolution + LeakyReLU(0.1)."""
    return nn.Sequential(nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1), nn.LeakyReLU(0.1, inplace=True))


def _inter_conv(in_ch: int, out_ch: int) -> nn.Sequential:
    """3x3 conv without activation (the official `i_conv` with batchNorm=False)."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, 1, 1))


def _predict_flow(in_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, 2, 3, 1, 1)


def _upsample_flow(bias: bool) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=bias)


def _upsample4(flow: torch.Tensor, mode: str) -> torch.Tensor:
    """x4 upsampling as PyTorch 0.4's nn.Upsample did it (bilinear was already align_corners=False)."""
    if mode == "bilinear":
        return F.interpolate(flow, scale_factor=4, mode="bilinear", align_corners=False)
    return F.interpolate(flow, scale_factor=4, mode="nearest")


class _Refinement(nn.Module):
    """The coarse-to-fine decoder shared by all sub-networks.

    At each level: `concat = [skip, deconv(previous concat), upsampled previous flow]`, then the flow of that
    level is predicted from the concat (through `inter_conv<level>` when the network has one).
    """

    def refine(self, features: torch.Tensor, flow: torch.Tensor, skips: list[torch.Tensor],
               levels: tuple[int, ...]) -> torch.Tensor:
        """Runs the decoder from the coarsest features down to the finest level.

        Args:
            features: `(N, C, h, w)` coarsest features (the input of the first deconv).
            flow: `(N, 2, h, w)` the flow predicted from them.
            skips: encoder features, one per level, each at twice the resolution of the one before.
            levels: the level numbers, matching the module names (e.g. 5, 4, 3, 2).
        Returns:
            `(N, 2, h', w')` the flow of the last level.
        """
        for level, skip in zip(levels, skips):
            deconv = getattr(self, f"deconv{level}")
            upsample = getattr(self, f"upsampled_flow{level + 1}_to_{level}")
            features = torch.cat((skip, deconv(features), upsample(flow)), dim=1)
            inter = getattr(self, f"inter_conv{level}", None)
            flow = getattr(self, f"predict_flow{level}")(features if inter is None else inter(features))
        return flow


class FlowNetC(_Refinement):
    """Correlation network: shared-weight encoders for both images, a 441-channel cost volume, a decoder."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _conv(3, 64, kernel=7, stride=2)
        self.conv2 = _conv(64, 128, kernel=5, stride=2)
        self.conv3 = _conv(128, 256, kernel=5, stride=2)
        self.conv_redir = _conv(256, 32, kernel=1)
        self.conv3_1 = _conv(32 + 441, 256)
        self.conv4 = _conv(256, 512, stride=2)
        self.conv4_1 = _conv(512, 512)
        self.conv5 = _conv(512, 512, stride=2)
        self.conv5_1 = _conv(512, 512)
        self.conv6 = _conv(512, 1024, stride=2)
        self.conv6_1 = _conv(1024, 1024)
        self.deconv5 = _deconv(1024, 512)
        self.deconv4 = _deconv(1026, 256)
        self.deconv3 = _deconv(770, 128)
        self.deconv2 = _deconv(386, 64)
        self.predict_flow6 = _predict_flow(1024)
        self.predict_flow5 = _predict_flow(1026)
        self.predict_flow4 = _predict_flow(770)
        self.predict_flow3 = _predict_flow(386)
        self.predict_flow2 = _predict_flow(194)
        self.upsampled_flow6_to_5 = _upsample_flow(bias=True)
        self.upsampled_flow5_to_4 = _upsample_flow(bias=True)
        self.upsampled_flow4_to_3 = _upsample_flow(bias=True)
        self.upsampled_flow3_to_2 = _upsample_flow(bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, 6, H, W)` two stacked RGB images -> `(N, 2, H/4, W/4)` flow in units of 1/20 pixel at H/4."""
        conv2a = self.conv2(self.conv1(x[:, :3]))
        conv3a = self.conv3(conv2a)
        conv3b = self.conv3(self.conv2(self.conv1(x[:, 3:])))
        corr = F.leaky_relu(correlation(conv3a, conv3b), 0.1)
        conv3_1 = self.conv3_1(torch.cat((self.conv_redir(conv3a), corr), dim=1))
        conv4 = self.conv4_1(self.conv4(conv3_1))
        conv5 = self.conv5_1(self.conv5(conv4))
        conv6 = self.conv6_1(self.conv6(conv5))
        return self.refine(conv6, self.predict_flow6(conv6), [conv5, conv4, conv3_1, conv2a], (5, 4, 3, 2))


class FlowNetS(_Refinement):
    """Simple network on 12 stacked channels (images, warped image, flow, brightness error)."""

    def __init__(self, in_channels: int = 12) -> None:
        super().__init__()
        self.conv1 = _conv(in_channels, 64, kernel=7, stride=2)
        self.conv2 = _conv(64, 128, kernel=5, stride=2)
        self.conv3 = _conv(128, 256, kernel=5, stride=2)
        self.conv3_1 = _conv(256, 256)
        self.conv4 = _conv(256, 512, stride=2)
        self.conv4_1 = _conv(512, 512)
        self.conv5 = _conv(512, 512, stride=2)
        self.conv5_1 = _conv(512, 512)
        self.conv6 = _conv(512, 1024, stride=2)
        self.conv6_1 = _conv(1024, 1024)
        self.deconv5 = _deconv(1024, 512)
        self.deconv4 = _deconv(1026, 256)
        self.deconv3 = _deconv(770, 128)
        self.deconv2 = _deconv(386, 64)
        self.predict_flow6 = _predict_flow(1024)
        self.predict_flow5 = _predict_flow(1026)
        self.predict_flow4 = _predict_flow(770)
        self.predict_flow3 = _predict_flow(386)
        self.predict_flow2 = _predict_flow(194)
        self.upsampled_flow6_to_5 = _upsample_flow(bias=False)
        self.upsampled_flow5_to_4 = _upsample_flow(bias=False)
        self.upsampled_flow4_to_3 = _upsample_flow(bias=False)
        self.upsampled_flow3_to_2 = _upsample_flow(bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, in_channels, H, W)` -> `(N, 2, H/4, W/4)` flow in units of 1/20 pixel at H/4."""
        conv2 = self.conv2(self.conv1(x))
        conv3 = self.conv3_1(self.conv3(conv2))
        conv4 = self.conv4_1(self.conv4(conv3))
        conv5 = self.conv5_1(self.conv5(conv4))
        conv6 = self.conv6_1(self.conv6(conv5))
        return self.refine(conv6, self.predict_flow6(conv6), [conv5, conv4, conv3, conv2], (5, 4, 3, 2))


class FlowNetSD(_Refinement):
    """Small-displacement network: 3x3 kernels only, a stride-1 first layer, inter convs in the decoder."""

    def __init__(self) -> None:
        super().__init__()
        self.conv0 = _conv(6, 64)
        self.conv1 = _conv(64, 64, stride=2)
        self.conv1_1 = _conv(64, 128)
        self.conv2 = _conv(128, 128, stride=2)
        self.conv2_1 = _conv(128, 128)
        self.conv3 = _conv(128, 256, stride=2)
        self.conv3_1 = _conv(256, 256)
        self.conv4 = _conv(256, 512, stride=2)
        self.conv4_1 = _conv(512, 512)
        self.conv5 = _conv(512, 512, stride=2)
        self.conv5_1 = _conv(512, 512)
        self.conv6 = _conv(512, 1024, stride=2)
        self.conv6_1 = _conv(1024, 1024)
        self.deconv5 = _deconv(1024, 512)
        self.deconv4 = _deconv(1026, 256)
        self.deconv3 = _deconv(770, 128)
        self.deconv2 = _deconv(386, 64)
        self.inter_conv5 = _inter_conv(1026, 512)
        self.inter_conv4 = _inter_conv(770, 256)
        self.inter_conv3 = _inter_conv(386, 128)
        self.inter_conv2 = _inter_conv(194, 64)
        self.predict_flow6 = _predict_flow(1024)
        self.predict_flow5 = _predict_flow(512)
        self.predict_flow4 = _predict_flow(256)
        self.predict_flow3 = _predict_flow(128)
        self.predict_flow2 = _predict_flow(64)
        self.upsampled_flow6_to_5 = _upsample_flow(bias=True)
        self.upsampled_flow5_to_4 = _upsample_flow(bias=True)
        self.upsampled_flow4_to_3 = _upsample_flow(bias=True)
        self.upsampled_flow3_to_2 = _upsample_flow(bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, 6, H, W)` two stacked RGB images -> `(N, 2, H/4, W/4)` flow in units of 1/20 pixel at H/4."""
        conv1 = self.conv1_1(self.conv1(self.conv0(x)))
        conv2 = self.conv2_1(self.conv2(conv1))
        conv3 = self.conv3_1(self.conv3(conv2))
        conv4 = self.conv4_1(self.conv4(conv3))
        conv5 = self.conv5_1(self.conv5(conv4))
        conv6 = self.conv6_1(self.conv6(conv5))
        return self.refine(conv6, self.predict_flow6(conv6), [conv5, conv4, conv3, conv2], (5, 4, 3, 2))


class FlowNetFusion(_Refinement):
    """Fuses the large-displacement (CSS) and small-displacement (SD) flows at full resolution."""

    def __init__(self) -> None:
        super().__init__()
        self.conv0 = _conv(11, 64)
        self.conv1 = _conv(64, 64, stride=2)
        self.conv1_1 = _conv(64, 128)
        self.conv2 = _conv(128, 128, stride=2)
        self.conv2_1 = _conv(128, 128)
        self.deconv1 = _deconv(128, 32)
        self.deconv0 = _deconv(162, 16)
        self.inter_conv1 = _inter_conv(162, 32)
        self.inter_conv0 = _inter_conv(82, 16)
        self.predict_flow2 = _predict_flow(128)
        self.predict_flow1 = _predict_flow(32)
        self.predict_flow0 = _predict_flow(16)
        self.upsampled_flow2_to_1 = _upsample_flow(bias=True)
        self.upsampled_flow1_to_0 = _upsample_flow(bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, 11, H, W)` -> `(N, 2, H, W)` flow in pixels."""
        conv0 = self.conv0(x)
        conv1 = self.conv1_1(self.conv1(conv0))
        conv2 = self.conv2_1(self.conv2(conv1))
        return self.refine(conv2, self.predict_flow2(conv2), [conv1, conv0], (1, 0))


class FlowNet2(nn.Module):
    """FlowNet2 = FlowNetC -> FlowNetS -> FlowNetS (large displacements), FlowNetSD (small), FlowNetFusion.

    Built as in vid2vid: rgb_max = 1, div_flow = FLOW_SCALE (20), batchNorm off.
    """

    def __init__(self, rgb_max: float = 1.0, div_flow: float = FLOW_SCALE) -> None:
        super().__init__()
        self.rgb_max = rgb_max
        self.div_flow = div_flow
        self.flownetc = FlowNetC()
        self.flownets_1 = FlowNetS()
        self.flownets_2 = FlowNetS()
        self.flownets_d = FlowNetSD()
        self.flownetfusion = FlowNetFusion()

    def _warp_inputs(self, x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """The 12-channel input of a FlowNetS: images, image 2 warped by `flow`, scaled flow, error norm."""
        warped = resample2d(x[:, 3:], flow)
        error = channel_norm(x[:, :3] - warped)
        return torch.cat((x, warped, flow / self.div_flow, error), dim=1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Estimates the flow from image 1 to image 2.

        Args:
            inputs: `(N, 3, 2, H, W)` the two RGB images stacked on dim 2, in the range the caller chose
                (vid2vid passes [-1, 1] with rgb_max = 1); H and W must be multiples of 64.
        Returns:
            `(N, 2, H, W)` flow in pixels: image 1's pixel (x, y) is at (x + fx, y + fy) in image 2.
        """
        height, width = inputs.shape[-2:]
        multiple = FLOWNET2_SIZE_MULTIPLE
        if inputs.dim() != 5 or inputs.shape[1:3] != (3, 2) or height % multiple or width % multiple:
            raise ValueError(f"FlowNet2 expects (N, 3, 2, H, W) with H and W multiples of 64, "
                             f"got {tuple(inputs.shape)}")
        # the mean of each colour channel over both images and all pixels, per sample
        rgb_mean = inputs.flatten(2).mean(-1)[:, :, None, None, None]
        x = (inputs - rgb_mean) / self.rgb_max
        image1, image2 = x[:, :, 0], x[:, :, 1]
        x = torch.cat((image1, image2), dim=1)

        flow_c = _upsample4(self.flownetc(x) * self.div_flow, "bilinear")
        flow_s1 = _upsample4(self.flownets_1(self._warp_inputs(x, flow_c)) * self.div_flow, "bilinear")
        flow_s2 = _upsample4(self.flownets_2(self._warp_inputs(x, flow_s1)) * self.div_flow, "nearest")
        # the official code divides the SD flow by div_flow where the other branches multiply; kept as is
        flow_sd = _upsample4(self.flownets_d(x) / self.div_flow, "nearest")
        fusion_in = torch.cat((image1, flow_sd, flow_s2, channel_norm(flow_sd), channel_norm(flow_s2),
                               channel_norm(image1 - resample2d(image2, flow_sd)),
                               channel_norm(image1 - resample2d(image2, flow_s2))), dim=1)
        return self.flownetfusion(fusion_in)
