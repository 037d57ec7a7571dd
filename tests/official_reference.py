"""An independent, functional re-statement of the official generator forward (reference §3.2-3.6).

It reads the weights straight from a state_dict by their official key names and uses no project module,
so that tests can check that our networks, loaded from an official-style checkpoint, give the official
frames: BatchNorm in training mode (per-frame statistics), reflection padding, the flow scaling, the
align_corners=True warp, fg composition and the coarse-to-fine feature hand-over.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class FunctionalGenerator:
    def __init__(self, state: dict[str, torch.Tensor], n_downsampling: int, n_blocks: int, scale: int,
                 n_blocks_local: int = 0):
        self.s = state
        self.nd = n_downsampling
        self.nb = n_blocks
        self.scale = scale
        self.nbl = n_blocks_local

    def conv(self, x, key, stride=1, pad=0, reflect=0):
        if reflect:
            x = F.pad(x, (reflect,) * 4, mode="reflect")
        return F.conv2d(x, self.s[key + ".weight"], self.s[key + ".bias"], stride=stride, padding=pad)

    def convT(self, x, key):
        return F.conv_transpose2d(x, self.s[key + ".weight"], self.s[key + ".bias"], stride=2, padding=1,
                                  output_padding=1)

    def bn(self, x, key):
        # training-mode BatchNorm: the frame's own statistics, the learned affine parameters
        return F.batch_norm(x, None, None, self.s[key + ".weight"], self.s[key + ".bias"], training=True, eps=1e-5)

    def res(self, x, key):
        y = F.relu(self.bn(self.conv(x, key + ".conv_block.1", reflect=1), key + ".conv_block.2"))
        y = self.bn(self.conv(y, key + ".conv_block.5", reflect=1), key + ".conv_block.6")
        return x + y

    def down(self, x, prefix, n_down, n_res):
        x = F.relu(self.bn(self.conv(x, prefix + ".1", reflect=3), prefix + ".2"))
        for i in range(n_down):
            x = F.relu(self.bn(self.conv(x, f"{prefix}.{4 + 3 * i}", stride=2, pad=1), f"{prefix}.{5 + 3 * i}"))
        for k in range(n_res):
            x = self.res(x, f"{prefix}.{4 + 3 * n_down + k}")
        return x

    def up(self, x, prefix, n_up, first=0):
        for i in range(n_up):
            x = F.relu(self.bn(self.convT(x, f"{prefix}.{first + 3 * i}"), f"{prefix}.{first + 3 * i + 1}"))
        return x

    def final(self, x, prefix):
        return self.conv(x, prefix + ".1", reflect=3)

    def forward(self, label, prev, mask, feats):
        """label (1, C·tG, H, W); prev (1, 3(tG-1), H, W); mask (1,1,H,W) or None; feats: coarse features."""
        local = self.scale > 0
        n_down = 1 if local else self.nd
        d = self.down(label, "model_down_seg", n_down, 0 if local else self.nb - self.nb // 2)
        d = d + self.down(prev, "model_down_img", n_down, 0 if local else self.nb - self.nb // 2)
        if local:
            x_img, x_flow = d + feats[0], d + feats[1]
            for k in range(self.nbl):
                x_img, x_flow = self.res(x_img, f"model_up_img.{k}"), self.res(x_flow, f"model_up_flow.{k}")
            img_feat = self.up(x_img, "model_up_img", 1, first=self.nbl)
            flow_feat = self.up(x_flow, "model_up_flow", 1, first=self.nbl)
        else:
            x_img, x_flow = d, d
            for k in range(self.nb // 2):
                x_img, x_flow = self.res(x_img, f"model_res_img.{k}"), self.res(x_flow, f"model_res_flow.{k}")
            img_feat = self.up(x_img, "model_up_img", self.nd)
            flow_feat = self.up(x_flow, "model_up_flow", self.nd)
        raw = torch.tanh(self.final(img_feat, "model_final_img"))
        flow = self.final(flow_feat, "model_final_flow") * 20 * 2 ** self.scale
        weight = torch.sigmoid(self.final(flow_feat, "model_final_w"))
        warped = grid_warp(prev[:, -3:], flow)
        out = raw * weight + warped * (1 - weight)
        fg_feat = None
        if mask is not None:
            if local:
                x = self.down(label, "indv_down", 1, 0) + feats[2]
                for k in range(self.nbl):
                    x = self.res(x, f"indv_up.{k}")
                fg_feat = self.up(x, "indv_up", 1, first=self.nbl)
            else:
                x = self.down(label, "indv_down", self.nd, 0)
                for k in range(self.nb):
                    x = self.res(x, f"indv_res.{k}")
                fg_feat = self.up(x, "indv_up", self.nd)
            fg = torch.tanh(self.final(fg_feat, "indv_final"))
            out = fg * mask + out * (1 - mask)
        return out, (img_feat, flow_feat, fg_feat)


def grid_warp(image, flow):
    """Bilinear sampling at (x + fx, y + fy) on a linspace(-1, 1) grid, border padding, align_corners=True."""
    _, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    grid = torch.stack([xs + flow[0, 0] / ((w - 1) / 2), ys + flow[0, 1] / ((h - 1) / 2)], dim=-1)[None]
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def encode(labels: torch.Tensor, inst: torch.Tensor, label_nc: int) -> torch.Tensor:
    """labels, inst: (T, H, W) integer maps -> (T, label_nc + 1, H, W) one-hot plus 4-neighbour edges."""
    onehot = F.one_hot(labels.long(), label_nc).permute(0, 3, 1, 2).to(torch.get_default_dtype())
    edge = torch.zeros_like(inst, dtype=torch.bool)
    dx = inst[:, :, 1:] != inst[:, :, :-1]
    dy = inst[:, 1:, :] != inst[:, :-1, :]
    edge[:, :, 1:] |= dx
    edge[:, :, :-1] |= dx
    edge[:, 1:, :] |= dy
    edge[:, :-1, :] |= dy
    return torch.cat([onehot, edge[:, None].to(torch.get_default_dtype())], dim=1)


def half(x):
    return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
