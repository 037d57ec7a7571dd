"""FID over frames (Heusel et al. 2017) with torch-fidelity's Inception feature extractor.

FID compares the distribution of the generated frames with that of the ground-truth frames, each frame an
independent sample: the Fréchet distance between two Gaussians fitted to the 2048-d pool features of the
Inception network of TensorFlow's FID code (`pt_inception-2015-12-05`, the weights every FID paper uses, as a
local file: `--fid_weights`). torch-fidelity's extractor resizes each uint8 frame to 299x299 exactly as
TensorFlow 1 did and reproduces the TensorFlow network; its statistics use the unbiased covariance. Lower is
better; 0 for identical sets. FID is biased upwards for small sets (papers use 10k-50k frames), so compare
numbers only at the same frame count. The vid2vid paper's "FID" is a video variant on video-recognition
features; FVD (evaluation/fvd.py) is the closer equivalent.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn as nn

from evaluation.weights import require_file, require_package
from util.state_dicts import CheckpointError, read_state_dict

# frames per forward pass: 299x299 activations of a batch of 32 stay under about 2 GB
INCEPTION_BATCH = 32


def load_inception(path: str, device: torch.device | str = "cpu") -> nn.Module:
    """torch-fidelity's `FeatureExtractorInceptionV3` with the weights of `path` (`--fid_weights`).

    The file is read once with weights_only=True (so a foreign pickle is refused) and handed to torch-fidelity
    in memory, so that torch-fidelity never downloads anything.
    Raises FileNotFoundError naming --fid_weights, or CheckpointError when the file does not fit.
    """
    inception = require_package("torch_fidelity.feature_extractor_inceptionv3", "fid", "torch-fidelity==0.4.0")
    require_file(path, "--fid_weights", "FID")
    source = f"--fid_weights {path}"
    buffer = io.BytesIO()
    torch.save(read_state_dict(path, source), buffer)
    buffer.seek(0)
    try:
        extractor = inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                                          feature_extractor_weights_path=buffer)
    except RuntimeError as error:  # load_state_dict's message for missing / unexpected / misshaped keys
        raise CheckpointError(f"{source} does not fit the FID Inception: {str(error).splitlines()[0]}") from None
    return extractor.to(device).eval()


@torch.no_grad()
def inception_features(extractor: nn.Module, frames: np.ndarray) -> np.ndarray:
    """2048-d pool features of uint8 `(N, H, W, 3)` frames: float32 `(N, 2048)`, as torch-fidelity keeps them."""
    device = next(extractor.parameters()).device
    features = []
    for start in range(0, len(frames), INCEPTION_BATCH):
        batch = torch.from_numpy(np.ascontiguousarray(frames[start:start + INCEPTION_BATCH]))
        (pool,) = extractor(batch.to(device).permute(0, 3, 1, 2).contiguous())
        features.append(pool.float().cpu().numpy())
    return np.concatenate(features)


def fid_from_features(fake: np.ndarray, real: np.ndarray) -> float:
    """FID of two feature sets `(N, D)`, `(M, D)` (N, M >= 2) with torch-fidelity's statistics and formula."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

    if len(fake) < 2 or len(real) < 2:
        raise ValueError(f"FID needs at least 2 frames on each side, got {len(fake)} and {len(real)}")
    fake_stats, real_stats = (fid_features_to_statistics(torch.from_numpy(f)) for f in (fake, real))
    return float(fid_statistics_to_metric(fake_stats, real_stats, verbose=False)[KEY_METRIC_FID])
