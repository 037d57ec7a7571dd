"""The discriminator side of vid2vid: per-frame, temporal and face discriminators and every loss term.

`Vid2VidDiscriminator` owns `netD`, `netD_T<s>` and `netD_f` (official checkpoint names) and computes the
official loss dictionaries (reference §4): `frame_losses` for the per-frame terms, `temporal_losses` for
one temporal scale, and `combine_losses` for the G, D and D_T totals.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn as nn

from models.losses import FeatureMatchingLoss, GANLoss, MaskedL1Loss, VGGLoss
from models.networks.factory import define_discriminators
from models.networks.warp import warp

FRAME_LOSS_NAMES = ("G_VGG", "G_GAN", "G_GAN_Feat", "D_real", "D_fake", "G_Warp", "F_Flow", "F_Warp", "W")
FACE_LOSS_NAMES = ("G_f_GAN", "G_f_GAN_Feat", "D_f_real", "D_f_fake")
TEMPORAL_LOSS_NAMES = ("G_T_GAN", "G_T_GAN_Feat", "D_T_real", "D_T_fake", "G_T_Warp")
FACE_LOSS_WEIGHT = 2.0  # the G terms of the face discriminator count double (official)


class Vid2VidDiscriminator(nn.Module):
    """Discriminators plus loss computation.

    Reads from opt: lambda_feat, lambda_F, lambda_T, n_scales_spatial, n_frames_D, n_scales_temporal,
    num_D, n_layers_D, no_ganFeat, no_vgg, no_first_img, add_face_disc, openpose_only, fineSize, output_nc
    (and whatever `define_discriminators` reads).
    vgg_features: torchvision VGG19 `features` for the VGG loss, or None with --no_vgg.
    """

    def __init__(self, opt: argparse.Namespace, vgg_features: nn.Sequential | None):
        super().__init__()
        for name, net in define_discriminators(opt).items():
            self.add_module(f"net{name}", net)
        self.n_scales_temporal = opt.n_scales_temporal
        self.tD = opt.n_frames_D
        self.lambda_F = opt.lambda_F
        self.lambda_T = opt.lambda_T
        self.lambda_feat = opt.lambda_feat
        self.n_scales_spatial = opt.n_scales_spatial
        self.no_first_img = opt.no_first_img
        self.add_face_disc = opt.add_face_disc
        self.openpose_only = opt.openpose_only
        self.face_size = opt.fineSize // 32 * 8
        self.gan_loss = GANLoss()
        self.feat_loss = None if opt.no_ganFeat else FeatureMatchingLoss(opt.num_D, opt.n_layers_D, opt.lambda_feat)
        self.masked_l1 = MaskedL1Loss()
        self.vgg_loss = None if vgg_features is None else VGGLoss(vgg_features)

    def net_names(self) -> list[str]:
        """Official checkpoint stems of the discriminators: D, D_T0.., D_f."""
        return [name.removeprefix("net") for name, _ in self.named_children() if name.startswith("net")]

    def adversarial_losses(self, net: nn.Module, real: torch.Tensor, fake: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Official compute_loss_D on already-conditioned inputs `(N, C, H, W)`.

        Returns (D_real, D_fake, G_GAN, G_GAN_Feat): D sees real and the detached fake; a fresh forward
        of the fake (not detached) gives G's GAN and feature-matching terms.
        """
        pred_real = net(real)
        loss_D_real = self.gan_loss(pred_real, True)
        loss_D_fake = self.gan_loss(net(fake.detach()), False)
        pred_fake = net(fake)
        loss_G_GAN = self.gan_loss(pred_fake, True)
        loss_G_feat = self.feat_loss(pred_fake, pred_real) if self.feat_loss else torch.zeros_like(loss_G_GAN)
        return loss_D_real, loss_D_fake, loss_G_GAN, loss_G_feat

    def frame_losses(self, real_B: torch.Tensor, fake_B: torch.Tensor, fake_B_raw: torch.Tensor,
                     real_A: torch.Tensor, real_B_prev: torch.Tensor, fake_B_prev: torch.Tensor,
                     flow: torch.Tensor | None, weight: torch.Tensor | None, flow_ref: torch.Tensor,
                     conf_ref: torch.Tensor) -> dict[str, torch.Tensor]:
        """The per-frame loss terms (reference §4.3), each a scalar tensor, keyed by the official names.

        All inputs are frames flattened over (batch, time): real_B, fake_B, fake_B_raw, real_B_prev,
        fake_B_prev `(N, 3, H, W)`; real_A `(N, C_in, H, W)`; flow, flow_ref `(N, 2, H, W)`; weight,
        conf_ref `(N, 1, H, W)`.
        """
        zero = real_B.new_zeros(())
        losses = dict.fromkeys(FRAME_LOSS_NAMES, zero)
        if flow is not None:
            flow_weight = self.lambda_F / 2 ** (self.n_scales_spatial - 1)
            losses["F_Flow"] = self.masked_l1(flow, flow_ref, conf_ref) * flow_weight
            losses["F_Warp"] = self.masked_l1(warp(real_B_prev, flow), real_B, conf_ref) * self.lambda_T
            if self.no_first_img:
                losses["W"] = self.masked_l1(weight, torch.zeros_like(weight), conf_ref)
        losses["G_Warp"] = self.masked_l1(fake_B, warp(fake_B_prev, flow_ref).detach(), conf_ref) * self.lambda_T

        # D judges the final and the raw (hallucinated) output, each against the real pair
        for output in (fake_B, fake_B_raw):
            if self.vgg_loss is not None:
                losses["G_VGG"] = losses["G_VGG"] + self.vgg_loss(output, real_B) * self.lambda_feat
            d_real, d_fake, g_gan, g_feat = self.adversarial_losses(
                self.netD, torch.cat([real_A, real_B], dim=1), torch.cat([real_A, output], dim=1))
            losses["D_real"] = losses["D_real"] + d_real
            losses["D_fake"] = losses["D_fake"] + d_fake
            losses["G_GAN"] = losses["G_GAN"] + g_gan
            losses["G_GAN_Feat"] = losses["G_GAN_Feat"] + g_feat

        if self.add_face_disc:
            losses.update(self.face_losses(real_A, real_B, fake_B))
        return losses

    def face_region(self, real_A: torch.Tensor) -> tuple[int, int, int, int] | None:
        """One fixed-size box (y0, y1, x0, x1) around the face pixels of all frames, or None (official).

        Face pixels: DensePose head parts (channel 2 > 0.9), or with --openpose_only the limb colour
        (153, 0, 51) normalised to [-1, 1].
        """
        if self.openpose_only:
            r, g, b = real_A[:, 0], real_A[:, 1], real_A[:, 2]
            is_face = (r > 0.19) & (r < 0.21) & (g < -0.99) & (b > -0.61) & (b < -0.59)
        else:
            is_face = real_A[:, 2] > 0.9
        found = is_face.nonzero()
        if found.shape[0] == 0:
            return None
        h, w = real_A.shape[-2:]
        ys, xs = found[:, 1], found[:, 2]
        size = self.face_size
        yc = max(size // 2, min(h - 1 - size // 2, int(ys.min() + ys.max()) // 2))
        xc = max(size // 2, min(w - 1 - size // 2, int(xs.min() + xs.max()) // 2))
        return yc - size // 2, yc + size // 2, xc - size // 2, xc + size // 2

    def face_losses(self, real_A: torch.Tensor, real_B: torch.Tensor, fake_B: torch.Tensor
                    ) -> dict[str, torch.Tensor]:
        """Face-discriminator terms on the face box (zeros when no face is visible)."""
        box = self.face_region(real_A)
        if box is None:
            return dict.fromkeys(FACE_LOSS_NAMES, real_B.new_zeros(()))
        y0, y1, x0, x1 = box
        crop_A, crop_real, crop_fake = (t[:, :, y0:y1, x0:x1] for t in (real_A, real_B, fake_B))
        d_real, d_fake, g_gan, g_feat = self.adversarial_losses(
            self.netD_f, torch.cat([crop_A, crop_real], dim=1), torch.cat([crop_A, crop_fake], dim=1))
        return {"G_f_GAN": g_gan * FACE_LOSS_WEIGHT, "G_f_GAN_Feat": g_feat * FACE_LOSS_WEIGHT,
                "D_f_real": d_real, "D_f_fake": d_fake}

    def temporal_losses(self, scale: int, real_groups: torch.Tensor, fake_groups: torch.Tensor,
                        flow_groups: torch.Tensor) -> dict[str, torch.Tensor]:
        """Temporal-discriminator terms of one scale (reference §4.4).

        real_groups, fake_groups: `(G, tD, 3, H, W)` (oldest frame first); flow_groups: `(G, tD-1, 2, H, W)`
        reference flows. The flows, divided by 20, are appended to both the real and the fake frames.
        """
        g, _, _, h, w = real_groups.shape
        flows = flow_groups.reshape(g, -1, h, w) / 20
        real = torch.cat([real_groups.reshape(g, -1, h, w), flows], dim=1)
        fake = torch.cat([fake_groups.reshape(g, -1, h, w), flows], dim=1)
        d_real, d_fake, g_gan, g_feat = self.adversarial_losses(getattr(self, f"netD_T{scale}"), real, fake)
        return {"G_T_GAN": g_gan, "G_T_GAN_Feat": g_feat, "D_T_real": d_real, "D_T_fake": d_fake,
                "G_T_Warp": torch.zeros_like(g_gan)}

    def combine_losses(self, frame: dict[str, torch.Tensor], temporal: list[dict[str, torch.Tensor]]
                       ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Returns (loss_G, loss_D, [loss_D_T per active temporal scale]) as reference §4.5."""
        loss_D = (frame["D_fake"] + frame["D_real"]) * 0.5
        loss_G = (frame["G_GAN"] + frame["G_GAN_Feat"] + frame["G_VGG"] + frame["G_Warp"] + frame["F_Flow"]
                  + frame["F_Warp"] + frame["W"])
        if self.add_face_disc:
            loss_G = loss_G + frame["G_f_GAN"] + frame["G_f_GAN_Feat"]
            loss_D = loss_D + (frame["D_f_fake"] + frame["D_f_real"]) * 0.5
        loss_D_T = []
        for terms in temporal:
            loss_G = loss_G + terms["G_T_GAN"] + terms["G_T_GAN_Feat"] + terms["G_T_Warp"]
            loss_D_T.append((terms["D_T_fake"] + terms["D_T_real"]) * 0.5)
        return loss_G, loss_D, loss_D_T
