"""Training losses as small modules: LSGAN, discriminator feature matching, VGG perceptual, masked L1.

The networks hold no losses; a model package (e.g. `models/vid2vid/losses.py`) names and weights them.
Under mixed precision every reduction here runs in float32 (util/precision.py `float32_island`); the VGG
features themselves run in the autocast dtype.
"""

from __future__ import annotations

import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from util.precision import float32_island
from util.state_dicts import load_weights_file

# F.l1_loss in float32 under autocast (unchanged outside it)
l1_loss_float32 = float32_island(F.l1_loss)

# relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 of torchvision's VGG19 `features`, and their weights
VGG_SLICES = ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))
VGG_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


class GANLoss(nn.Module):
    """Least-squares GAN loss, summed over the scales of a multiscale discriminator.

    The official `--gan_mode` string is passed where a boolean was expected, so LSGAN is always used;
    this module keeps that behaviour.
    """

    @float32_island
    def forward(self, predictions: list[list[torch.Tensor]], target_is_real: bool) -> torch.Tensor:
        """predictions: per scale, the list of layer outputs (the last is the patch score map).

        Returns the sum over scales of mean((score - target)^2), target 1 for real and 0 for fake.
        """
        loss = predictions[0][-1].new_zeros(())
        for scale_outputs in predictions:
            score = scale_outputs[-1]
            target = torch.full_like(score, 1.0 if target_is_real else 0.0)
            loss = loss + F.mse_loss(score, target)
        return loss


class FeatureMatchingLoss(nn.Module):
    """pix2pixHD's discriminator feature matching: L1 between the intermediate D features of fake and real.

    Args:
        num_D: the number of scales of the *main* discriminator (the face D reuses this weight too).
        n_layers_D: PatchGAN depth; each layer's term is weighted 4 / (n_layers_D + 1).
        lambda_feat: overall weight.
    """

    def __init__(self, num_D: int, n_layers_D: int, lambda_feat: float):
        super().__init__()
        self.num_D = num_D
        self.weight = (1.0 / num_D) * (4.0 / (n_layers_D + 1)) * lambda_feat

    @float32_island
    def forward(self, pred_fake: list[list[torch.Tensor]], pred_real: list[list[torch.Tensor]]) -> torch.Tensor:
        loss = pred_fake[0][-1].new_zeros(())
        for fake_layers, real_layers in zip(pred_fake[: self.num_D], pred_real[: self.num_D]):
            # the final score map is excluded: it is what the GAN loss judges
            for fake, real in zip(fake_layers[:-1], real_layers[:-1]):
                loss = loss + self.weight * F.l1_loss(fake, real.detach())
        return loss


class MaskedL1Loss(nn.Module):
    """mean(|a*m - b*m|) over every element: masked-out pixels still count in the denominator (official)."""

    @float32_island
    def forward(self, prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """prediction, target: `(N, C, H, W)`; mask: `(N, 1, H, W)`, broadcast over channels."""
        mask = mask.expand_as(prediction)
        return F.l1_loss(prediction * mask, target * mask)


def load_vgg19_features(weights_path: str) -> nn.Sequential:
    """Returns torchvision VGG19's `features` with the ImageNet weights of a local state_dict file.

    Raises FileNotFoundError naming --vgg_weights when the file is missing (nothing is downloaded), and
    CheckpointError (a ValueError) naming it when the file is not a VGG19 state_dict.
    """
    from torchvision.models import vgg19

    if not weights_path or not os.path.isfile(weights_path):
        raise FileNotFoundError(
            f"--vgg_weights: VGG19 weights not found at '{weights_path}'. Pass the torchvision file "
            "vgg19-dcbe5ed3.pth (https://download.pytorch.org/models/vgg19-dcbe5ed3.pth) with --vgg_weights, "
            "or train with --no_vgg.")
    model = vgg19(weights=None)
    load_weights_file(model, weights_path, source=f"--vgg_weights {weights_path}", optional=())
    return model.features


class VGGLoss(nn.Module):
    """Perceptual loss on frozen VGG19 features (relu1_1 .. relu5_1), weights 1/32 .. 1.

    Inputs are the [-1, 1] images without ImageNet normalisation, as in the official code; while the
    width exceeds 1024 both images are halved with AvgPool2d(2) first.
    """

    def __init__(self, features: nn.Sequential):
        super().__init__()
        self.slices = nn.ModuleList(features[start:end] for start, end in VGG_SLICES)
        for param in self.parameters():
            param.requires_grad_(False)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """fake, real: `(N, 3, H, W)` in [-1, 1]. Returns a scalar."""
        while fake.shape[-1] > 1024:
            fake, real = F.avg_pool2d(fake, 2), F.avg_pool2d(real, 2)
        loss = fake.new_zeros(())
        for weight, layer in zip(VGG_WEIGHTS, self.slices):
            fake, real = layer(fake), layer(real)
            loss = loss + weight * l1_loss_float32(fake, real.detach())
        return loss
