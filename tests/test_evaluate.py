"""scripts/evaluate.py and scripts/compare_runs.py on tiny generated results (64x32 frames): the tables, the
JSON, the side-by-side mp4, the untrained and copy-frame rows built from test.py's flags, and the one-line
errors for missing weights files."""

from __future__ import annotations

import importlib
import json
import os
import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from evaluation.scoring import METRICS
from tests.conftest import TINY_MODEL
from tests.test_metrics import moving_texture, write_video
from tests.test_metrics_networks import save_random_alexnet, save_random_i3d, save_random_inception
from util.cli import run_main

evaluate = importlib.import_module("scripts.evaluate")
compare_runs = importlib.import_module("scripts.compare_runs")
SHUFFLE = [0, 3, 1, 5, 2, 4]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    """Ground truth: sequences `a` and `b` of 6 moving frames. Run `same`: frames 2-5 of both, as test.py names
    them; run `shuffled`: `a` the same, `b` in shuffled order. And a random AlexNet for LPIPS."""
    root = tmp_path_factory.mktemp("tiny")
    videos = {"a": moving_texture(6, seed=0), "b": moving_texture(6, seed=1, step=2)}
    for name, video in videos.items():
        write_video(str(root / "gt" / name), video)
        write_video(str(root / "same" / name), video[2:], prefix="fake_B_", start=2)
        write_video(str(root / "shuffled" / name), (video if name == "a" else video[SHUFFLE])[2:], prefix="fake_B_",
                    start=2)
    save_random_alexnet(str(root / "alexnet.pth"))
    return {key: str(root / key) for key in ("gt", "same", "shuffled")} | {"alexnet": str(root / "alexnet.pth"),
                                                                          "root": str(root)}


def test_evaluate_tables_and_json(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    evaluate.main(["--results", tiny["shuffled"], "--ground_truth", tiny["gt"], "--run_label", "model",
                   "--metrics", "psnr,ssim,warp,tof,lpips,tlp", "--lpips_backbone", tiny["alexnet"], "--copy_frame",
                   "--extra_results", f"same={tiny['same']}", "--json", str(out / "s.json"),
                   "--markdown", str(out / "s.md"), "--device", "cpu"])
    printed = capsys.readouterr().out
    rows = json.loads((out / "s.json").read_text())["rows"]
    assert [r["model"] for r in rows] == ["model", "same", "copy the last real input frame (frame 1)"]
    model, same, copy = rows
    assert model["frames"] == same["frames"] == copy["frames"] == 8

    # identical frames: the PSNR cap, SSIM 1, LPIPS and tLP 0, tOF 0, the warping error of the ground truth
    for row, seq in ((model, "a"), (same, "a"), (same, "b")):
        values = row["per_sequence"][seq]
        assert (values["psnr"], values["ssim"], values["lpips"], values["tlp"], values["tof"]) == \
            (100.0, pytest.approx(1.0), 0.0, 0.0, 0.0)
        assert values["warp"] == values["warp_floor"] < 0.01
    # shuffled frames: a larger warping error than the truth's, and motion unlike the truth's
    shuffled = model["per_sequence"]["b"]
    assert shuffled["warp"] > 5 * shuffled["warp_floor"] and shuffled["tof"] > 1.0 and shuffled["tlp"] > 0
    # repeating frame 1 never moves: its tOF is the truth's motion, 1 pixel a frame in a, 2 in b
    assert copy["per_sequence"]["a"]["tof"] == pytest.approx(1.0, abs=0.2)
    assert copy["per_sequence"]["b"]["tof"] == pytest.approx(2.0, abs=0.4)
    # overall means are over all frames of both sequences
    assert model["psnr"] == pytest.approx((4 * 100.0 + 4 * shuffled["psnr"]) / 8)

    markdown = (out / "s.md").read_text()
    assert markdown.strip() in printed
    assert ("| model | PSNR (dB) ↑ | SSIM ↑ | SSIM first 10 ↑ | SSIM last 10 ↑ | LPIPS ↓ | warp error ↓ | "
            "warp error of GT | tOF ↓ | tLP ↓ | frames |") in markdown
    assert "sequence `a`:" in markdown and "sequence `b`:" in markdown
    assert "| same | 100.00 | 1.000 | 1.000 | 1.000 | 0.000 |" in markdown


def test_evaluate_from_test_options_with_untrained_and_copy_frame_rows(street_root, tmp_path):
    """Without --results / --ground_truth: test.py's folder and <dataroot>/test_B; the untrained row is rendered."""
    (seq,) = sorted(os.listdir(os.path.join(street_root, "test_B")))
    truth = os.path.join(street_root, "test_B", seq)
    rendered = tmp_path / "results" / "tiny" / "test_latest" / seq
    rendered.mkdir(parents=True)
    stems = sorted(os.path.splitext(f)[0] for f in os.listdir(truth))[2:]
    for stem in stems:  # a perfect model: the truth's own frames, under test.py's names
        shutil.copy(os.path.join(truth, f"{stem}.png"), rendered / f"fake_B_{stem}.png")
    evaluate.main(["--dataroot", street_root, "--name", "tiny", "--results_dir", str(tmp_path / "results"),
                   "--checkpoints_dir", str(tmp_path / "ckpt"), *TINY_MODEL, "--use_real_img",
                   "--untrained", "--copy_frame", "--metrics", "psnr,ssim", "--json", str(tmp_path / "t.json")])
    rows = json.loads((tmp_path / "t.json").read_text())["rows"]
    assert [r["model"] for r in rows] == ["trained (tiny, latest)", "untrained (random init, seed 0)",
                                          "copy the last real input frame (frame 1)"]
    assert all(r["frames"] == len(stems) for r in rows)
    perfect, untrained, copy = rows
    assert perfect["psnr"] == 100.0 and perfect["ssim"] == pytest.approx(1.0)
    assert untrained["psnr"] < 30 and untrained["ssim"] < 0.9
    assert copy["psnr"] < 100.0
    assert not (tmp_path / "ckpt").exists()  # the untrained model lived in a temporary folder


@pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:FutureWarning")
def test_evaluate_all_metrics_with_random_weight_networks(tmp_path):
    """Every metric end to end on the truth played backwards (a 16-frame sequence gives FVD one clip): FID,
    which sees the frames as a set, stays 0; FVD and the temporal metrics, which see the motion, do not."""
    video = moving_texture(16, seed=3)
    write_video(str(tmp_path / "gt" / "s"), video)
    write_video(str(tmp_path / "res" / "s"), video[::-1])
    save_random_alexnet(str(tmp_path / "alexnet.pth"))
    save_random_inception(str(tmp_path / "inception.pth"))
    save_random_i3d(str(tmp_path / "i3d.pt"))
    evaluate.main(["--results", str(tmp_path / "res"), "--ground_truth", str(tmp_path / "gt"), "--metrics", "all",
                   "--lpips_backbone", str(tmp_path / "alexnet.pth"), "--fid_weights", str(tmp_path / "inception.pth"),
                   "--fvd_weights", str(tmp_path / "i3d.pt"), "--json", str(tmp_path / "all.json")])
    (row,) = json.loads((tmp_path / "all.json").read_text())["rows"]
    assert set(METRICS) <= row.keys() and row["frames"] == 16 and row["fvd_clips"] == 1
    assert abs(row["fid"]) < 1e-3 and row["fvd"] > 1e-6
    # the content moves 1 pixel left a frame, the reversed video 1 pixel right: flows 2 pixels apart
    assert row["tof"] == pytest.approx(2.0, abs=0.3) and row["warp"] > 5 * row["warp_floor"]
    assert row["psnr"] < 40 and row["lpips"] > 0


@pytest.mark.parametrize(("metric", "message"), [
    ("fid", "error: FID needs --fid_weights PATH; get the FID Inception (pt_inception-2015-12-05)"),
    ("fvd", "error: FVD needs --fvd_weights PATH; get StyleGAN-V's I3D TorchScript i3d_torchscript.pt"),
])
def test_missing_weights_end_the_scripts_with_one_line(tiny, metric, message, capsys, monkeypatch):
    monkeypatch.delenv("VID2VID_TRACEBACK", raising=False)
    args = ["--ground_truth", tiny["gt"], "--metrics", f"psnr,{metric}"]
    for main in (lambda: evaluate.main(["--results", tiny["same"], *args]),
                 lambda: compare_runs.main(["--runs", tiny["same"], tiny["shuffled"], *args])):
        with pytest.raises(SystemExit) as exit_info:
            run_main(main)
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert error.startswith(message) and error.count("\n") == 1


def test_compare_runs_table_json_and_side_by_side_video(tiny, tmp_path, capsys):
    compare_runs.main(["--runs", tiny["same"], tiny["shuffled"], "--labels", "same", "shuffled", "--ground_truth",
                       tiny["gt"], "--copy_frame", "--metrics", "psnr,warp", "--json", str(tmp_path / "c.json"),
                       "--video_dir", str(tmp_path / "videos"), "--fps", "5", "--device", "cpu"])
    printed = capsys.readouterr().out
    rows = json.loads((tmp_path / "c.json").read_text())["rows"]
    assert [r["model"] for r in rows] == ["same", "shuffled", "copy the last real input frame (frame 1)"]
    assert rows[0]["psnr"] == 100.0 and rows[0]["warp"] == pytest.approx(rows[0]["warp_floor"])
    assert rows[1]["psnr"] < rows[0]["psnr"] and rows[1]["warp"] > 2 * rows[1]["warp_floor"]
    assert "| same | 100.00 |" in printed and "| shuffled |" in printed
    for seq in ("a", "b"):
        video = iio.imread(tmp_path / "videos" / f"{seq}.mp4")
        # 4 frames; ground truth | same | shuffled | copy frame, each 64x32
        assert video.shape == (4, 32, 4 * 64, 3)
        # the `same` panel shows the ground truth: the two left panels agree but for the labels and H.264
        gt_panel, same_panel = video[:, 16:, :64].astype(int), video[:, 16:, 64:128].astype(int)
        assert np.abs(gt_panel - same_panel).mean() < 6
    assert os.path.isfile(tmp_path / "videos" / "b.mp4") and f"video: {tmp_path / 'videos' / 'a.mp4'}" in printed


def test_compare_runs_needs_one_label_per_run(tiny):
    with pytest.raises(ValueError, match="--labels: expected one per run \\(2\\), got 1"):
        compare_runs.main(["--runs", tiny["same"], tiny["shuffled"], "--labels", "x", "--ground_truth", tiny["gt"]])


def test_device_flag_is_checked():
    with pytest.raises(ValueError, match="--device 'gpu0'"):
        evaluate.main(["--results", ".", "--ground_truth", ".", "--device", "gpu0"])
