"""An official-style checkpoint (official key names and shapes, no `num_batches_tracked`, as PyTorch 0.4.0
saved them) loads strictly, and test.py then gives the frames that the official forward defines.

The expected frames come from `tests/official_reference.py`, a functional re-statement of the official
generator that reads the weights by key and shares no code with the project.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

import test as test_script
from models.vid2vid.generator import Vid2VidGenerator
from models.vid2vid.inference import load_generator
from options.test_options import TestOptions
from options.train_options import TrainOptions
from tests.conftest import OFFICIAL_KEYS_DIR as KEYS_DIR
from tests.official_reference import FunctionalGenerator, encode, half
from util.state_dicts import CheckpointError, load_weights_file

FLAGS = ["--label_nc", "35", "--use_instance", "--fg", "--ngf", "16", "--n_downsample_G", "2", "--n_blocks", "2",
         "--n_blocks_local", "1", "--n_scales_spatial", "2", "--loadSize", "64", "--gpu_ids", "-1"]
N_FRAMES, H, W = 5, 32, 64


def random_official_state(shapes: dict[str, list[int]], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Random weights under the official names, without num_batches_tracked (PyTorch 0.4.0 files)."""
    state = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            continue
        if key.endswith("running_var"):
            value = torch.rand(shape, generator=generator) + 0.5
        elif key.endswith("running_mean"):
            value = torch.randn(shape, generator=generator)
        elif len(shape) == 1 and key.endswith("weight"):  # norm scale
            value = 1 + 0.2 * torch.randn(shape, generator=generator)
        else:
            value = 0.1 * torch.randn(shape, generator=generator)
        state[key] = value
    return state


@pytest.fixture(scope="module")
def official_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("official")
    rng = np.random.default_rng(0)
    labels = rng.choice([7, 11, 21, 23, 26], size=(N_FRAMES, H, W)).astype(np.uint8)
    labels[:, 10:20, 20:40] = 26  # a car block, so the foreground branch matters
    inst = labels.copy()
    inst[:, 10:20, 30:40] = 101
    images = rng.integers(0, 256, size=(N_FRAMES, H, W, 3), dtype=np.uint8)
    for folder, arrays in (("test_A", labels), ("test_inst", inst), ("test_B", images)):
        os.makedirs(root / folder / "clip")
        for t, array in enumerate(arrays):
            Image.fromarray(array).save(root / folder / "clip" / f"f{t:02d}.png")

    keys = json.load(open(os.path.join(KEYS_DIR, "street_s2.json")))["files"]
    exp = root / "checkpoints" / "official"
    os.makedirs(exp)
    g = torch.Generator().manual_seed(0)
    states = {}
    for scale in (0, 1):
        states[scale] = random_official_state(keys[f"latest_net_G{scale}.pth"], g)
        torch.save(states[scale], exp / f"latest_net_G{scale}.pth")
    return root, labels, inst, images, states


def expected_frames(labels, inst, images, states) -> list[torch.Tensor]:
    """The official recurrence: start from the real frames 0, 1; make frames 2..4 coarse to fine."""
    encoded = encode(torch.from_numpy(labels), torch.from_numpy(inst.astype(np.int64)), 35)  # (T, 36, H, W)
    # the loader's float32 arithmetic (ToTensor, then Normalize(0.5, 0.5)), so that both start from equal frames
    real = ((torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 0.5) / 0.5).to(torch.get_default_dtype())
    g0 = FunctionalGenerator(states[0], n_downsampling=2, n_blocks=2, scale=0)
    g1 = FunctionalGenerator(states[1], n_downsampling=2, n_blocks=0, scale=1, n_blocks_local=1)
    history = {0: [real[0:1], real[1:2]], 1: [half(real[0:1]), half(real[1:2])]}
    outputs = []
    for t in range(2, N_FRAMES):
        window = encoded[t - 2 : t + 1]  # (3, 36, H, W)
        coarse = half(window)
        mask = coarse[-1:, 26:27].clamp(0, 1)
        out0, feats = g0.forward(coarse.reshape(1, -1, H // 2, W // 2), torch.cat(history[1][-2:], 1), mask, None)
        out1, _ = g1.forward(window.reshape(1, -1, H, W), torch.cat(history[0][-2:], 1),
                             window[-1:, 26:27], feats)
        history[1].append(out0)
        history[0].append(out1)
        outputs.append(out1)
    return outputs


def expected_frames_float64(labels, inst, images, states) -> list[torch.Tensor]:
    """The reference in float64: the random network amplifies float32 round-off along the recurrence."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return expected_frames(labels, inst, images,
                               {s: {k: v.double() for k, v in st.items()} for s, st in states.items()})
    finally:
        torch.set_default_dtype(default)


def test_official_checkpoint_gives_official_frames(official_setup, tmp_path):
    root, labels, inst, images, states = official_setup
    opt = TestOptions().parse(["--dataroot", str(root), "--checkpoints_dir", str(root / "checkpoints"),
                               "--name", "official", "--use_real_img", "--results_dir", str(tmp_path), *FLAGS])

    # the frames as tensors, through the project's loader and generator, against the reference (float64)
    expected = expected_frames_float64(labels, inst, images, states)
    generator = load_generator(opt, torch.device("cpu")).double()
    prev = None
    for t, data in enumerate(test_script.create_dataloader(opt)):
        if prev is None:
            prev = generator.start_frames(data["A"].double(), data["B"].double(), True, None)
        fake, _, prev = generator.inference(data["A"].double(), data["inst"].double(), prev, use_raw_only=False)
        torch.testing.assert_close(fake, expected[t], atol=1e-9, rtol=0)
    assert len(expected) == N_FRAMES - 2

    # the files test.py writes (float32): the official names, the official uint8 mapping, JPEG
    save_dir = test_script.render(opt)
    assert sorted(os.listdir(os.path.join(save_dir, "clip"))) == sorted(
        [f"fake_B_f{t:02d}.jpg" for t in range(2, N_FRAMES)] + [f"real_A_f{t:02d}.png" for t in range(2, N_FRAMES)])
    first = expected_frames(labels, inst, images, states)[0]
    official = ((first[0].permute(1, 2, 0).numpy() + 1) / 2 * 255).clip(0, 255).astype(np.uint8)
    Image.fromarray(official).save(tmp_path / "expected.jpg")
    reference = np.asarray(Image.open(tmp_path / "expected.jpg"), dtype=np.int16)
    written = np.asarray(Image.open(os.path.join(save_dir, "clip", "fake_B_f02.jpg")), dtype=np.int16)
    assert np.abs(written - reference).max() <= 2


def test_eval_mode_would_not_match(official_setup):
    """Guards the faithful choice: with stored running statistics (eval mode) the frames differ."""
    root, labels, inst, images, states = official_setup
    expected = expected_frames(labels, inst, images, states)
    opt = TestOptions().parse(["--dataroot", str(root), "--checkpoints_dir", str(root / "checkpoints"),
                               "--name", "official", "--use_real_img", *FLAGS])
    generator = load_generator(opt, torch.device("cpu")).eval()
    data = next(iter(test_script.create_dataloader(opt)))
    prev = generator.start_frames(data["A"], data["B"], True, None)
    fake, _, _ = generator.inference(data["A"], data["inst"], prev, use_raw_only=False)
    assert (fake - expected[0]).abs().max() > 1e-2


@pytest.mark.parametrize("config", sorted(f for f in os.listdir(KEYS_DIR) if f.endswith(".json")
                                          and f != "flownet2.json" and not f.startswith("official_")))
def test_every_small_official_configuration_loads_strictly(config, tmp_path):
    """Random official-style G files of every small configuration load into the generator we build."""
    spec = json.load(open(os.path.join(KEYS_DIR, config)))
    opt = TrainOptions().parse([*spec["flags"], "--gpu_ids", "-1", "--checkpoints_dir", str(tmp_path)])
    generator = Vid2VidGenerator(opt)
    g = torch.Generator().manual_seed(0)
    for scale, net in enumerate(generator.scale_nets()):
        path = tmp_path / f"G{scale}.pth"
        torch.save(random_official_state(spec["files"][f"latest_net_G{scale}.pth"], g), path)
        load_weights_file(net, str(path))


def test_mismatched_checkpoint_names_the_key_and_both_shapes(official_setup, tmp_path):
    root, *_ = official_setup
    opt = TestOptions().parse(["--dataroot", str(root), "--checkpoints_dir", str(root / "checkpoints"),
                               "--name", "official", *FLAGS[:4], "--ngf", "32", *FLAGS[6:]])
    with pytest.raises(CheckpointError, match=r"latest_net_G0.pth does not fit CompositeGenerator: wrong shapes: "
                                              r"[\w.]+ \(\d+, .*\) instead of \(\d+, .*\)"):
        load_generator(opt, torch.device("cpu"))
