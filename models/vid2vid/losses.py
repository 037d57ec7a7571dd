"""vid2vid's loss terms by their official names, with weights from the options, and their totals (reference §4).

`chunk_losses` computes every term of a chunk. Each discriminator judges the real and the fake input
once, and both its own terms and G's come from those two forwards (the official code ran a third, on the
detached fake, for D's fake term): the trainer then backpropagates each network's total into that
network's parameters only (`backward(inputs=...)`), which gives exactly the gradients of the official
separate forwards. Each value is the weighted term the official code prints; `generator_total`,
`discriminator_total` and `temporal_discriminator_total` add them by name, in the official order.
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
# The four adversarial terms of one discriminator, by the names the per-frame and the face D use.
FRAME_TERMS = {"G_GAN": "G_GAN", "G_GAN_Feat": "G_GAN_Feat", "D_real": "D_real", "D_fake": "D_fake"}
FACE_TERMS = {"G_GAN": "G_f_GAN", "G_GAN_Feat": "G_f_GAN_Feat", "D_real": "D_f_real", "D_fake": "D_f_fake"}


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


@dataclass
class ChunkLosses:
    """A chunk's terms by network: G's, D's (with D_f's) and each active temporal scale's D_T terms."""

    generator: dict[str, torch.Tensor]
    discriminator: dict[str, torch.Tensor]
    temporal: dict[int, dict[str, torch.Tensor]]


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
    no_first_img, add_face_disc, openpose_only, dataset_mode, fineSize. vgg_features: torchvision VGG19
    `features`, or None with --no_vgg.
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
        self.face_data = opt.dataset_mode == "face"  # its face pixels are found another way (face_region.py)
        self.face_side = face_box_side(opt.fineSize)

    # ---- one discriminator, both sides -----------------------------------------------------------
    def adversarial(self, net: nn.Module, real: torch.Tensor, fake: torch.Tensor, terms: dict[str, str],
                    losses: ChunkLosses, g_weight: float = 1.0) -> None:
        """Adds D `net`'s four terms on conditioned inputs `(N, C, H, W)` to `losses` (summing into what is
        there), under the names `terms` maps 'G_GAN', 'G_GAN_Feat', 'D_real', 'D_fake' to.

        G's terms are multiplied by `g_weight`. The real features are only a feature-matching target for
        G (detached there). D's fake term uses the same forward as G's: backpropagated into D's parameters
        alone, it has the gradient of the official forward of the detached fake.
        """
        pred_real, pred_fake = net(real), net(fake)
        g_gan = self.gan(pred_fake, True)
        g_feat = (self.feature_matching(pred_fake, pred_real) if self.feature_matching is not None
                  else torch.zeros_like(g_gan))
        for side, name, value in (("generator", "G_GAN", g_gan), ("generator", "G_GAN_Feat", g_feat),
                                  ("discriminator", "D_real", self.gan(pred_real, True)),
                                  ("discriminator", "D_fake", self.gan(pred_fake, False))):
            if side == "generator" and g_weight != 1.0:
                value = value * g_weight
            target = getattr(losses, side)
            target[terms[name]] = target[terms[name]] + value if terms[name] in target else value

    # ---- every term of a chunk ------------------------------------------------------------------
    def chunk_losses(self, chunk: ChunkFrames, nets: Vid2VidDiscriminators) -> ChunkLosses:
        """Every G, D and D_T term of the chunk (reference §4.3-4.4), keyed by the official names."""
        zero = chunk.real_B.new_zeros(())
        losses = ChunkLosses(dict.fromkeys(("G_VGG", "G_GAN", "G_GAN_Feat", "G_Warp", "F_Flow", "F_Warp", "W"),
                                           zero), {"D_real": zero, "D_fake": zero}, {})
        g = losses.generator
        if chunk.flow is not None:
            g["F_Flow"] = self.masked_l1(chunk.flow, chunk.flow_ref, chunk.conf_ref) * self.weights["flow"]
            warped_real = warp(chunk.real_B_prev, chunk.flow)
            g["F_Warp"] = self.masked_l1(warped_real, chunk.real_B, chunk.conf_ref) * self.weights["warp"]
            if self.use_weight_loss:
                g["W"] = self.masked_l1(chunk.weight, torch.zeros_like(chunk.weight), chunk.conf_ref)
        warped_prev = warp(chunk.fake_B_prev, chunk.flow_ref).detach()
        g["G_Warp"] = self.masked_l1(chunk.fake_B, warped_prev, chunk.conf_ref) * self.weights["warp"]

        # D judges the final and the raw (hallucinated) output, each against the real pair
        real_pair = torch.cat([chunk.real_A, chunk.real_B], dim=1)
        for output in (chunk.fake_B, chunk.fake_B_raw):
            if self.vgg is not None:
                g["G_VGG"] = g["G_VGG"] + self.vgg(output, chunk.real_B) * self.weights["vgg"]
            self.adversarial(nets.netD, real_pair, torch.cat([chunk.real_A, output], dim=1), FRAME_TERMS, losses)
        if self.add_face_disc:
            self._face_losses(chunk, nets.netD_f, losses)
        for scale, groups in chunk.temporal.items():
            names = {term: f"{term.replace('_', '_T_', 1)}{scale}" for term in FRAME_TERMS}
            losses.temporal[scale] = {}
            per_scale = ChunkLosses(g, losses.temporal[scale], {})
            self.adversarial(nets.temporal(scale), *temporal_inputs(groups), names, per_scale)
            g[f"G_T_Warp{scale}"] = torch.zeros_like(g[f"G_T_GAN{scale}"])
        return losses

    def _face_losses(self, chunk: ChunkFrames, net: nn.Module, losses: ChunkLosses) -> None:
        """The face D's terms on one box around the chunk's face pixels (zeros without a face); its G terms
        count double (official)."""
        box = face_box(chunk.real_A, self.face_side, self.openpose_only, self.face_data)
        if box is None:
            zero = chunk.real_B.new_zeros(())
            losses.generator.update(dict.fromkeys(FACE_G_TERMS, zero))
            losses.discriminator.update({"D_f_real": zero, "D_f_fake": zero})
            return
        y0, y1, x0, x1 = box
        crop_A, crop_real, crop_fake = (t[:, :, y0:y1, x0:x1] for t in (chunk.real_A, chunk.real_B, chunk.fake_B))
        self.adversarial(net, torch.cat([crop_A, crop_real], dim=1), torch.cat([crop_A, crop_fake], dim=1),
                         FACE_TERMS, losses, g_weight=self.weights["face"])


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
