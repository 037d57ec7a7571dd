"""util/flo.py and scripts/compute_flow.py (run with --flownet dis, so no network or weights are needed)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from models.flow.estimator import DISEstimator
from util.flo import read_flo, write_flo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "compute_flow.py")


@pytest.fixture(scope="module")
def compute_flow():
    spec = importlib.util.spec_from_file_location("compute_flow", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_png(path, array: np.ndarray) -> str:
    Image.fromarray(array).save(path)
    return str(path)


def texture_frames(n: int, height: int = 64, width: int = 96, step: int = 2) -> list[np.ndarray]:
    """`n` uint8 RGB frames of a smooth texture moving `step` pixels right per frame."""
    gen = torch.Generator().manual_seed(0)
    big = torch.rand(1, 3, height // 4 + 8, (width + n * step) // 4 + 8, generator=gen)
    big = F.interpolate(big, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    big = (big[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return [np.ascontiguousarray(big[8:8 + height, 8 + n * step - t * step:8 + n * step - t * step + width])
            for t in range(n)]


def test_flo_round_trip(tmp_path):
    flow = np.random.default_rng(0).normal(size=(5, 7, 2)).astype(np.float32)
    path = str(tmp_path / "f.flo")
    write_flo(path, flow)
    with open(path, "rb") as f:
        assert f.read(4) == b"PIEH"
    assert os.path.getsize(path) == 12 + 5 * 7 * 2 * 4
    back = read_flo(path)
    assert back.dtype == np.float32 and np.array_equal(back, flow)


def test_flo_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\(H, W, 2\)"):
        write_flo(str(tmp_path / "f.flo"), np.zeros((4, 4, 3)))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_flo(str(tmp_path / "missing" / "f.flo"), np.zeros((4, 4, 2)))
    (tmp_path / "bad.flo").write_bytes(b"not a flow file")
    with pytest.raises(ValueError, match="PIEH"):
        read_flo(str(tmp_path / "bad.flo"))
    write_flo(str(tmp_path / "cut.flo"), np.zeros((4, 4, 2)))
    (tmp_path / "cut.flo").write_bytes((tmp_path / "cut.flo").read_bytes()[:-8])
    with pytest.raises(ValueError, match="needs 140 bytes"):
        read_flo(str(tmp_path / "cut.flo"))


def test_pair_mode_writes_the_estimators_flow(compute_flow, tmp_path):
    first, second = texture_frames(2)
    a, b = save_png(tmp_path / "a.png", first), save_png(tmp_path / "b.png", second)
    out = str(tmp_path / "ab.flo")
    assert compute_flow.main(["--image1", a, "--image2", b, "--output", out, "--flownet", "dis",
                              "--visualize", "--device", "cpu"]) == 0
    flow = read_flo(out)
    expected, _ = DISEstimator()(compute_flow.load_image(a), compute_flow.load_image(b))
    assert flow.shape == (64, 96, 2)
    np.testing.assert_array_equal(flow, expected[0].permute(1, 2, 0).numpy())
    # frame b is frame a moved 2 px to the right, so a's pixels are found 2 px further right in b
    assert np.median(flow[8:-8, 8:-8, 0]) == pytest.approx(2, abs=0.2)
    assert Image.open(tmp_path / "ab.png").size == (96, 64)


def test_dataset_mode_writes_a_cache(compute_flow, tmp_path):
    for seq, count in (("seq_a", 3), ("city/seq_b", 2)):
        folder = tmp_path / "data" / "train_B" / seq
        folder.mkdir(parents=True)
        for t, frame in enumerate(texture_frames(count)):
            save_png(folder / f"{t:04d}.png", frame)
    assert compute_flow.main(["--dataroot", str(tmp_path / "data"), "--phase", "train", "--flownet", "dis",
                              "--device", "cpu"]) == 0
    cache = tmp_path / "data" / "train_flow"
    written = sorted(str(p.relative_to(cache)) for p in cache.rglob("*.flo"))
    assert written == ["city/seq_b/0001.flo", "seq_a/0001.flo", "seq_a/0002.flo"]
    # (current, previous): frame t-1 warped by the flow of frame t gives frame t; the texture moves right,
    # so frame t's pixels come from 2 px to the left in frame t-1
    flow = read_flo(str(cache / "seq_a" / "0002.flo"))
    assert np.median(flow[8:-8, 8:-8, 0]) == pytest.approx(-2, abs=0.2)


def test_bad_inputs_are_one_line_errors(compute_flow, tmp_path, capsys):
    first, _ = texture_frames(2)
    a = save_png(tmp_path / "a.png", first)
    small = save_png(tmp_path / "small.png", first[:32, :48])
    (tmp_path / "text.png").write_text("hello")
    cases = [
        (["--image1", a, "--image2", small, "--output", str(tmp_path / "o.flo"), "--flownet", "dis"], "same size"),
        (["--image1", a, "--image2", str(tmp_path / "text.png"), "--output", str(tmp_path / "o.flo"),
          "--flownet", "dis"], "not a readable image"),
        (["--image1", a, "--image2", a, "--output", str(tmp_path / "no" / "o.flo"), "--flownet", "dis"],
         "does not exist"),
        (["--image1", a, "--image2", a, "--output", str(tmp_path / "o.flo"),
          "--flownet_checkpoint", str(tmp_path / "none.pth.tar")], "--flownet_checkpoint"),
        (["--dataroot", str(tmp_path / "empty"), "--flownet", "dis"], "train_B"),
    ]
    for argv, fragment in cases:
        assert compute_flow.main(argv + ["--device", "cpu"]) == 1
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1, err


def test_command_line_exit_status(tmp_path):
    result = subprocess.run([sys.executable, SCRIPT, "--image1", "x.png", "--image2", "y.png",
                             "--output", str(tmp_path / "missing" / "o.flo"), "--flownet", "dis"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("compute_flow.py: error: --output") and result.stderr.count("\n") == 1
