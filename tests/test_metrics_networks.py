"""LPIPS, FID and FVD with networks of the right architecture and random weights, saved as local files by
the tests (no weights are downloaded anywhere), and the errors for missing or foreign weights files."""

from __future__ import annotations

import os
from unittest import mock

import lpips
import numpy as np
import pytest
import torch
import torch.nn as nn
import torchvision

from evaluation import fvd
from evaluation.fid import fid_from_features, inception_features, load_inception
from evaluation.i3d import InceptionI3d
from evaluation.perceptual import consecutive_lpips, load_lpips, lpips_distances
from tests.test_metrics import moving_texture
from util.state_dicts import CheckpointError


def save_random_alexnet(path: str) -> dict:
    torch.manual_seed(0)
    state = torchvision.models.alexnet().state_dict()
    torch.save(state, path)
    return state


def save_random_inception(path: str) -> None:
    """torch-fidelity's FID Inception with random weights (He init, so that the features do not vanish)."""
    import torch_fidelity.feature_extractor_inceptionv3 as inception

    torch.manual_seed(0)
    # build it without its weights: stop both the download and the load
    with mock.patch.object(inception, "load_state_dict_from_url", lambda *a, **k: None), \
            mock.patch.object(inception.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None):
        net = inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    torch.save(net.state_dict(), path)


class StyleGanVCall(nn.Module):
    """Stands in for StyleGAN-V's i3d_torchscript.pt: its call (uint8 (B, 3, T, H, W), rescale, resize,
    return_features) on our I3D, with the preprocessing of evaluation.fvd."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        assert rescale and resize and return_features
        return self.network(fvd.preprocess(x.permute(0, 2, 3, 4, 1)))


def save_random_i3d(state_dict_path: str, torchscript_path: str = "") -> None:
    """Our I3D with random weights (He init, so that the features do not vanish), as a state_dict and, when
    asked, as a TorchScript file called the way StyleGAN-V's is."""
    torch.manual_seed(0)
    network = InceptionI3d().eval()
    for module in network.modules():
        if isinstance(module, nn.Conv3d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    torch.save(network.state_dict(), state_dict_path)
    if torchscript_path:
        torch.jit.save(torch.jit.script(StyleGanVCall(network)), torchscript_path)


# ---- LPIPS --------------------------------------------------------------------------------------------------

def test_lpips_reads_the_backbone_file_and_is_zero_for_identical_frames(tmp_path):
    state = save_random_alexnet(str(tmp_path / "alexnet.pth"))
    model = load_lpips("alex", str(tmp_path / "alexnet.pth"))
    # lpips's slice2 holds torchvision's features.2-4; its linear layers are the ones the package ships
    assert torch.equal(model.net.slice2._modules["3"].weight, state["features.3.weight"])
    shipped = torch.load(os.path.join(os.path.dirname(lpips.__file__), "weights", "v0.1", "alex.pth"),
                         map_location="cpu")
    assert torch.equal(model.lin0.model[1].weight, shipped["lin0.model.1.weight"])

    video = moving_texture(3)
    assert lpips_distances(model, video, video.copy()) == [0.0, 0.0, 0.0]
    noisy = np.clip(video.astype(int) + np.random.RandomState(0).randint(-60, 61, video.shape), 0, 255)
    distances = lpips_distances(model, video, noisy.astype(np.uint8))
    assert all(d > 0 for d in distances)
    assert lpips_distances(model, noisy.astype(np.uint8), video) == pytest.approx(distances, rel=1e-5)
    steps = consecutive_lpips(model, video)
    assert len(steps) == 2 and steps[0] > 0


def test_lpips_refuses_a_backbone_of_another_network(tmp_path):
    torch.save(torchvision.models.squeezenet1_1().state_dict(), tmp_path / "squeeze.pth")
    with pytest.raises(CheckpointError, match="--lpips_backbone .*squeeze.pth does not fit AlexNet"):
        load_lpips("alex", str(tmp_path / "squeeze.pth"))


# ---- FID ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inception_file(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("fid") / "pt_inception-random.pth")
    save_random_inception(path)
    return path


def test_fid_end_to_end_with_torch_fidelitys_extractor_and_the_files_weights(inception_file):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    extractor = load_inception(inception_file)
    assert isinstance(extractor, FeatureExtractorInceptionV3)
    saved = torch.load(inception_file)
    assert all(torch.equal(value, saved[key]) for key, value in extractor.state_dict().items())
    real, fake = moving_texture(2, seed=0), moving_texture(2, seed=1)
    real_features, fake_features = inception_features(extractor, real), inception_features(extractor, fake)
    assert real_features.shape == (2, 2048) and real_features.std() > 0.01
    assert abs(fid_from_features(real_features, real_features.copy())) < 1e-4
    assert fid_from_features(fake_features, real_features) > 0.01


def test_fid_weights_of_another_network_are_refused(tmp_path):
    save_random_alexnet(str(tmp_path / "alexnet.pth"))
    with pytest.raises(CheckpointError, match="--fid_weights .*alexnet.pth does not fit the FID Inception"):
        load_inception(str(tmp_path / "alexnet.pth"))
    with pytest.raises(FileNotFoundError, match="--fid_weights .*: no such file; get the FID Inception"):
        load_inception(str(tmp_path / "missing.pth"))


# ---- FVD ----------------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:FutureWarning")
def test_fvd_i3d_as_state_dict_and_as_torchscript_give_the_same_features(tmp_path):
    state_dict, script = str(tmp_path / "i3d.pt"), str(tmp_path / "i3d_torchscript.pt")
    save_random_i3d(state_dict, script)
    clip = [moving_texture(16, seed=2)]
    from_state_dict = fvd.clip_features(fvd.load_i3d(state_dict), clip)
    from_script = fvd.clip_features(fvd.load_i3d(script), clip)
    assert from_state_dict.shape == (1, 400) and from_state_dict.std() > 0
    np.testing.assert_allclose(from_script, from_state_dict, rtol=1e-4, atol=1e-6)


def test_fvd_weights_errors(tmp_path):
    save_random_alexnet(str(tmp_path / "alexnet.pth"))
    with pytest.raises(CheckpointError, match="--fvd_weights .*alexnet.pth does not fit InceptionI3d"):
        fvd.load_i3d(str(tmp_path / "alexnet.pth"))
    (tmp_path / "junk.pt").write_text("not a network")
    with pytest.raises(CheckpointError, match="--fvd_weights .*junk.pt: not a readable PyTorch checkpoint"):
        fvd.load_i3d(str(tmp_path / "junk.pt"))
    with pytest.raises(FileNotFoundError, match="FVD needs --fvd_weights PATH; get StyleGAN-V's I3D"):
        fvd.load_i3d("")
