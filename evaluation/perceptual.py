"""LPIPS and tLP, with the `lpips` package (Zhang et al. 2018) and a local backbone file.

LPIPS compares deep features of two images: 0 for identical images, larger for perceptually more different
ones (about 0.1-0.7 for typical generated frames). The package ships its calibrated linear layers; the
AlexNet (default, as TecoGAN and the LPIPS authors use) or VGG16 backbone is torchvision's ImageNet model, read
from a local state_dict (`--lpips_backbone`, else torchvision's cache) and never downloaded.

tLP (Chu et al. 2020, TecoGAN): for each pair of consecutive frames, |LPIPS(out_{t-1}, out_t) -
LPIPS(gt_{t-1}, gt_t)|: how much the perceptual change between frames differs from the truth's (TecoGAN's
tables print it times 100; we give the plain value).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import torch
import torch.nn as nn
import torchvision

from evaluation.weights import lpips_backbone_path, require_package
from util.state_dicts import load_weights_file

# frames per forward pass
LPIPS_BATCH = 16


def _backbone(net: str) -> nn.Module:
    """An empty torchvision AlexNet or VGG16 (the architectures LPIPS's trunks slice)."""
    return torchvision.models.alexnet() if net == "alex" else torchvision.models.vgg16()


def load_lpips(net: str, backbone_path: str, device: torch.device | str = "cpu") -> nn.Module:
    """`lpips.LPIPS(net=net)` with its shipped linear layers and the backbone read from a local file.

    Args:
        net: 'alex' or 'vgg'.
        backbone_path: a torchvision state_dict of AlexNet / VGG16 ('' for torchvision's cache file).
    Raises:
        FileNotFoundError: no backbone file (names --lpips_backbone and where to get one).
        CheckpointError: the file is not that network's state_dict.
    """
    if net not in ("alex", "vgg"):
        raise ValueError(f"--lpips_net {net!r}: expected 'alex' or 'vgg'")
    lpips = require_package("lpips", "lpips/tlp", "lpips==0.1.4")
    path = lpips_backbone_path(net, backbone_path)
    source = f"--lpips_backbone {path}"
    full = _backbone(net)
    load_weights_file(full, path, source)
    with warnings.catch_warnings():  # lpips passes torchvision's deprecated `pretrained=False`
        warnings.simplefilter("ignore")
        # pnet_rand: build the trunk without weights (lpips would otherwise download them)
        model = lpips.LPIPS(net=net, pnet_rand=True, verbose=False)
    # lpips's trunk holds torchvision's `features` layers under slices: `slice<k>.<i>.*` is `features.<i>.*`
    features = full.features.state_dict()
    trunk = {key: features[re.sub(r"^slice\d+\.", "", key)] for key in model.net.state_dict()}
    model.net.load_state_dict(trunk)
    return model.to(device).eval().requires_grad_(False)


@torch.no_grad()
def lpips_distances(model: nn.Module, a: np.ndarray, b: np.ndarray) -> list[float]:
    """LPIPS of each pair of frames: uint8 `(T, H, W, 3)` x2 -> T values."""
    device = next(model.parameters()).device
    values: list[float] = []
    for start in range(0, len(a), LPIPS_BATCH):
        x, y = (torch.from_numpy(np.ascontiguousarray(v[start:start + LPIPS_BATCH])).to(device)
                .permute(0, 3, 1, 2).float() / 127.5 - 1 for v in (a, b))
        values += model(x, y).flatten().tolist()
    return values


def consecutive_lpips(model: nn.Module, frames: np.ndarray) -> list[float]:
    """LPIPS(frame_{t-1}, frame_t) for t = 1..T-1 of uint8 `(T, H, W, 3)` frames."""
    return lpips_distances(model, frames[:-1], frames[1:])


def tlp(fake_steps: list[float], real_steps: list[float]) -> list[float]:
    """Per pair, |LPIPS step of the output - LPIPS step of the truth| (from `consecutive_lpips`)."""
    return [abs(f - r) for f, r in zip(fake_steps, real_steps)]
