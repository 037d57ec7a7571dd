"""Tests of models/networks: official state_dict keys and shapes, generator and discriminator behaviour."""

from __future__ import annotations

import argparse
import glob
import json
import os

import pytest
import torch
import torch.nn as nn

from models.networks import factory
from models.networks.blocks import ResnetBlock, get_norm_layer, init_weights
from models.networks.discriminators import MultiscaleDiscriminator, NLayerDiscriminator
from models.networks.generators import CompositeGenerator, CompositeLocalGenerator
from models.networks.single_frame import GlobalGenerator, LocalEnhancer
from models.networks.warp import warp
from options.train_options import TrainOptions
from tests.conftest import OFFICIAL_KEYS_DIR

# flownet2.json lists FlowNet2's checkpoint, which is not built here
KEY_FILES = sorted(
    p for p in glob.glob(os.path.join(OFFICIAL_KEYS_DIR, "*.json")) if not p.endswith("flownet2.json")
)
batch_norm = get_norm_layer("batch")


def parse(flags: list[str], tmp_path) -> argparse.Namespace:
    return TrainOptions().parse(flags + ["--gpu_ids", "-1", "--checkpoints_dir", str(tmp_path)], save=False)


def build_all(opt) -> dict[str, nn.Module]:
    """The networks keyed by their official checkpoint file name."""
    nets = {f"latest_net_G{s}.pth": g for s, g in enumerate(factory.define_generators(opt))}
    nets.update({f"latest_net_{stem}.pth": d for stem, d in factory.define_discriminators(opt).items()})
    return nets


def shapes(net: nn.Module) -> dict[str, list[int]]:
    return {key: list(value.shape) for key, value in net.state_dict().items()}


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------------------------------------
# (a) official keys and shapes


def test_official_key_files_are_present():
    assert len(KEY_FILES) >= 30, f"no official key lists in {OFFICIAL_KEYS_DIR} (set VID2VID_OFFICIAL_KEYS)"


@pytest.mark.parametrize("path", KEY_FILES, ids=[os.path.basename(p) for p in KEY_FILES])
def test_state_dicts_match_official(path, tmp_path):
    with open(path) as f:
        spec = json.load(f)
    opt = parse(spec["flags"], tmp_path)
    # the official full-size models hold up to ~400M parameters: build them without storage
    device = "meta" if os.path.basename(path).startswith("official_") else "cpu"
    with torch.device(device):
        nets = build_all(opt)
    assert set(nets) == set(spec["files"])
    for file_name, expected in spec["files"].items():
        got = shapes(nets[file_name])
        if got != expected:
            missing = sorted(set(expected) - set(got))
            extra = sorted(set(got) - set(expected))
            wrong = {k: (got[k], expected[k]) for k in expected if k in got and got[k] != expected[k]}
            pytest.fail(f"{file_name}: missing {missing}, unexpected {extra}, "
                        f"wrong shapes (got, expected) {wrong}")


def test_official_sizes(tmp_path):
    """The parameter counts quoted in the reference (§3.5) for the official street and face models."""
    street = parse(["--label_nc", "35", "--use_instance", "--fg", "--n_scales_spatial", "3"], tmp_path)
    face = parse(["--dataset_mode", "face", "--input_nc", "15"], tmp_path)
    with torch.device("meta"):
        g0, g1, g2 = factory.define_generators(street)
        face_g0 = factory.define_generators(face)[0]
    assert round(n_params(g0) / 1e6, 1) == 411.3
    assert round(n_params(g1) / 1e6, 2) == 2.88
    assert round(n_params(g2) / 1e6, 2) == 0.86
    assert round(n_params(face_g0) / 1e6, 1) == 365.0


def test_input_channels(tmp_path):
    assert factory.input_channels(parse(["--label_nc", "35", "--use_instance"], tmp_path)) == 36
    assert factory.input_channels(parse(["--dataset_mode", "face", "--input_nc", "15"], tmp_path)) == 15
    assert factory.input_channels(parse(["--dataset_mode", "pose", "--input_nc", "6"], tmp_path)) == 6


# ----------------------------------------------------------------------------------------------------------
# (f) the concrete G0 of §3.5, and the init


def test_tiny_composite_generator_parameter_count():
    net = CompositeGenerator(9, 6, 3, ngf=8, n_downsampling=2, n_blocks=2, use_fg_model=False, no_flow=False,
                             norm_layer=batch_norm)
    assert n_params(net) == 106_254


def test_init_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(64, 64, 3), nn.ConvTranspose2d(64, 64, 3), nn.BatchNorm2d(4096))
    default_bias = net[0].bias.clone()
    net.apply(init_weights)
    for conv in net[:2]:
        assert abs(conv.weight.mean().item()) < 2e-3
        assert conv.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert torch.equal(net[0].bias, default_bias)  # biases keep the PyTorch default
    assert net[2].weight.mean().item() == pytest.approx(1.0, abs=2e-3)
    assert net[2].weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert torch.equal(net[2].bias, torch.zeros(4096))
    with torch.device("meta"):
        meta_net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    meta_net.apply(init_weights)
    assert meta_net[0].weight.is_meta


# ----------------------------------------------------------------------------------------------------------
# (b) generator forward passes on 64 x 32 frames

H, W = 32, 64
C_IN, T_G, OUT_NC = 3, 3, 3


def tiny_g0(**kwargs) -> CompositeGenerator:
    args = dict(input_nc=C_IN * T_G, prev_output_nc=OUT_NC * (T_G - 1), output_nc=OUT_NC, ngf=8,
                n_downsampling=2, n_blocks=2, use_fg_model=False, no_flow=False, norm_layer=batch_norm)
    args.update(kwargs)
    torch.manual_seed(0)
    net = CompositeGenerator(**args)
    net.apply(init_weights)
    return net


def inputs(n: int = 2, h: int = H, w: int = W) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    label = torch.randn(n, C_IN * T_G, h, w)
    # distinct previous frames, so that using the wrong one shows
    prev = torch.cat([torch.rand(n, OUT_NC, h, w) - 1, torch.rand(n, OUT_NC, h, w)], dim=1)
    return label, prev


def set_constant_flow(net: nn.Module, value: tuple[float, float]) -> None:
    """Makes the final flow conv output `value` (before the multiplier) everywhere."""
    conv = net.model_final_flow[1]
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.copy_(torch.tensor(value))


def test_g0_output_shapes():
    label, prev = inputs()
    img, flow, weight, raw, img_feat, flow_feat, fg_feat = tiny_g0()(label, prev)
    assert img.shape == raw.shape == (2, OUT_NC, H, W)
    assert flow.shape == (2, 2, H, W)
    assert weight.shape == (2, 1, H, W)
    assert img_feat.shape == flow_feat.shape == (2, 8, H, W)
    assert fg_feat is None
    assert 0 <= weight.min() and weight.max() <= 1
    assert raw.abs().max() <= 1


def test_g0_zero_flow_blends_raw_with_newest_previous_frame():
    net = tiny_g0()
    set_constant_flow(net, (0.0, 0.0))
    label, prev = inputs()
    img, flow, weight, raw, *_ = net(label, prev)
    assert torch.equal(flow, torch.zeros_like(flow))
    expected = raw * weight + prev[:, -OUT_NC:] * (1 - weight)
    torch.testing.assert_close(img, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", [0, 1, 2])
def test_flow_is_scaled_to_pixels(scale):
    if scale == 0:
        net = tiny_g0()
        coarse = {}
    else:
        torch.manual_seed(0)
        net = CompositeLocalGenerator(C_IN * T_G, OUT_NC * (T_G - 1), OUT_NC, ngf=4, n_downsampling=2,
                                      n_blocks_local=1, use_fg_model=False, no_flow=False,
                                      norm_layer=batch_norm, scale=scale)
        coarse = {"img_feat_coarse": torch.randn(2, 8, H // 2, W // 2),
                  "flow_feat_coarse": torch.randn(2, 8, H // 2, W // 2)}
    set_constant_flow(net, (0.05, -0.025))
    label, prev = inputs()
    img, flow, weight, raw, *_ = net(label, prev, **coarse)
    multiplier = 20 * 2**scale
    torch.testing.assert_close(flow[:, 0], torch.full((2, H, W), 0.05 * multiplier))
    torch.testing.assert_close(flow[:, 1], torch.full((2, H, W), -0.025 * multiplier))
    expected = raw * weight + warp(prev[:, -OUT_NC:], flow) * (1 - weight)
    torch.testing.assert_close(img, expected)
    assert not torch.allclose(img, raw)


def test_use_raw_only_still_returns_flow():
    label, prev = inputs()
    img, flow, weight, raw, *_ = tiny_g0()(label, prev, use_raw_only=True)
    assert torch.equal(img, raw)
    assert flow.shape == (2, 2, H, W) and weight.shape == (2, 1, H, W)


def test_no_flow_outputs_raw():
    net = tiny_g0(no_flow=True)
    assert not any(name.startswith(("model_res_flow", "model_up_flow", "model_final_flow", "model_final_w"))
                   for name in net.state_dict())
    label, prev = inputs()
    img, flow, weight, raw, img_feat, flow_feat, fg_feat = net(label, prev)
    assert torch.equal(img, raw)
    assert flow is None and weight is None and flow_feat is None
    assert img_feat.shape == (2, 8, H, W)


def test_foreground_composition_uses_mask():
    net = tiny_g0(use_fg_model=True)
    label, prev = inputs()
    ones = torch.ones(2, 1, H, W)
    img, flow, weight, raw, img_feat, flow_feat, fg_feat = net(label, prev, fg_mask=ones)
    assert fg_feat.shape == (2, 8, H, W)
    fg_image = net.indv_final(fg_feat)
    torch.testing.assert_close(img, fg_image)
    torch.testing.assert_close(raw, fg_image)

    img, flow, weight, raw, *_ = net(label, prev, fg_mask=torch.zeros(2, 1, H, W))
    torch.testing.assert_close(img, raw * weight + warp(prev[:, -OUT_NC:], flow) * (1 - weight))
    assert not torch.allclose(img, fg_image, atol=1e-3)

    half = torch.zeros(2, 1, H, W)
    half[..., : W // 2] = 1
    img_half, *_ = net(label, prev, fg_mask=half)
    torch.testing.assert_close(img_half[..., : W // 2], fg_image[..., : W // 2])
    torch.testing.assert_close(img_half[..., W // 2 :], img[..., W // 2 :])


def test_foreground_needs_mask():
    label, prev = inputs()
    with pytest.raises(ValueError, match="fg_mask"):
        tiny_g0(use_fg_model=True)(label, prev)


@pytest.mark.parametrize("n_downsampling", [2, 3])
def test_coarse_to_fine_features_fit(n_downsampling):
    """G0 runs on the half-resolution inputs and hands its features to G1 at full resolution."""
    ngf = 8
    torch.manual_seed(0)
    g0 = tiny_g0(ngf=ngf, n_downsampling=n_downsampling, use_fg_model=True)
    g1 = CompositeLocalGenerator(C_IN * T_G, OUT_NC * (T_G - 1), OUT_NC, ngf // 2, n_downsampling,
                                 n_blocks_local=2, use_fg_model=True, no_flow=False, norm_layer=batch_norm,
                                 scale=1)
    g1.apply(init_weights)
    label, prev = inputs()
    half = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    mask = (torch.rand(2, 1, H, W) > 0.5).float()
    _, flow0, _, _, img_feat, flow_feat, fg_feat = g0(half(label), half(prev), fg_mask=half(mask))
    assert flow0.shape == (2, 2, H // 2, W // 2)
    coarse = {"img_feat_coarse": img_feat, "flow_feat_coarse": flow_feat, "fg_feat_coarse": fg_feat}
    img, flow, weight, raw, img_feat1, flow_feat1, fg_feat1 = g1(label, prev, fg_mask=mask, **coarse)
    ngf_fg = ngf // 2 // 2 if n_downsampling > 2 else ngf // 2
    assert img.shape == raw.shape == (2, OUT_NC, H, W)
    assert flow.shape == (2, 2, H, W) and weight.shape == (2, 1, H, W)
    assert img_feat1.shape == flow_feat1.shape == (2, ngf // 2, H, W)
    assert fg_feat1.shape == (2, ngf_fg, H, W)
    # the coarse features change the result
    other = g1(label, prev, fg_mask=mask, **{**coarse, "img_feat_coarse": torch.zeros_like(img_feat)})[3]
    assert not torch.allclose(raw, other)


# ----------------------------------------------------------------------------------------------------------
# (c) discriminators


def side_after_d(side: int, n_layers: int) -> list[int]:
    """Spatial side after each stage: stride-2 convs give side // 2 + 1, stride-1 convs side + 1."""
    sides = []
    for _ in range(n_layers):
        side = side // 2 + 1
        sides.append(side)
    sides += [side + 1, side + 2]
    return sides


@pytest.mark.parametrize("num_D", [2, 3])
@pytest.mark.parametrize("get_interm_feat", [True, False])
def test_multiscale_discriminator_outputs(num_D, get_interm_feat):
    n_layers, ndf = 3, 16
    torch.manual_seed(0)
    net = MultiscaleDiscriminator(6, ndf, n_layers, batch_norm, num_D, get_interm_feat)
    out = net(torch.randn(2, 6, 64, 64))
    assert len(out) == num_D
    for k, per_scale in enumerate(out):
        side = -(-64 // 2**k)  # AvgPool k3 s2 p1 gives ceil(side / 2)
        expected_sides = side_after_d(side, n_layers)
        if get_interm_feat:
            # finest first: scale k is sub-D num_D-1-k, whose width is ndf * 2**k (capped at 64)
            width = min(64, ndf * 2**k)
            assert [t.shape[1] for t in per_scale] == [width, 2 * width, 4 * width, 8 * width, 1]
            assert [t.shape[-1] for t in per_scale] == expected_sides
        else:
            assert len(per_scale) == 1
            assert per_scale[0].shape == (2, 1, expected_sides[-1], expected_sides[-1])


def test_multiscale_discriminator_runs_finest_input_on_last_sub_d():
    torch.manual_seed(0)
    net = MultiscaleDiscriminator(3, 8, 2, batch_norm, 2, get_interm_feat=False)
    x = torch.randn(1, 3, 32, 32)
    out = net(x)
    torch.testing.assert_close(out[0][0], net.layer1(x))
    x_half = nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    torch.testing.assert_close(out[1][0], net.layer0(x_half))


def test_nlayer_discriminator_widths_are_capped():
    with torch.device("meta"):
        net = NLayerDiscriminator(3, 256, 4, batch_norm, get_interm_feat=True)
    assert [getattr(net, f"model{j}")[0].out_channels for j in range(6)] == [256, 512, 512, 512, 512, 1]
    assert all(isinstance(getattr(net, f"model{j}")[-1], nn.LeakyReLU) for j in range(5))
    flat = NLayerDiscriminator(3, 8, 3, batch_norm, get_interm_feat=False)
    assert [i for i, m in enumerate(flat.model) if isinstance(m, nn.Conv2d)] == [0, 2, 5, 8, 11]
    convs = [m for m in flat.model if isinstance(m, nn.Conv2d)]
    assert all(m.kernel_size == (4, 4) and m.padding == (2, 2) for m in convs)


# ----------------------------------------------------------------------------------------------------------
# (d) ResnetBlock


def test_resnet_block_is_residual_without_final_activation():
    torch.manual_seed(0)
    block = ResnetBlock(4, batch_norm)
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(block(x), x + block.conv_block(x))
    with torch.no_grad():
        block.conv_block[6].weight.zero_()
        block.conv_block[6].bias.zero_()
    assert torch.equal(block(x), x)  # the identity path, negatives kept: no ReLU after the sum
    kinds = [type(m) for m in block.conv_block]
    assert kinds == [nn.ReflectionPad2d, nn.Conv2d, nn.BatchNorm2d, nn.ReLU,
                     nn.ReflectionPad2d, nn.Conv2d, nn.BatchNorm2d]


def test_norm_layers():
    assert isinstance(get_norm_layer("batch")(4), nn.BatchNorm2d)
    inorm = get_norm_layer("instance")(4)
    assert isinstance(inorm, nn.InstanceNorm2d) and not inorm.affine and inorm.track_running_stats
    with pytest.raises(ValueError, match="--norm"):
        get_norm_layer("group")


# ----------------------------------------------------------------------------------------------------------
# (e) single-frame (pix2pixHD) generators


def test_global_generator_keys_and_forward():
    instance = get_norm_layer("instance")
    net = GlobalGenerator(5, 3, 8, 3, 2, instance)
    keys = list(net.state_dict())
    assert keys[:3] == ["model.1.weight", "model.1.bias", "model.2.running_mean"]
    got = shapes(net)
    assert got["model.4.weight"] == [16, 8, 3, 3]
    assert got["model.10.weight"] == [64, 32, 3, 3]
    assert got["model.13.conv_block.1.weight"] == [64, 64, 3, 3]
    assert got["model.15.weight"] == [64, 32, 3, 3]  # ConvTranspose: (in, out, k, k)
    assert got["model.25.weight"] == [3, 8, 7, 7]
    assert net(torch.randn(1, 5, 32, 16)).shape == (1, 3, 32, 16)


def test_global_generator_caps_width():
    with torch.device("meta"):
        net = GlobalGenerator(3, 3, 512, 2, 1, batch_norm)
    got = shapes(net)
    assert got["model.4.weight"] == [1024, 512, 3, 3]
    assert got["model.7.weight"] == [1024, 1024, 3, 3]
    assert got["model.10.conv_block.1.weight"] == [1024, 1024, 3, 3]
    assert got["model.11.weight"] == [1024, 1024, 3, 3]  # ConvTranspose: (in, out, k, k)
    assert got["model.14.weight"] == [1024, 512, 3, 3]


@pytest.mark.parametrize("n_local_enhancers", [1, 2])
def test_local_enhancer_keys_and_forward(n_local_enhancers):
    instance = get_norm_layer("instance")
    net = LocalEnhancer(5, 3, 4, 2, 1, n_local_enhancers, 1, instance)
    prefixes = {key.split(".")[0] for key in net.state_dict()}
    expected = {"model"} | {f"model{n}_{i}" for n in range(1, n_local_enhancers + 1) for i in (1, 2)}
    assert prefixes == expected
    got = shapes(net)
    top = 4 * 2**n_local_enhancers
    assert got["model.1.weight"] == [top, 5, 7, 7]
    assert got["model1_1.1.weight"] == [top // 2, 5, 7, 7]
    last = f"model{n_local_enhancers}_2"
    # 1 res block, ConvT, Norm, ReLU, then the output layers ReflPad, Conv, Tanh (Tanh holds no keys)
    assert max(int(k.split(".")[1]) for k in got if k.startswith(last)) == 5
    assert got[f"{last}.5.weight"] == [3, 4, 7, 7]
    assert net(torch.randn(1, 5, 64, 32)).shape == (1, 3, 64, 32)


@pytest.mark.parametrize(
    ("load_size", "kind", "key", "shape"),
    [
        (512, GlobalGenerator, "model.10.weight", [512, 256, 3, 3]),
        (1024, GlobalGenerator, "model.13.weight", [1024, 512, 3, 3]),
        (2048, LocalEnhancer, "model1_1.1.weight", [32, 35, 7, 7]),
    ],
)
def test_define_single_frame_generator(tmp_path, load_size, kind, key, shape):
    opt = parse(["--label_nc", "35", "--loadSize", str(load_size), "--use_instance"], tmp_path)
    with torch.device("meta"):
        net = factory.define_single_frame_generator(opt)
    assert isinstance(net, kind)
    got = shapes(net)
    assert got[key] == shape
    assert got["model.1.weight"] == [64, 35, 7, 7]
    assert "model.2.weight" not in got  # instance norm: running statistics only
    assert factory.single_frame_checkpoint_path(opt) == os.path.join(
        str(tmp_path), "label2city_single", f"latest_net_G_{load_size}.pth"
    )


def test_define_single_frame_generator_errors(tmp_path):
    with pytest.raises(ValueError, match="--loadSize 256"):
        factory.define_single_frame_generator(parse(["--label_nc", "35", "--loadSize", "256"], tmp_path))
    with pytest.raises(ValueError, match="--dataset_mode face"):
        factory.define_single_frame_generator(parse(["--dataset_mode", "face", "--input_nc", "15"], tmp_path))
