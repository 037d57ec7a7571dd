"""vid2vid's loss terms by their official names, with weights from the options, and their totals (reference §4).

The generator step and the discriminator step run their own discriminator forwards, so each network's
update is one forward and one backward of that network (what DistributedDataParallel and autocast need):
- `generator_losses`: G's terms, with every discriminator judging the fakes (gradients reach G only);
- `discriminator_losses` and `temporal_discriminator_losses`: each D judges the real and the detached fake.
Each value is the weighted term the official code prints; `generator_total` and `discriminator_total` add
them by name, in the official order.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

import torch
import torch.nn as nn

from models.constants import FLOW_SCALE, face_box_side
from models.losses import FeatureMatchingLoss, GANLoss, MaskedL1Loss, VGGLoss
from models.networks.warp import warp
from models.vid2vid.discriminators import Vid2VidDiscriminators
from models.vid2vid.face_region import face_box

# The generator's terms in the order the official total adds them; temporal ones get the scale as suffix.
FRAME_G_TERMS = ("G_GAN", "G_GAN_Feat", "G_VGG", "G_Warp", "F_Flow", "F_Warp", "W")
FACE_G_TERMS = ("G_f_GAN", "G_f_GAN_Feat")
TEMPORAL_G_TERMS = ("G_T_GAN", "G_T_GAN_Feat", "G_T_Warp")


@dataclass
class TemporalGroups:
    """What temporal scale s judges: `(G, tD, 3, H, W)` real and fake groups (oldest frame first) and the
    `(G, tD-1, 2, H, W)` reference flows between their frames."""

    real: torch.Tensor
    fake: torch.Tensor
    flow: torch.Tensor


@dataclass
class ChunkFrames:
    """One chunk's frames, flattened over (batch, time) to `(N, C, H, W)`.

    real_A: encoded conditions; real_B, real_B_prev: the real frames and the real frame before each;
    fake_B, fake_B_raw: final and raw outputs (with gradients); fake_B_prev: the generated frame taken as
    previous for G_Warp (detached); flow `(N, 2, H, W)` and weight `(N, 1, H, W)` of G, or None with
    --no_flow; flow_ref, conf_ref: reference flow and confidence from the real frames; temporal: the
    groups of every temporal scale that has one in this chunk.
    """

    real_A: torch.Tensor
    real_B: torch.Tensor
    real_B_prev: torch.Tensor
    fake_B: torch.Tensor
    fake_B_raw: torch.Tensor
    fake_B_prev: torch.Tensor
    flow: torch.Tensor | None
    weight: torch.Tensor | None
    flow_ref: torch.Tensor
    conf_ref: torch.Tensor
    temporal: dict[int, TemporalGroups]


def temporal_inputs(groups: TemporalGroups) -> tuple[torch.Tensor, torch.Tensor]:
    """(real, fake) inputs of a temporal D `(G, 3*tD + 2*(tD-1), H, W)`: the frames on the channel axis,
    followed by the same reference flows (in units of FLOW_SCALE pixels) for both."""
    g, _, _, h, w = groups.real.shape
    flows = groups.flow.reshape(g, -1, h, w) / FLOW_SCALE
    return (torch.cat([groups.real.reshape(g, -1, h, w), flows], dim=1),
            torch.cat([groups.fake.reshape(g, -1, h, w), flows], dim=1))


class Vid2VidLoss(nn.Module):
    """The criteria and their weights.

    Reads from opt: lambda_feat, lambda_F, lambda_T, n_scales_spatial, num_D, n_layers_D, no_ganFeat,
    no_first_img, add_face_disc, openpose_only, fineSize. vgg_features: torchvision VGG19 `features`, or
    None with --no_vgg.
    """

    def __init__(self, opt: argparse.Namespace, vgg_features: nn.Sequential | None) -> None:
        super().__init__()
        self.gan = GANLoss()
        self.feature_matching = (None if opt.no_ganFeat
                                 else FeatureMatchingLoss(opt.num_D, opt.n_layers_D, opt.lambda_feat))
        self.masked_l1 = MaskedL1Loss()
        self.vgg = None if vgg_features is None else VGGLoss(vgg_features)
        self.weights = {"flow": opt.lambda_F / 2 ** (opt.n_scales_spatial - 1), "warp": opt.lambda_T,
                        "vgg": opt.lambda_feat, "face": 2.0}
        self.use_weight_loss = opt.no_first_img  # W pushes the blend towards the warp only then (official)
        self.add_face_disc = opt.add_face_disc
        self.openpose_only = opt.openpose_only
        self.face_side = face_box_side(opt.fineSize)

    # ---- one discriminator, either side -----------------------------------------------------------
    def generator_adversarial(self, net: nn.Module, real: torch.Tensor, fake: torch.Tensor
                              ) -> tuple[torch.Tensor, torch.Tensor]:
        """(G_GAN, G_GAN_Feat) of D `net` on conditioned inputs `(N, C, H, W)`; the real features are only
        a feature-matching target, so they are computed without gradients."""
        if self.feature_matching is None:
            loss_gan = self.gan(net(fake), True)
            return loss_gan, torch.zeros_like(loss_gan)
        with torch.no_grad():
            pred_real = net(real)
        pred_fake = net(fake)
        return self.gan(pred_fake, True), self.feature_matching(pred_fake, pred_real)

    def discriminator_adversarial(self, net: nn.Module, real: torch.Tensor, fake: torch.Tensor
                                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """(D_real, D_fake) of D `net`: the real input judged real, the detached fake judged fake."""
        return self.gan(net(real), True), self.gan(net(fake.detach()), False)

    # ---- the generator step ---------------------------------------------------------------------
    def generator_losses(self, chunk: ChunkFrames, nets: Vid2VidDiscriminators) -> dict[str, torch.Tensor]:
        """Every G term of the chunk (reference §4.3-4.4), keyed by the official names."""
        zero = chunk.real_B.new_zeros(())
        losses = dict.fromkeys(("G_VGG", "G_GAN", "G_GAN_Feat", "G_Warp", "F_Flow", "F_Warp", "W"), zero)
        if chunk.flow is not None:
            losses["F_Flow"] = self.masked_l1(chunk.flow, chunk.flow_ref, chunk.conf_ref) * self.weights["flow"]
            warped_real = warp(chunk.real_B_prev, chunk.flow)
            losses["F_Warp"] = self.masked_l1(warped_real, chunk.real_B, chunk.conf_ref) * self.weights["warp"]
            if self.use_weight_loss:
                losses["W"] = self.masked_l1(chunk.weight, torch.zeros_like(chunk.weight), chunk.conf_ref)
        warped_prev = warp(chunk.fake_B_prev, chunk.flow_ref).detach()
        losses["G_Warp"] = self.masked_l1(chunk.fake_B, warped_prev, chunk.conf_ref) * self.weights["warp"]

        # D judges the final and the raw (hallucinated) output, each against the real pair
        real_pair = torch.cat([chunk.real_A, chunk.real_B], dim=1)
        for output in (chunk.fake_B, chunk.fake_B_raw):
            if self.vgg is not None:
                losses["G_VGG"] = losses["G_VGG"] + self.vgg(output, chunk.real_B) * self.weights["vgg"]
            g_gan, g_feat = self.generator_adversarial(nets.netD, real_pair,
                                                       torch.cat([chunk.real_A, output], dim=1))
            losses["G_GAN"] = losses["G_GAN"] + g_gan
            losses["G_GAN_Feat"] = losses["G_GAN_Feat"] + g_feat

        if self.add_face_disc:
            losses.update(self._face_losses(chunk, nets.netD_f, generator_side=True))
        for scale, groups in chunk.temporal.items():
            g_gan, g_feat = self.generator_adversarial(nets.temporal(scale), *temporal_inputs(groups))
            losses.update({f"G_T_GAN{scale}": g_gan, f"G_T_GAN_Feat{scale}": g_feat,
                           f"G_T_Warp{scale}": torch.zeros_like(g_gan)})
        return losses

    # ---- the discriminator steps ----------------------------------------------------------------
    def discriminator_losses(self, chunk: ChunkFrames, nets: Vid2VidDiscriminators) -> dict[str, torch.Tensor]:
        """D_real, D_fake (summed over the final and the raw output) and, with --add_face_disc, D_f_*."""
        zero = chunk.real_B.new_zeros(())
        losses = {"D_real": zero, "D_fake": zero}
        real_pair = torch.cat([chunk.real_A, chunk.real_B], dim=1)
        for output in (chunk.fake_B, chunk.fake_B_raw):
            d_real, d_fake = self.discriminator_adversarial(nets.netD, real_pair,
                                                            torch.cat([chunk.real_A, output], dim=1))
            losses["D_real"] = losses["D_real"] + d_real
            losses["D_fake"] = losses["D_fake"] + d_fake
        if self.add_face_disc:
            losses.update(self._face_losses(chunk, nets.netD_f, generator_side=False))
        return losses

    def temporal_discriminator_losses(self, chunk: ChunkFrames, nets: Vid2VidDiscriminators, scale: int
                                      ) -> dict[str, torch.Tensor]:
        """D_T_real<scale>, D_T_fake<scale> of a scale that has groups in this chunk."""
        d_real, d_fake = self.discriminator_adversarial(nets.temporal(scale), *temporal_inputs(chunk.temporal[scale]))
        return {f"D_T_real{scale}": d_real, f"D_T_fake{scale}": d_fake}

    def _face_losses(self, chunk: ChunkFrames, net: nn.Module, generator_side: bool) -> dict[str, torch.Tensor]:
        """The face D's terms on one box around the chunk's face pixels (zeros without a face); its G terms
        count double (official)."""
        names = FACE_G_TERMS if generator_side else ("D_f_real", "D_f_fake")
        box = face_box(chunk.real_A, self.face_side, self.openpose_only)
        if box is None:
            return dict.fromkeys(names, chunk.real_B.new_zeros(()))
        y0, y1, x0, x1 = box
        crop_A, crop_real, crop_fake = (t[:, :, y0:y1, x0:x1] for t in (chunk.real_A, chunk.real_B, chunk.fake_B))
        real, fake = torch.cat([crop_A, crop_real], dim=1), torch.cat([crop_A, crop_fake], dim=1)
        if generator_side:
            g_gan, g_feat = self.generator_adversarial(net, real, fake)
            return {"G_f_GAN": g_gan * self.weights["face"], "G_f_GAN_Feat": g_feat * self.weights["face"]}
        return dict(zip(names, self.discriminator_adversarial(net, real, fake)))


def generator_total(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    """loss_G: the frame terms, the face terms and each temporal scale's terms, added in the official order."""
    scales = sorted(int(match[1]) for name in losses if (match := re.fullmatch(r"G_T_GAN(\d+)", name)))
    names = [*FRAME_G_TERMS, *(FACE_G_TERMS if "G_f_GAN" in losses else ())]
    names += [f"{term}{s}" for s in scales for term in TEMPORAL_G_TERMS]
    total = losses[names[0]]
    for name in names[1:]:
        total = total + losses[name]
    return total


def discriminator_total(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    """loss_D = 0.5 (D_fake + D_real) [+ 0.5 (D_f_fake + D_f_real)]."""
    total = (losses["D_fake"] + losses["D_real"]) * 0.5
    if "D_f_fake" in losses:
        total = total + (losses["D_f_fake"] + losses["D_f_real"]) * 0.5
    return total


def temporal_discriminator_total(losses: dict[str, torch.Tensor], scale: int) -> torch.Tensor:
    """loss_D_T<scale> = 0.5 (D_T_fake<scale> + D_T_real<scale>)."""
    return (losses[f"D_T_fake{scale}"] + losses[f"D_T_real{scale}"]) * 0.5
