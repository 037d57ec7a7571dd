"""The vid2vid sequential generators: `CompositeGenerator` (netG0, coarsest scale) and
`CompositeLocalGenerator` (netG{s}, s >= 1, each doubling the resolution).

Each generator sees the current and previous label frames plus its own previous outputs, and produces a
hallucinated image, a flow to the previous output and a soft weight that blends the two; with `--fg` a
separate foreground branch is pasted in with the foreground mask. Attribute names and layer indices are
the official ones, so `state_dict()` keys equal those of the official `latest_net_G{s}.pth` files.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from models.constants import FLOW_SCALE
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
from models.networks.warp import warp

# The final flow conv predicts flow in units of 1/20 pixel at the coarsest scale.

GeneratorOutput = tuple[
    torch.Tensor,
    torch.Tensor | None,
    torch.Tensor | None,
    torch.Tensor,
    torch.Tensor,
    torch.Tensor | None,
    torch.Tensor | None,
]


class _CompositeBase(nn.Module):
    """The flow heads and the output composition shared by both generators."""

    def __init__(self, output_nc: int, no_flow: bool, use_fg_model: bool, flow_multiplier: float):
        super().__init__()
        self.output_nc = output_nc
        self.no_flow = no_flow
        self.use_fg_model = use_fg_model
        self.flow_multiplier = flow_multiplier

    def _add_flow_heads(self, ngf: int) -> None:
        """Registers model_final_flow and model_final_w (from width `ngf`) unless no_flow."""
        if not self.no_flow:
            # the flow is unbounded (no activation); the weight is a probability of hallucinating
            self.model_final_flow = nn.Sequential(*head_layers(ngf, 2, None))
            self.model_final_w = nn.Sequential(*head_layers(ngf, 1, nn.Sigmoid()))

    def _compose(
        self,
        prev_frames: torch.Tensor,
        img_feat: torch.Tensor,
        flow_feat: torch.Tensor | None,
        fg_feat: torch.Tensor | None,
        fg_mask: torch.Tensor | None,
        use_raw_only: bool,
    ) -> GeneratorOutput:
        """Turns the decoded features into (img, flow, weight, img_raw, img_feat, flow_feat, fg_feat)."""
        img_raw = self.model_final_img(img_feat)
        flow = weight = None
        if self.no_flow:
            img = img_raw
        else:
            flow = self.model_final_flow(flow_feat) * self.flow_multiplier
            weight = self.model_final_w(flow_feat)
            if use_raw_only:
                img = img_raw
            else:
                # the newest previous output is last in the frame-major stack
                img_warp = warp(prev_frames[:, -self.output_nc:], flow)
                img = img_raw * weight + img_warp * (1 - weight)
        if self.use_fg_model:
            if fg_mask is None:
                raise ValueError("the generator was built with --fg: forward needs fg_mask (N, 1, H, W)")
            img_fg = self.indv_final(fg_feat)
            img = img_fg * fg_mask + img * (1 - fg_mask)
            img_raw = img_fg * fg_mask + img_raw * (1 - fg_mask)
        return img, flow, weight, img_raw, img_feat, flow_feat, fg_feat


class CompositeGenerator(_CompositeBase):
    """netG0: encoder-resblocks-decoder at the coarsest scale, with separate image and flow decoders.

    Forward args:
        label: `(N, input_nc, H, W)`, the tG label frames stacked oldest first (input_nc = C_in * tG).
        prev_frames: `(N, prev_output_nc, H, W)`, the tG-1 previous outputs stacked oldest first.
        fg_mask: `(N, 1, H, W)` foreground mask in [0, 1]; needed only with use_fg_model.
        img_feat_coarse, flow_feat_coarse, fg_feat_coarse: ignored (there is no coarser scale).
        use_raw_only: output the hallucinated image without blending in the warped previous frame.
    Returns:
        img `(N, output_nc, H, W)`: the output frame;
        flow `(N, 2, H, W)`: in pixels, from the current to the previous frame;
        weight `(N, 1, H, W)`: 1 = hallucinate, 0 = copy the warped previous frame;
        img_raw `(N, output_nc, H, W)`: the hallucinated image (with the foreground pasted in);
        img_feat, flow_feat `(N, ngf, H, W)`; fg_feat `(N, ngf_fg, H, W)`, ngf_fg = ngf // 2 if
        n_downsampling > 2 else ngf. flow, weight and flow_feat are None with no_flow; fg_feat is None
        without use_fg_model. H and W must be divisible by 2**n_downsampling.
    """

    def __init__(
        self,
        input_nc: int,
        prev_output_nc: int,
        output_nc: int,
        ngf: int,
        n_downsampling: int,
        n_blocks: int,
        use_fg_model: bool,
        no_flow: bool,
        norm_layer: NormLayer,
    ):
        super().__init__(output_nc, no_flow, use_fg_model, FLOW_SCALE)
        bottleneck = ngf * 2**n_downsampling
        if use_fg_model:
            ngf_fg = ngf // 2 if n_downsampling > 2 else ngf
            self.indv_down = nn.Sequential(*encoder_layers(input_nc, ngf_fg, n_downsampling, norm_layer))
            self.indv_res = nn.Sequential(*resnet_blocks(ngf_fg * 2**n_downsampling, n_blocks, norm_layer))
            self.indv_up = nn.Sequential(*decoder_layers(ngf_fg, n_downsampling, norm_layer))
            self.indv_final = nn.Sequential(*head_layers(ngf_fg, output_nc, nn.Tanh()))

        # the res blocks are split: the first half runs on each input stream, the second half after the sum
        self.model_down_seg = nn.Sequential(
            *encoder_layers(input_nc, ngf, n_downsampling, norm_layer),
            *resnet_blocks(bottleneck, n_blocks - n_blocks // 2, norm_layer),
        )
        # deep copies as in the official code: only the first conv differs, and the copied conv biases start
        # equal (init_weights redraws weights, not conv biases)
        self.model_down_img = copy.deepcopy(self.model_down_seg)
        self.model_down_img[1] = nn.Conv2d(prev_output_nc, ngf, kernel_size=7)
        self.model_res_img = nn.Sequential(*resnet_blocks(bottleneck, n_blocks // 2, norm_layer))
        self.model_up_img = nn.Sequential(*decoder_layers(ngf, n_downsampling, norm_layer))
        self.model_final_img = nn.Sequential(*head_layers(ngf, output_nc, nn.Tanh()))
        if not no_flow:
            self.model_res_flow = copy.deepcopy(self.model_res_img)
            self.model_up_flow = copy.deepcopy(self.model_up_img)
        self._add_flow_heads(ngf)

    def forward(
        self,
        label: torch.Tensor,
        prev_frames: torch.Tensor,
        fg_mask: torch.Tensor | None = None,
        img_feat_coarse: torch.Tensor | None = None,
        flow_feat_coarse: torch.Tensor | None = None,
        fg_feat_coarse: torch.Tensor | None = None,
        use_raw_only: bool = False,
    ) -> GeneratorOutput:
        down = self.model_down_seg(label) + self.model_down_img(prev_frames)
        img_feat = self.model_up_img(self.model_res_img(down))
        flow_feat = None if self.no_flow else self.model_up_flow(self.model_res_flow(down))
        fg_feat = self.indv_up(self.indv_res(self.indv_down(label))) if self.use_fg_model else None
        return self._compose(prev_frames, img_feat, flow_feat, fg_feat, fg_mask, use_raw_only)


class CompositeLocalGenerator(_CompositeBase):
    """netG{scale}: one stride-2 stage that refines the features handed down by the next-coarser scale.

    `ngf` is this scale's width (the official `ngf // 2**scale`); `n_downsampling` (`--n_downsample_G`) only
    sets the foreground width. The flow multiplier is 20 * 2**scale because flow is in pixels at this scale.

    Forward args: as `CompositeGenerator`, plus the coarse features returned by the next-coarser scale:
        img_feat_coarse, flow_feat_coarse: `(N, 2 * ngf, H/2, W/2)`;
        fg_feat_coarse: `(N, 2 * ngf_fg, H/2, W/2)` (with use_fg_model).
    Returns: as `CompositeGenerator` (features at width ngf / ngf_fg and full resolution H x W).
    """

    def __init__(
        self,
        input_nc: int,
        prev_output_nc: int,
        output_nc: int,
        ngf: int,
        n_downsampling: int,
        n_blocks_local: int,
        use_fg_model: bool,
        no_flow: bool,
        norm_layer: NormLayer,
        scale: int,
    ):
        super().__init__(output_nc, no_flow, use_fg_model, FLOW_SCALE * 2**scale)
        self.scale = scale
        if use_fg_model:
            ngf_fg = ngf // 2 if n_downsampling > 2 else ngf
            self.indv_down = nn.Sequential(
                *stem_layers(input_nc, ngf_fg, norm_layer), *down_layers(ngf_fg, 2 * ngf_fg, norm_layer)
            )
            self.indv_up = nn.Sequential(
                *resnet_blocks(2 * ngf_fg, n_blocks_local, norm_layer),
                *up_layers(2 * ngf_fg, ngf_fg, norm_layer),
            )
            self.indv_final = nn.Sequential(*head_layers(ngf_fg, output_nc, nn.Tanh()))

        self.model_down_seg = nn.Sequential(
            *stem_layers(input_nc, ngf, norm_layer), *down_layers(ngf, 2 * ngf, norm_layer)
        )
        self.model_down_img = copy.deepcopy(self.model_down_seg)
        self.model_down_img[1] = nn.Conv2d(prev_output_nc, ngf, kernel_size=7)
        self.model_up_img = nn.Sequential(
            *resnet_blocks(2 * ngf, n_blocks_local, norm_layer), *up_layers(2 * ngf, ngf, norm_layer)
        )
        self.model_final_img = nn.Sequential(*head_layers(ngf, output_nc, nn.Tanh()))
        if not no_flow:
            self.model_up_flow = copy.deepcopy(self.model_up_img)
        self._add_flow_heads(ngf)

    def forward(
        self,
        label: torch.Tensor,
        prev_frames: torch.Tensor,
        fg_mask: torch.Tensor | None = None,
        img_feat_coarse: torch.Tensor | None = None,
        flow_feat_coarse: torch.Tensor | None = None,
        fg_feat_coarse: torch.Tensor | None = None,
        use_raw_only: bool = False,
    ) -> GeneratorOutput:
        # image and flow branches share the encoded input; each adds its own coarse features
        down = self.model_down_seg(label) + self.model_down_img(prev_frames)
        img_feat = self.model_up_img(down + img_feat_coarse)
        flow_feat = None if self.no_flow else self.model_up_flow(down + flow_feat_coarse)
        fg_feat = self.indv_up(self.indv_down(label) + fg_feat_coarse) if self.use_fg_model else None
        return self._compose(prev_frames, img_feat, flow_feat, fg_feat, fg_mask, use_raw_only)
