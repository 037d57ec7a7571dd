"""Loss modules against hand-computed values."""

import pytest
import torch
import torch.nn as nn

from models.losses import FeatureMatchingLoss, GANLoss, MaskedL1Loss, VGGLoss, load_vgg19_features


def test_lsgan_sums_mean_squared_error_over_scales():
    scale0 = [torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5)]
    scale1 = [torch.full((1, 1, 1, 1), 2.0)]
    loss = GANLoss()
    assert loss([scale0, scale1], True).item() == pytest.approx((0.5 - 1) ** 2 + (2 - 1) ** 2)
    assert loss([scale0, scale1], False).item() == pytest.approx(0.5 ** 2 + 2 ** 2)


def test_feature_matching_weights_and_skips_final_layer():
    fake = [[torch.ones(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)], [torch.full((1, 1, 2, 2), 3.0), torch.ones(1, 1, 1, 1)]]
    real = [[torch.zeros(1, 2, 2, 2), torch.full((1, 1, 1, 1), 9.0)], [torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 1, 1)]]
    loss = FeatureMatchingLoss(num_D=2, n_layers_D=3, lambda_feat=10)
    weight = 0.5 * (4 / 4) * 10
    assert loss(fake, real).item() == pytest.approx(weight * (1.0 + 2.0))
    # only min(num_D, scales) scales count
    assert FeatureMatchingLoss(1, 3, 10)(fake, real).item() == pytest.approx(1.0 * 1 * 10 * 1.0)


def test_feature_matching_does_not_backpropagate_into_real_features():
    real = [[torch.ones(1, 1, 2, 2, requires_grad=True), torch.zeros(1, 1, 1, 1)]]
    fake = [[torch.zeros(1, 1, 2, 2, requires_grad=True), torch.zeros(1, 1, 1, 1)]]
    FeatureMatchingLoss(1, 3, 1)(fake, real).backward()
    assert real[0][0].grad is None and fake[0][0].grad is not None


def test_masked_l1_counts_masked_pixels_in_the_denominator():
    a = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # (1, 2, 1, 2)
    b = torch.zeros_like(a)
    mask = torch.tensor([[[[1.0, 0.0]]]])
    assert MaskedL1Loss()(a, b, mask).item() == pytest.approx((1 + 3) / 4)


def tiny_features() -> nn.Sequential:
    """A stand-in with VGG19's layer count, so the slices are exercised without the real weights."""
    layers = []
    for _ in range(30):
        layers.append(nn.Conv2d(3, 3, 1))
    return nn.Sequential(*layers)


def test_vgg_loss_weights_and_frozen_params():
    features = tiny_features()
    for conv in features:
        nn.init.dirac_(conv.weight)
        nn.init.zeros_(conv.bias)
    loss = VGGLoss(features)
    fake, real = torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    # identity layers: each slice gives |1 - 0| = 1, weighted 1/32 + 1/16 + 1/8 + 1/4 + 1
    assert loss(fake, real).item() == pytest.approx(1 / 32 + 1 / 16 + 1 / 8 + 1 / 4 + 1)
    assert not any(p.requires_grad for p in loss.parameters())


def test_vgg_loss_halves_inputs_wider_than_1024():
    loss = VGGLoss(tiny_features())
    seen = []
    loss.slices[0].register_forward_hook(lambda m, i, o: seen.append(i[0].shape[-1]))
    loss(torch.rand(1, 3, 4, 2050), torch.rand(1, 3, 4, 2050))
    assert seen == [512, 512]


def test_missing_vgg_weights_name_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--vgg_weights"):
        load_vgg19_features(str(tmp_path / "nope.pth"))


def test_vgg_weights_from_local_file(tmp_path):
    from torchvision.models import vgg19

    path = tmp_path / "vgg19.pth"
    torch.save(vgg19(weights=None).state_dict(), path)
    features = load_vgg19_features(str(path))
    assert len(features) == 37
    torch.save({"wrong": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="--vgg_weights"):
        load_vgg19_features(str(tmp_path / "bad.pth"))
