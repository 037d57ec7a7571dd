"""The metrics of evaluation/ on inputs whose answers are known: frame matching, PSNR / SSIM, the
flow-warping error and its occlusion mask, tOF, tLP, the Fréchet distances of FID and FVD, FVD's clips, and
the errors for missing weights files. (Networks with random weights: tests/test_metrics_networks.py.)"""

from __future__ import annotations

import math
import os

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from evaluation import flow_metrics, frames, fvd, perceptual, psnr_ssim, weights
from evaluation.fid import fid_from_features
from evaluation.scoring import DRIFT_WINDOW, Scorer, Settings, parse_metrics
from models.flow.estimator import DISEstimator


def moving_texture(n_frames: int = 6, width: int = 64, height: int = 32, step: int = 1, seed: int = 0) -> np.ndarray:
    """uint8 `(T, H, W, 3)`: a window sliding `step` pixels per frame to the right over a blurred noise image,
    so that the content moves `step` pixels left: frame_t(x) = frame_{t-1}(x + step)."""
    noise = np.random.RandomState(seed).randint(0, 256, (height, width + step * n_frames + 8, 3)).astype(np.uint8)
    texture = cv2.GaussianBlur(noise, (5, 5), 1.5)
    return np.stack([texture[:, 4 + step * t: 4 + step * t + width] for t in range(n_frames)])


def write_video(folder: str, video: np.ndarray, prefix: str = "", ext: str = "png", start: int = 0) -> None:
    """Frames `<folder>/<prefix><t:04d>.<ext>`, t counted from `start`."""
    os.makedirs(folder, exist_ok=True)
    for t, frame in enumerate(video, start):
        Image.fromarray(frame).save(os.path.join(folder, f"{prefix}{t:04d}.{ext}"))


# ---- PSNR and SSIM ----------------------------------------------------------------------------------------

def test_psnr_identical_frames_give_the_cap():
    frame = moving_texture(1)[0]
    assert psnr_ssim.psnr(frame, frame.copy()) == psnr_ssim.PSNR_CAP == 100.0


def test_psnr_of_a_one_pixel_shift_of_stripes():
    # columns alternate 100 / 151: shifted by one pixel every value is off by 51, so MSE = 51^2 and
    # PSNR = 20 log10(255 / 51) = 20 log10(5)
    stripes = np.where(np.arange(64) % 2 == 0, 100, 151).astype(np.uint8)[None, :, None].repeat(32, 0).repeat(3, 2)
    shifted = np.roll(stripes, 1, axis=1)
    assert psnr_ssim.psnr(shifted, stripes) == pytest.approx(20 * math.log10(5), abs=1e-9)
    # one level everywhere: 10 log10(255^2)
    assert psnr_ssim.psnr(stripes, stripes + 1) == pytest.approx(10 * math.log10(255**2), abs=1e-9)


def test_ssim_identical_and_flat_frames():
    frame = moving_texture(1)[0]
    assert psnr_ssim.ssim(frame, frame) == pytest.approx(1.0, abs=1e-12)
    # two flat images: no variance, so SSIM is the luminance term (2ab + c1) / (a^2 + b^2 + c1)
    a, b, c1 = 100.0, 110.0, (0.01 * 255) ** 2
    flat_a, flat_b = np.full((32, 64, 3), 100, np.uint8), np.full((32, 64, 3), 110, np.uint8)
    assert psnr_ssim.ssim(flat_a, flat_b) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-9)



def test_drift_columns_are_the_ssim_of_the_first_and_last_frames(tmp_path):
    """A result that is exact for its first frames and then fills with noise: SSIM first 10 = 1, SSIM last 10
    the mean of the per-frame SSIM of the last 10 frames, computed here frame by frame."""
    truth = moving_texture(24)
    noise = np.random.RandomState(1).randint(0, 256, truth.shape).astype(np.uint8)
    alpha = np.clip((np.arange(24) - 11) / 12, 0, 1)[:, None, None, None]
    result = np.round((1 - alpha) * truth + alpha * noise).astype(np.uint8)
    write_video(str(tmp_path / "res" / "s"), result)
    write_video(str(tmp_path / "gt" / "s"), truth)
    stems = tuple(f"{t:04d}" for t in range(24))
    seq = frames.Sequence("s", stems, tuple(str(tmp_path / "res" / "s" / f"{s}.png") for s in stems),
                          tuple(str(tmp_path / "gt" / "s" / f"{s}.png") for s in stems))
    row = Scorer(Settings(["ssim"], torch.device("cpu"))).score_runs([("r", [seq])])[0]
    assert row["ssim_first"] == pytest.approx(1.0)
    expected_last = np.mean([psnr_ssim.ssim(result[t], truth[t]) for t in range(14, 24)])
    assert row["ssim_last"] == pytest.approx(expected_last, rel=1e-9)
    assert row["ssim_last"] < 0.5 and DRIFT_WINDOW == 10


# ---- frames matched by name -------------------------------------------------------------------------------

def test_frames_matched_by_name_per_sequence(tmp_path):
    video = moving_texture(4)
    write_video(str(tmp_path / "gt" / "city" / "seq1"), video, ext="jpg")
    write_video(str(tmp_path / "gt" / "city" / "seq2"), video)
    # test.py's layout: the sequence's last path component, fake_B_ frames from frame 2 on, real_A_ beside
    write_video(str(tmp_path / "res" / "seq1"), video[2:], prefix="fake_B_", start=2)
    for t in (2, 3):
        Image.fromarray(video[t]).save(tmp_path / "res" / "seq1" / f"real_A_{t:04d}.png")
    (seq,) = frames.match_frames(str(tmp_path / "res"), str(tmp_path / "gt"))
    assert seq.name == "seq1" and seq.stems == ("0002", "0003")
    assert [os.path.basename(p) for p in seq.result_paths] == ["fake_B_0002.png", "fake_B_0003.png"]
    assert [os.path.basename(p) for p in seq.truth_paths] == ["0002.jpg", "0003.jpg"]

    copy = frames.copy_frame_sequences([seq], str(tmp_path / "gt"), given_index=1)[0]
    assert [os.path.basename(p) for p in copy.result_paths] == ["0001.jpg", "0001.jpg"] and copy.size == (64, 32)


def test_frames_errors_name_the_folder(tmp_path):
    write_video(str(tmp_path / "gt" / "a"), moving_texture(2))
    write_video(str(tmp_path / "res" / "a"), moving_texture(3))
    with pytest.raises(FileNotFoundError, match="--ground_truth .*no frame '0002'"):
        frames.match_frames(str(tmp_path / "res"), str(tmp_path / "gt"))
    with pytest.raises(FileNotFoundError, match="--results .*missing: not a directory"):
        frames.match_frames(str(tmp_path / "missing"), str(tmp_path / "gt"))
    write_video(str(tmp_path / "res2" / "b"), moving_texture(2))
    with pytest.raises(FileNotFoundError, match="no sequence folder matches results sequence 'b'"):
        frames.match_frames(str(tmp_path / "res2"), str(tmp_path / "gt"))


def test_runs_are_cut_to_their_common_frames():
    def seq(name, stems):
        return frames.Sequence(name, tuple(stems), tuple(f"r/{s}" for s in stems), tuple(f"g/{s}" for s in stems))

    a, b = frames.restrict_to_common([[seq("x", "123"), seq("y", "12")], [seq("x", "234")]], ["a", "b"])
    assert [s.stems for s in a] == [("2", "3")] and [s.stems for s in b] == [("2", "3")]
    assert a[0].result_paths == ("r/2", "r/3")
    with pytest.raises(ValueError, match="a, b have no frame"):
        frames.restrict_to_common([[seq("x", "1")], [seq("x", "2")]], ["a", "b"])


# ---- flow-warping error -----------------------------------------------------------------------------------

def constant_flow(dx: float, dy: float, n: int = 1, height: int = 4, width: int = 5) -> torch.Tensor:
    return torch.tensor([dx, dy], dtype=torch.float32).view(1, 2, 1, 1).expand(n, 2, height, width).clone()


def test_occlusion_mask_forward_backward_check():
    # consistent flows: every pixel is valid but the last column, whose backward flow leaves the frame
    mask = flow_metrics.occlusion_mask(constant_flow(1, 0), constant_flow(-1, 0))
    assert mask.sum() == 4 * 4 and mask[..., -1].sum() == 0
    # inconsistent: the round trip is 2 pixels long, |2|^2 = 4 > 0.01 * 2 + 0.5
    assert flow_metrics.occlusion_mask(constant_flow(1, 0), constant_flow(1, 0)).sum() == 0
    # Ruder et al.'s threshold with no motion back: 0.7^2 = 0.49 <= 0.01 * 0.49 + 0.5, 0.75^2 > 0.01 * 0.5625 + 0.5
    assert flow_metrics.occlusion_mask(constant_flow(0, 0), constant_flow(0.7, 0)).sum() == 20
    assert flow_metrics.occlusion_mask(constant_flow(0, 0), constant_flow(0.75, 0)).sum() == 0


def test_warping_error_hand_computed():
    # frame_t(x) = 10 (x + t) = frame_{t-1}(x + 1): under the backward flow +1 the warp explains every valid
    # pixel exactly (the last column, whose flow leaves the frame, is masked out)
    ramp = np.stack([np.tile((10 * (np.arange(5) + t)).astype(np.uint8)[None, :, None], (4, 1, 3)) for t in range(3)])
    exact = flow_metrics.TruthFlow(constant_flow(1, 0, 2), flow_metrics.occlusion_mask(constant_flow(1, 0, 2),
                                                                                        constant_flow(-1, 0, 2)))
    assert flow_metrics.warping_errors(ramp, exact) == [0.0, 0.0]
    # with no motion every pixel is off by 10 levels
    still = flow_metrics.TruthFlow(constant_flow(0, 0, 2), torch.ones(2, 1, 4, 5))
    assert flow_metrics.warping_errors(ramp, still) == pytest.approx([10 / 255, 10 / 255], abs=1e-7)
    # an empty mask gives NaN, which means leave out
    empty = flow_metrics.TruthFlow(constant_flow(0, 0, 2), torch.zeros(2, 1, 4, 5))
    assert all(math.isnan(v) for v in flow_metrics.warping_errors(ramp, empty))


@pytest.fixture(scope="module")
def translation():
    """A texture moving one pixel per frame, and its DIS flow."""
    video = moving_texture(6)
    return video, flow_metrics.truth_flow(video, DISEstimator())


def test_truth_flow_of_a_translation(translation):
    video, flow = translation
    # frame_t(x) = frame_{t-1}(x + 1): backward flow (+1, 0); its last column leaves the frame
    inner = flow.backward[..., 4:-4, 4:-4]
    assert inner[:, 0].median().item() == pytest.approx(1.0, abs=0.05)
    assert inner[:, 1].abs().median().item() < 0.05
    assert flow.mask[..., -1].sum() == 0 and flow.mask.mean().item() > 0.9
    floor = flow_metrics.warping_errors(video, flow)
    assert max(floor) < 0.01


def test_identical_video_is_at_the_floor_and_shuffled_frames_are_not(translation):
    video, flow = translation
    floor = flow_metrics.warping_errors(video, flow)
    assert flow_metrics.warping_errors(video.copy(), flow) == floor
    shuffled = video[[0, 3, 1, 5, 2, 4]]
    assert np.mean(flow_metrics.warping_errors(shuffled, flow)) > 10 * np.mean(floor)


def test_a_one_pixel_shift_of_the_output_costs_psnr_not_temporal_consistency(translation):
    video, flow = translation
    shifted = np.concatenate([video[:, :, :1], video[:, :, :-1]], axis=2)  # every frame one pixel to the right
    assert np.mean([psnr_ssim.psnr(s, v) for s, v in zip(shifted, video)]) < 35
    floor = np.mean(flow_metrics.warping_errors(video, flow))
    assert np.mean(flow_metrics.warping_errors(shifted, flow)) < floor + 0.002
    tof = flow_metrics.tof(flow_metrics.farneback_flows(shifted), flow_metrics.farneback_flows(video))
    assert np.mean(tof) < 0.2


# ---- tOF and tLP -------------------------------------------------------------------------------------------

def test_tof_zero_when_moving_as_the_truth_and_large_for_shuffled_or_still(translation):
    video, _ = translation
    real = flow_metrics.farneback_flows(video)
    assert flow_metrics.tof(flow_metrics.farneback_flows(video.copy()), real) == [0.0] * 5
    # a still video has no flow: tOF is the length of the truth's motion, one pixel
    still = flow_metrics.farneback_flows(np.repeat(video[:1], 6, axis=0))
    assert np.mean(flow_metrics.tof(still, real)) == pytest.approx(1.0, abs=0.15)
    shuffled = flow_metrics.farneback_flows(video[[0, 3, 1, 5, 2, 4]])
    assert np.mean(flow_metrics.tof(shuffled, real)) > 1.0


def test_tof_and_tlp_formulas():
    fake, real = np.zeros((1, 2, 2, 2), np.float32), np.zeros((1, 2, 2, 2), np.float32)
    fake[0, 0, 0] = (3, 4)  # one pixel of four off by a 3-4-5 vector
    assert flow_metrics.tof(fake, real) == [1.25]
    assert perceptual.tlp([0.1, 0.3], [0.2, 0.25]) == pytest.approx([0.1, 0.05])


# ---- Fréchet distances and FVD clips --------------------------------------------------------------------------

@pytest.mark.parametrize("distance", [fid_from_features, fvd.fvd_from_features])
def test_frechet_distance_of_shifted_features_is_the_squared_shift(distance):
    features = np.random.RandomState(0).randn(50, 8).astype(np.float32)
    shift = np.arange(8, dtype=np.float32) / 4  # same covariance: only |shift|^2 = 8.75 remains
    assert distance(features, features + shift) == pytest.approx(float((shift**2).sum()), rel=1e-4)
    assert abs(distance(features, features)) < 1e-4


def test_fvd_takes_the_first_16_frames_of_each_long_enough_sequence():
    def seq(name, n):
        stems = tuple(f"{i:03d}" for i in range(n))
        return frames.Sequence(name, stems, stems, stems)

    clips = fvd.select_clips([seq("a", 15), seq("b", 16), seq("c", 40)])
    assert [c.name for c in clips] == ["b", "c"] and all(c.stems == clips[0].stems for c in clips)
    assert clips[1].stems == tuple(f"{i:03d}" for i in range(16))
    assert [c.name for c in fvd.select_clips([seq("b", 16), seq("c", 40)], limit=1)] == ["b"]


# ---- options and missing weights ------------------------------------------------------------------------------

def test_metric_names():
    assert parse_metrics("tof, psnr") == ["psnr", "tof"]
    assert parse_metrics("all") == ["psnr", "ssim", "warp", "tof", "lpips", "tlp", "fid", "fvd"]
    with pytest.raises(ValueError, match="--metrics 'psnr,foo': unknown foo"):
        parse_metrics("psnr,foo")


@pytest.mark.parametrize(("flag", "where"), [("--fid_weights", "pt_inception-2015-12-05-6726825d.pth"),
                                             ("--fvd_weights", "i3d_torchscript.pt")])
def test_missing_weights_name_the_flag_and_the_source(tmp_path, flag, where):
    with pytest.raises(FileNotFoundError) as error:
        weights.require_file(str(tmp_path / "nothing.pth"), flag, "X")
    message = str(error.value)
    assert message.startswith(f"{flag} {tmp_path / 'nothing.pth'}: no such file") and where in message
    assert "\n" not in message
    with pytest.raises(FileNotFoundError, match=f"X needs {flag} PATH"):
        weights.require_file("", flag, "X")


def test_lpips_backbone_falls_back_to_torchvision_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"no --lpips_backbone and no .*alexnet-owt-7be5be79\.pth; .*"
                                                r"https://download\.pytorch\.org/models/alexnet-owt-7be5be79\.pth"):
        weights.lpips_backbone_path("alex", "")
    with pytest.raises(FileNotFoundError, match="--lpips_backbone /no/vgg.pth: no such file; LPIPS \\(vgg\\)"):
        weights.lpips_backbone_path("vgg", "/no/vgg.pth")
    cached = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    assert weights.lpips_backbone_path("alex", "") == str(cached)


def test_a_missing_metric_package_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"^--metrics fid needs the Python package torch-fidelity==0.4.0 "
                                         r"\(pip install torch-fidelity==0.4.0\)$"):
        weights.require_package("no_such_package_here", "fid", "torch-fidelity==0.4.0")
    assert weights.require_package("math", "x", "y").sqrt(4) == 2
