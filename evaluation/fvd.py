"""FVD (Unterthiner et al. 2018) with StyleGAN-V's protocol (Skorokhodov et al. 2022).

FVD compares the distribution of generated clips with that of real clips: the Fréchet distance between
Gaussians fitted to I3D features (Kinetics-400 logits) of 16-frame clips; it sees appearance and motion
together. Lower is better; 0 for identical sets. StyleGAN-V's protocol fixes what the original left open: clips
of 16 consecutive frames, one per video, as many videos as there are up to 2048, videos shorter than a clip
left out, the mean and the covariance over the clips (covariance normalised by N) and the matrix square root of
scipy. Here the clip of a sequence is its first 16 scored frames, on both sides (StyleGAN-V draws the real
clip at a random offset; our generated and real videos are paired, and a fixed offset makes the number
repeatable). With few videos (a test set of 2) the number says little; compare only equal counts.

The network is a local file, `--fvd_weights`:
- a TorchScript file, StyleGAN-V's `i3d_torchscript.pt` (the tf.hub I3D of the original FVD code), called as
  StyleGAN-V calls it: uint8 `(B, 3, T, H, W)`, rescale=True, resize=True, return_features=True;
- or a state_dict of `evaluation.i3d.InceptionI3d` (pytorch-i3d's key names): frames resized to 224x224
  (bilinear) and scaled to [-1, 1] here. These are other weights than tf.hub's, so their FVDs are not
  comparable with StyleGAN-V's numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from evaluation.frames import Sequence
from evaluation.i3d import InceptionI3d
from evaluation.weights import require_file, require_package
from util.state_dicts import load_weights_file

CLIP_LENGTH, MAX_CLIPS, I3D_SIZE = 16, 2048, 224
# clips per forward pass of I3D
I3D_BATCH = 4

# uint8 clips (B, T, H, W, 3) -> features (B, D)
ClipFeatures = Callable[[torch.Tensor], torch.Tensor]


def select_clips(sequences: list[Sequence], length: int = CLIP_LENGTH, limit: int = MAX_CLIPS) -> list[Sequence]:
    """One clip per sequence: its first `length` frames; sequences shorter than that are left out; at most
    `limit` clips (the first sequences in name order)."""
    clips = []
    for seq in sequences:
        if len(seq.stems) >= length and len(clips) < limit:
            clips.append(replace(seq, stems=seq.stems[:length], result_paths=seq.result_paths[:length],
                                 truth_paths=seq.truth_paths[:length]))
    return clips


def _torchscript_or_none(path: str, device: torch.device | str) -> torch.jit.ScriptModule | None:
    """The TorchScript module in `path`, or None for a file that holds none (a plain torch.save file)."""
    with warnings.catch_warnings():  # TorchScript is deprecated in PyTorch, but StyleGAN-V's I3D is one
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return torch.jit.load(path, map_location=device).eval()
        except RuntimeError:
            return None


def load_i3d(path: str, device: torch.device | str = "cpu") -> ClipFeatures:
    """The FVD feature function of `--fvd_weights` (a TorchScript file or an InceptionI3d state_dict).

    Raises FileNotFoundError naming --fvd_weights, or CheckpointError when a state_dict does not fit.
    """
    require_file(path, "--fvd_weights", "FVD")
    scripted = _torchscript_or_none(path, device)
    if scripted is not None:

        def scripted_features(clips: torch.Tensor) -> torch.Tensor:
            videos = clips.to(device).permute(0, 4, 1, 2, 3).contiguous()
            return scripted(videos, rescale=True, resize=True, return_features=True)

        return scripted_features
    network = InceptionI3d()
    load_weights_file(network, path, f"--fvd_weights {path}")
    network = network.to(device).eval().requires_grad_(False)

    def state_dict_features(clips: torch.Tensor) -> torch.Tensor:
        return network(preprocess(clips.to(device)))

    return state_dict_features


def preprocess(clips: torch.Tensor, size: int = I3D_SIZE) -> torch.Tensor:
    """uint8 `(B, T, H, W, 3)` -> float `(B, 3, T, size, size)` in [-1, 1] (bilinear resize of every frame).

    TorchScript-compatible (`size` is an argument because TorchScript cannot read module globals)."""
    batch, length = clips.shape[0], clips.shape[1]
    frames = clips.flatten(0, 1).permute(0, 3, 1, 2).float()
    frames = F.interpolate(frames, size=(size, size), mode="bilinear", align_corners=False)
    frames = frames / 127.5 - 1
    return frames.reshape(batch, length, 3, size, size).permute(0, 2, 1, 3, 4)


@torch.no_grad()
def clip_features(features: ClipFeatures | nn.Module, clips: list[np.ndarray]) -> np.ndarray:
    """Features of uint8 `(T, H, W, 3)` clips of one size: float64 `(N, D)`."""
    out = []
    for start in range(0, len(clips), I3D_BATCH):
        batch = torch.from_numpy(np.stack(clips[start:start + I3D_BATCH]))
        out.append(features(batch).double().cpu().numpy())
    return np.concatenate(out)


def fvd_from_features(fake: np.ndarray, real: np.ndarray) -> float:
    """Fréchet distance of two feature sets `(N, D)` as StyleGAN-V computes it (covariances over N)."""
    # imported here: scipy comes with the packages of LPIPS and FID; the default metrics do without it
    scipy_linalg = require_package("scipy.linalg", "fvd", "scipy")

    def stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = features.mean(axis=0)
        return mean, features.T @ features / len(features) - np.outer(mean, mean)

    (mu_fake, sigma_fake), (mu_real, sigma_real) = stats(fake), stats(real)
    with warnings.catch_warnings():  # fewer clips than features make singular covariances; the root still holds
        warnings.simplefilter("ignore", scipy_linalg.LinAlgWarning)
        root = scipy_linalg.sqrtm(sigma_fake @ sigma_real)
    return float(np.real(((mu_fake - mu_real) ** 2).sum() + np.trace(sigma_fake + sigma_real - 2 * root)))
