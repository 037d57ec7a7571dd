"""FlowNet2 (models/flow/flownet2.py) and the (flow, conf) estimators (models/flow/estimator.py).

The 162M-parameter network is built once per session (module fixture) from a random checkpoint written with
the official key names; everything else uses the meta device, stubs or DIS.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
import torch.nn as nn

from models.flow.cache import CachedFlowEstimator
from models.flow.estimator import (
    DISEstimator,
    FlowNet2Estimator,
    brightness_confidence,
    create_flow_estimator,
)
from models.flow.flownet2 import FlowNet2
from models.networks.warp import warp
from tests.conftest import OFFICIAL_KEYS_DIR

N_PARAMS = 162_518_834


@pytest.fixture(scope="module")
def official_shapes() -> dict[str, list[int]]:
    """The keys and shapes of the official FlowNet2_checkpoint.pth.tar state_dict."""
    with open(os.path.join(OFFICIAL_KEYS_DIR, "flownet2.json")) as f:
        return json.load(f)["files"]["FlowNet2_checkpoint.pth.tar"]


def random_state_dict(shapes: dict[str, list[int]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights with the official keys, scaled by 1/sqrt(fan-in) so activations stay moderate."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in shapes.items():
        scale = 0.01 if len(shape) == 1 else int(np.prod(shape[1:])) ** -0.5
        state[key] = torch.randn(shape, generator=gen) * scale
    return state


def write_checkpoint(path, state_dict) -> str:
    torch.save({"state_dict": state_dict}, path)
    return str(path)


@pytest.fixture(scope="module")
def checkpoint_sums(official_shapes, tmp_path_factory):
    """(path of a random official-format checkpoint, per-key sums of its tensors)."""
    state = random_state_dict(official_shapes)
    sums = {k: v.double().sum().item() for k, v in state.items()}
    return write_checkpoint(tmp_path_factory.mktemp("flownet2") / "FlowNet2_checkpoint.pth.tar", state), sums


@pytest.fixture(scope="module")
def estimator(checkpoint_sums):
    path, _ = checkpoint_sums
    est = FlowNet2Estimator(path)
    os.remove(path)  # 650 MB; the estimator holds the weights now
    return est


def frames(*shape, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=gen) * 2 - 1, torch.rand(shape, generator=gen) * 2 - 1


def test_module_names_and_shapes_are_official(official_shapes):
    with torch.device("meta"):
        net = FlowNet2()
    state = net.state_dict()
    assert list(state) == list(official_shapes)
    assert all(list(t.shape) == official_shapes[k] for k, t in state.items())
    assert sum(t.numel() for t in state.values()) == N_PARAMS
    counts = {name: sum(p.numel() for p in getattr(net, name).parameters())
              for name in ("flownetc", "flownets_1", "flownets_2", "flownets_d", "flownetfusion")}
    assert counts == {"flownetc": 39_175_298, "flownets_1": 38_695_322, "flownets_2": 38_695_322,
                      "flownets_d": 45_371_666, "flownetfusion": 581_226}


def test_checkpoint_loads_strictly_with_its_values(estimator, checkpoint_sums):
    _, sums = checkpoint_sums
    loaded = estimator.flownet2.state_dict()
    assert set(loaded) == set(sums)
    for key, total in sums.items():
        assert loaded[key].device.type == "cpu" and loaded[key].dtype == torch.float32
        assert loaded[key].double().sum().item() == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert not any(p.requires_grad for p in estimator.parameters())


def test_flownet2_at_256x128_on_cpu(estimator):
    im1, im2 = frames(1, 3, 128, 256)
    flow, conf = estimator(im1, im2)
    assert flow.shape == (1, 2, 128, 256) and conf.shape == (1, 1, 128, 256)
    assert torch.isfinite(flow).all() and not flow.requires_grad
    assert set(conf.unique().tolist()) <= {0.0, 1.0}  # no resize: the official binary mask
    torch.testing.assert_close(conf, brightness_confidence(im1, warp(im2, flow)))
    assert not estimator.training and not estimator.train().training  # stays frozen


def test_flownet2_five_d_input_and_resize_path(estimator):
    im1, im2 = frames(1, 2, 3, 120, 200, seed=1)  # 120x200 runs at 64x192
    flow, conf = estimator(im1, im2)
    assert flow.shape == (1, 2, 2, 120, 200) and conf.shape == (1, 2, 1, 120, 200)
    assert torch.isfinite(flow).all() and conf.min() >= 0 and conf.max() <= 1
    flow0, conf0 = estimator(im1[:, 0], im2[:, 0])
    # batch size changes the conv kernels' summation order a little; conf may flip near its threshold
    torch.testing.assert_close(flow[:, 0], flow0, rtol=1e-3, atol=1e-3)
    assert (conf[:, 0] - conf0).abs().mean() < 0.01


def test_flownet2_on_the_cpu_repeats_itself_so_the_flow_cache_is_exact(estimator):
    """--flow_cache_mb relies on it: the same call twice gives the same bits (and a cached call returns them)."""
    cached = CachedFlowEstimator(estimator, 2**20)
    im1, im2 = frames(2, 3, 64, 64, seed=2)
    first = cached(im1, im2)
    cached(im1[:1], im2[:1])
    again, fresh = cached(im1, im2), estimator(im1, im2)
    assert (cached.hits, cached.misses) == (1, 2)
    assert all(torch.equal(a, b) and torch.equal(a, c) for a, b, c in zip(first, again, fresh))


class ConstantFlow(nn.Module):
    """Stands in for FlowNet2: records its input size and returns a flow of (1, 1) pixel everywhere."""

    def forward(self, stacked):
        self.size = tuple(stacked.shape[-2:])
        return torch.ones(stacked.shape[0], 2, *self.size)


def test_resize_rescales_each_axis(estimator):
    stub, real = ConstantFlow(), estimator.flownet2
    estimator.flownet2 = stub
    try:
        flow, conf = estimator(*frames(1, 3, 120, 200))
    finally:
        estimator.flownet2 = real
    assert stub.size == (64, 192)
    torch.testing.assert_close(flow[0, 0], torch.full((120, 200), 200 / 192))
    torch.testing.assert_close(flow[0, 1], torch.full((120, 200), 120 / 64))
    assert conf.shape == (1, 1, 120, 200) and 0 <= conf.min() and conf.max() <= 1


def test_bad_inputs(estimator):
    with pytest.raises(ValueError, match="same size"):
        estimator(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 128))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        estimator(torch.zeros(1, 1, 64, 64), torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match="at least 64x64"):
        estimator(torch.zeros(1, 3, 32, 64), torch.zeros(1, 3, 32, 64))
    with pytest.raises(ValueError, match="multiples of 64"):
        estimator.flownet2(torch.zeros(1, 3, 2, 64, 96))


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    path = str(tmp_path / "nowhere.pth.tar")
    with pytest.raises(FileNotFoundError, match="--flownet_checkpoint") as info:
        create_flow_estimator("flownet2", path)
    assert path in str(info.value) and "download_models_flownet2.py" in str(info.value)
    assert "\n" not in str(info.value)


def test_checkpoint_with_wrong_keys_names_them(official_shapes, tmp_path):
    # zero-stride tensors: the right shapes at almost no cost on disk
    state = {k: torch.zeros(1).expand(shape) for k, shape in official_shapes.items()}
    del state["flownetc.conv1.0.weight"]
    state["flownetc.extra.weight"] = torch.zeros(1)
    state["flownetfusion.predict_flow0.bias"] = torch.zeros(3)
    path = write_checkpoint(tmp_path / "bad.pth.tar", state)
    with pytest.raises(ValueError) as info:
        FlowNet2Estimator(path)
    message = str(info.value)
    assert "--flownet_checkpoint" in message and "\n" not in message
    assert "missing keys: flownetc.conv1.0.weight" in message
    assert "unexpected keys: flownetc.extra.weight" in message
    assert "wrong shapes: flownetfusion.predict_flow0.bias (3,) instead of (2,)" in message


def test_files_that_are_not_checkpoints(tmp_path):
    text = tmp_path / "notes.pth.tar"
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        FlowNet2Estimator(str(text))
    torch.save({"model": {}}, tmp_path / "bare.pth")
    with pytest.raises(ValueError, match="'state_dict'"):
        FlowNet2Estimator(str(tmp_path / "bare.pth"))


def textured_pair(dx: int, dy: int, height: int = 96, width: int = 128):
    """A smooth random texture and the same texture moved so that im1(x, y) = im2(x + dx, y + dy)."""
    gen = torch.Generator().manual_seed(3)
    big = torch.rand(1, 3, height // 4 + 8, width // 4 + 8, generator=gen)
    big = nn.functional.interpolate(big, scale_factor=4, mode="bicubic", align_corners=False) * 2 - 1
    top, left = 16, 16
    im1 = big[..., top:top + height, left:left + width]
    im2 = big[..., top - dy:top - dy + height, left - dx:left - dx + width]
    return im1.clamp(-1, 1).contiguous(), im2.clamp(-1, 1).contiguous()


def test_dis_finds_a_known_shift_in_the_right_direction():
    im1, im2 = textured_pair(dx=3, dy=-2)
    flow, conf = create_flow_estimator("dis", "unused")(im1, im2)
    assert isinstance(flow, torch.Tensor) and flow.shape == (1, 2, 96, 128) and conf.shape == (1, 1, 96, 128)
    inner = (slice(None), slice(None), slice(16, -16), slice(16, -16))
    assert flow[inner][:, 0].median().item() == pytest.approx(3, abs=0.1)
    assert flow[inner][:, 1].median().item() == pytest.approx(-2, abs=0.1)
    error_warped = (warp(im2, flow) - im1)[inner].abs().mean()
    assert error_warped < 0.25 * (im2 - im1)[inner].abs().mean()
    torch.testing.assert_close(conf, brightness_confidence(im1, warp(im2, flow)))
    assert conf[inner].mean() > 0.8


def test_dis_shares_the_contract():
    im1, im2 = textured_pair(dx=1, dy=1)
    five_d = torch.stack((im1, im1), 1), torch.stack((im2, im2), 1)
    flow, conf = DISEstimator()(*five_d)
    assert flow.shape == (1, 2, 2, 96, 128) and conf.shape == (1, 2, 1, 96, 128)
    assert flow.dtype == torch.float32 and not flow.requires_grad
    with pytest.raises(ValueError, match="--flownet 'pwc'"):
        create_flow_estimator("pwc", "unused")
