"""`--use_single_G` for faces (reference §3.8): the official keys and shapes of Global_with_z and Encoder,
their forward, the instance-wise averaging, features.npy and the nearest-feature lookup, and test.py
starting a sequence with the face first-frame model."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import test as test_script
from models.networks.blocks import get_norm_layer
from models.networks.factory import define_face_single_frame_networks
from models.networks.single_frame import FeatureEncoder, GlobalWithZ, region_means
from models.vid2vid.first_frames import (
    FaceFirstFrameModel,
    load_face_first_frame_model,
    load_feature_table,
    nearest_features,
)
from models.vid2vid.generator import Vid2VidGenerator
from models.vid2vid.inference import Vid2VidInference
from options.test_options import TestOptions
from options.train_options import TrainOptions
from tests.test_face_dataset import write_sequence


def conv(shapes: dict, key: str, out_nc: int, in_nc: int, k: int, transposed: bool = False) -> None:
    shapes[f"{key}.weight"] = [in_nc, out_nc, k, k] if transposed else [out_nc, in_nc, k, k]
    shapes[f"{key}.bias"] = [out_nc]


def instance_norm(shapes: dict, key: str, nc: int) -> None:
    shapes.update({f"{key}.running_mean": [nc], f"{key}.running_var": [nc], f"{key}.num_batches_tracked": []})


def official_global_with_z(n_blocks: int) -> dict[str, list[int]]:
    """Global_with_z(15, 3, nz 16, ngf 64, 3 downsamplings, instance norm), written out from its definition:
    input 15 + 16 = 31; widths 64, 128, 256, 512; res blocks of 512 + 16; first ConvT from 512 + 32."""
    s: dict[str, list[int]] = {}
    conv(s, "model_downsample.1", 64, 31, 7)
    instance_norm(s, "model_downsample.2", 64)
    for i, (a, b) in enumerate([(64, 128), (128, 256), (256, 512)]):
        conv(s, f"model_downsample.{4 + 3 * i}", b, a, 3)
        instance_norm(s, f"model_downsample.{5 + 3 * i}", b)
    for block in range(n_blocks):
        for j in (1, 5):
            conv(s, f"model_resnet.{block}.conv_block.{j}", 528, 528, 3)
            instance_norm(s, f"model_resnet.{block}.conv_block.{j + 1}", 528)
    for i, (a, b) in enumerate([(544, 256), (256, 128), (128, 64)]):
        conv(s, f"model_upsample.{3 * i}", b, a, 3, transposed=True)
        instance_norm(s, f"model_upsample.{3 * i + 1}", b)
    conv(s, "model_upsample_conv.1", 3, 80, 7)
    return s


def official_encoder() -> dict[str, list[int]]:
    """Encoder(3, 16, ngf 16, 4 downsamplings, instance norm): 16 -> 256 and back, then Conv7 to 16."""
    s: dict[str, list[int]] = {}
    conv(s, "model.1", 16, 3, 7)
    instance_norm(s, "model.2", 16)
    widths = [16, 32, 64, 128, 256]
    for i in range(4):
        conv(s, f"model.{4 + 3 * i}", widths[i + 1], widths[i], 3)
        instance_norm(s, f"model.{5 + 3 * i}", widths[i + 1])
    for i in range(4):
        conv(s, f"model.{16 + 3 * i}", widths[3 - i], widths[4 - i], 3, transposed=True)
        instance_norm(s, f"model.{17 + 3 * i}", widths[3 - i])
    conv(s, "model.29", 16, 16, 7)  # after ReflPad3 at index 28
    return s


def shapes(net: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in net.state_dict().items()}


def face_opt(tmp_path, *flags: str):
    return TrainOptions().parse(["--dataset_mode", "face", "--input_nc", "15", "--gpu_ids", "-1",
                                 "--checkpoints_dir", str(tmp_path), *flags], save=False)


def test_official_keys_and_shapes(tmp_path):
    with torch.device("meta"):
        net_g, net_e = define_face_single_frame_networks(face_opt(tmp_path))  # --n_blocks 9, as officially
    assert shapes(net_g) == official_global_with_z(9)
    assert shapes(net_e) == official_encoder()
    with pytest.raises(ValueError, match="takes 15 input channels .* not --input_nc 1"):
        define_face_single_frame_networks(face_opt(tmp_path, "--input_nc", "1", "--no_dist_map"))


def test_global_with_z_sees_z_at_input_bottleneck_and_output():
    torch.manual_seed(0)
    net = GlobalWithZ(5, 3, 4, 8, 2, 1, get_norm_layer("instance"))
    x, z = torch.randn(1, 5, 16, 16), torch.randn(1, 4, 16, 16)
    z4 = F.avg_pool2d(F.avg_pool2d(z, 3, 2, 1, count_include_pad=False), 3, 2, 1, count_include_pad=False)
    bottleneck = net.model_resnet(torch.cat([net.model_downsample(torch.cat([x, z], 1)), z4], 1))
    expected = net.model_upsample_conv(torch.cat([net.model_upsample(torch.cat([bottleneck, z4], 1)), z], 1))
    out = net(x, z)
    assert out.shape == (1, 3, 16, 16)
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(net(x, z + 1), out)


def test_region_means():
    features = torch.tensor([[[[1.0, 3.0], [5.0, 7.0]], [[0.0, 2.0], [4.0, 10.0]]]])  # (1, 2, 2, 2)
    regions = torch.tensor([[[[0.0, 0.0], [2.0, 0.0]]]])  # region 0: three pixels, region 2: one
    pooled = region_means(features, regions)
    torch.testing.assert_close(pooled, torch.tensor([[[[11 / 3, 11 / 3], [5.0, 11 / 3]], [[4.0, 4.0], [4.0, 4.0]]]]))
    encoder = FeatureEncoder(3, 2, 4, 2, get_norm_layer("instance"))
    out = encoder(torch.randn(1, 3, 8, 8), torch.zeros(1, 1, 8, 8))
    assert out.shape == (1, 2, 8, 8) and torch.allclose(out, out[:, :, :1, :1].expand_as(out))


def feature_table(n_images: int = 3, n_features: int = 2) -> dict[int, np.ndarray]:
    """Part p of image m has features (10 m + p, -m) and an area column."""
    return {p: np.array([[10.0 * m + p, -m] + [0.0] * (n_features - 2) + [0.5] for m in range(n_images)])
            for p in range(7)}


def test_nearest_features():
    table = feature_table()
    labels = torch.tensor([[[[0.0, 3.0], [3.0, 5.0]]]])  # parts 0, 3, 5 present
    # the frame's means: image 1 is nearest (parts 0, 3, 5 of image 1 are (10, -1), (13, -1), (15, -1))
    features = torch.zeros(1, 2, 2, 2)
    features[0, :, 0, 0] = torch.tensor([10.2, -1.0])
    features[0, :, 0, 1] = features[0, :, 1, 0] = torch.tensor([12.6, -1.1])
    features[0, :, 1, 1] = torch.tensor([15.0, -0.9])
    out = nearest_features(features, labels, table)
    assert out[0, :, 0, 0].tolist() == [10.0, -1.0] and out[0, :, 0, 1].tolist() == [13.0, -1.0]
    assert out[0, :, 1, 1].tolist() == [15.0, -1.0]
    # absent parts do not count: a far-off table entry for part 6 changes nothing
    table[6][1, :2] = [1e6, 1e6]
    assert torch.equal(nearest_features(features, labels, table), out)


def test_feature_table_files(tmp_path):
    path = tmp_path / "features.npy"
    np.save(path, feature_table(4, 16), allow_pickle=True)
    table = load_feature_table(str(path))
    assert sorted(table) == list(range(7)) and table[3].shape == (4, 17) and table[3][2, 0] == 23
    # a numpy 1 / Python 2 style pickle (module numpy.core.multiarray, protocol 2) loads too
    data = pickle.dumps(np.array(feature_table(2, 16), dtype=object), protocol=2)
    old = tmp_path / "old.npy"
    with open(old, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
        f.write(data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert load_feature_table(str(old))[6].shape == (2, 17)
    np.save(tmp_path / "short.npy", {p: np.zeros((2, 17)) for p in range(6)}, allow_pickle=True)
    with pytest.raises(ValueError, match=r"short\.npy must hold a dict of part ids 0\.\.6"):
        load_feature_table(str(tmp_path / "short.npy"))
    np.save(tmp_path / "plain.npy", np.zeros((7, 17)))
    with pytest.raises(ValueError, match=r"plain\.npy: it holds a plain array"):
        load_feature_table(str(tmp_path / "plain.npy"))


class _Payload:
    def __reduce__(self):
        return (os.mkdir, ("/tmp/vid2vid_pickle_ran",))


def test_feature_table_runs_no_pickled_code(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array({0: _Payload()}, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"evil\.npy: .*mkdir is not a numpy array part"):
        load_feature_table(str(path))
    assert not os.path.exists("/tmp/vid2vid_pickle_ran")


def random_weights(net: torch.nn.Module, path, seed: int, skipped=("running_mean", "running_var")) -> None:
    """Random official-style weights, without num_batches_tracked (PyTorch 0.4.0 files) and, by default,
    without the norms' statistics (pix2pixHD-style instance norms have none)."""
    g = torch.Generator().manual_seed(seed)
    state = {k: 0.05 * torch.randn(v.shape, generator=g).abs() for k, v in net.state_dict().items()
             if not k.endswith((*skipped, "num_batches_tracked"))}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(state, path)


@pytest.fixture(scope="module")
def single_g_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("single")
    write_sequence(root, "test", "clip", 4)
    flags = ["--dataroot", str(root), "--dataset_mode", "face", "--input_nc", "15", "--loadSize", "160",
             "--ngf", "8", "--n_downsample_G", "2", "--n_blocks", "1", "--gpu_ids", "-1",
             "--checkpoints_dir", str(root / "ck"), "--name", "face", "--results_dir", str(root / "results")]
    opt = TestOptions().parse([*flags, "--use_single_G"])
    generator = Vid2VidGenerator(opt)
    random_weights(generator.netG0, root / "ck" / "face" / "latest_net_G0.pth", 0, skipped=())
    net_g, net_e = define_face_single_frame_networks(opt)
    random_weights(net_g, root / "ck" / "edge2face_single" / "latest_net_G.pth", 1)
    random_weights(net_e, root / "ck" / "edge2face_single" / "latest_net_E.pth", 2)
    np.save(root / "ck" / "edge2face_single" / "features.npy", feature_table(5, 16), allow_pickle=True)
    return opt


def test_sequences_start_with_the_face_first_frame_model(single_g_setup):
    opt = single_g_setup
    model = load_face_first_frame_model(opt, torch.device("cpu"))
    assert isinstance(model, FaceFirstFrameModel)
    inference = Vid2VidInference(opt, torch.device("cpu"))
    data = next(iter(test_script.create_dataloader(opt)))
    # the first tG - 1 frames: G(face input, the nearest features of E(real frame, part labels))
    expected = []
    for i in range(2):
        features = nearest_features(model.netE(data["B"][:, i], data["inst"][:, i]), data["inst"][:, i],
                                    model.table)
        expected.append(model.netG(data["A"][:, i], features))
    with torch.no_grad():
        frames = inference.generator.start_frames(data["A"], data["B"], False, inference.single_frame_G,
                                                  data["inst"])
    torch.testing.assert_close(frames[0], torch.stack(expected, dim=1).detach())
    inference.next_frame(data)  # test.py's path: the window then slides past the first start frame
    torch.testing.assert_close(inference.prev_frames[0][:, 0], expected[1].detach())
    save_dir = test_script.render(opt)
    assert sorted(os.listdir(os.path.join(save_dir, "clip")))[:2] == ["fake_B_00002.jpg", "fake_B_00003.jpg"]
    assert os.path.isfile(os.path.join(save_dir, "videos", "clip.mp4"))


def test_missing_single_g_file_is_named(single_g_setup, tmp_path):
    opt = TestOptions().parse(["--dataroot", single_g_setup.dataroot, "--dataset_mode", "face", "--input_nc", "15",
                               "--gpu_ids", "-1", "--checkpoints_dir", str(tmp_path), "--use_single_G"])
    with pytest.raises(FileNotFoundError, match=r"edge2face_single/latest_net_G\.pth' not found"):
        load_face_first_frame_model(opt, torch.device("cpu"))
