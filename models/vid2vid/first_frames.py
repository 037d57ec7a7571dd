"""The face first-frame model of `--use_single_G` (official edge2face_single, reference §3.8).

At the start of a test sequence, each of the first tG-1 frames is made by a single-image generator: the
encoder E maps the real frame to 16 feature channels, averaged over each facial part (the part-label map,
ids 0..6); the training image whose per-part features are nearest (`features.npy`) replaces them; and
GlobalWithZ turns the face input (15 channels) and that feature map into the frame.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import pickle

import numpy as np
import torch
import torch.nn as nn

from models.networks.factory import FACE_FEATURE_NC, define_face_single_frame_networks, face_single_frame_paths
from util.state_dicts import load_weights_file

N_PART_IDS = 7  # part-label ids 0 (background) .. 6 (inner mouth), the rows of features.npy
# pix2pixHD-style files may lack the instance norms' running statistics, which training-mode norms never read
_OPTIONAL_KEYS = ("num_batches_tracked", "running_mean", "running_var")
# What a features.npy pickle may name: numpy arrays, their dtypes and scalars (numpy 1 and 2 module names),
# and the str-to-bytes call with which protocol 2 pickles written by Python 3 carry array data.
_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays inside plain containers and refuses any other class (no code runs)."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _NUMPY_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not a numpy array part")
        if module == "numpy.core.multiarray" and importlib.util.find_spec("numpy._core") is not None:
            module = "numpy._core.multiarray"  # numpy 2's name; the old one only warns and forwards
        return getattr(importlib.import_module(module), name)


def load_feature_table(path: str, n_features: int = FACE_FEATURE_NC) -> dict[int, np.ndarray]:
    """features.npy: {part id 0..6: `(n_images, n_features + 1)` float array}, one row per training image
    (its features, then the part's area, unused here). Python 2 files (the official one) load too.

    Read without running pickled code. Raises ValueError naming the file when it is unreadable or holds
    another layout; the official lookup also needs every part to have at least as many rows as part 6.
    """
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            _, _, dtype = read_header(f)
            if not dtype.hasobject:
                raise ValueError("it holds a plain array, not the dict of part features")
            table = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except (OSError, ValueError, EOFError, pickle.UnpicklingError) as err:
        raise ValueError(f"--use_single_G: cannot read the face features {path}: {err}") from None
    table = table.item() if isinstance(table, np.ndarray) and table.shape == () else table
    if not isinstance(table, dict) or any(label not in table for label in range(N_PART_IDS)):
        raise ValueError(f"--use_single_G: {path} must hold a dict of part ids 0..{N_PART_IDS - 1} to arrays")
    table = {label: np.asarray(table[label], dtype=np.float64) for label in range(N_PART_IDS)}
    n_images = table[N_PART_IDS - 1].shape[0]
    for label, rows in table.items():
        if rows.ndim != 2 or rows.shape[1] != n_features + 1 or not n_images <= rows.shape[0]:
            raise ValueError(f"--use_single_G: {path}: part {label} holds an array of shape {rows.shape}, "
                             f"expected ({n_images} or more, {n_features + 1})")
    return table


def nearest_features(features: torch.Tensor, part_labels: torch.Tensor, table: dict[int, np.ndarray]
                     ) -> torch.Tensor:
    """The feature map of the training image nearest to this frame's per-part features.

    features: `(1, C, H, W)`, constant over each part (E's output); part_labels: `(1, 1, H, W)` ids 0..6.
    The distance is the squared L2 over the parts present in the frame and all C channels (the official
    code also counted the absent parts, with whatever an uninitialised tensor held). Each part's pixels then
    get that image's row of the table. Returns `(1, C, H, W)`.
    """
    if features.shape[0] != 1:
        raise ValueError("the face first-frame model takes one frame at a time")
    n_channels, n_images = features.shape[1], table[N_PART_IDS - 1].shape[0]
    ids = part_labels[0, 0].long()
    labels = [int(label) for label in torch.unique(ids)]
    if labels[0] < 0 or labels[-1] >= N_PART_IDS:
        raise ValueError(f"part labels must lie in 0..{N_PART_IDS - 1}, found {labels}")
    own = torch.zeros(N_PART_IDS, n_channels, 1)
    reference = torch.zeros(N_PART_IDS, n_channels, n_images)
    for label in labels:
        y, x = (ids == label).nonzero()[0]  # any pixel of the part holds its mean
        own[label, :, 0] = features[0, :, y, x].float().cpu()
        reference[label] = torch.from_numpy(table[label][:n_images, :n_channels].T).float()
    nearest = int(torch.argmin(((own - reference) ** 2).sum(dim=0).sum(dim=0)))
    out = torch.empty_like(features)
    for label in labels:
        rows = table[label]
        row = torch.as_tensor(rows[min(nearest, len(rows) - 1), :n_channels], dtype=features.dtype)
        out[0][:, ids == label] = row.to(features.device)[:, None]
    return out


class FaceFirstFrameModel(nn.Module):
    """E, the feature table and G of edge2face_single. Unlike the street generators it also needs the real
    frame and its part labels (`uses_real_frames`, which `Vid2VidGenerator.start_frames` checks)."""

    uses_real_frames = True

    def __init__(self, net_g: nn.Module, net_e: nn.Module, table: dict[int, np.ndarray]) -> None:
        super().__init__()
        self.netG = net_g
        self.netE = net_e
        self.table = table

    def forward(self, label: torch.Tensor, real: torch.Tensor, part_labels: torch.Tensor) -> torch.Tensor:
        """label `(1, 15, H, W)` face input, real `(1, 3, H, W)` in [-1, 1], part_labels `(1, 1, H, W)`
        -> `(1, 3, H, W)` in [-1, 1]."""
        z = nearest_features(self.netE(real, part_labels), part_labels, self.table)
        return self.netG(label, z)


def load_face_first_frame_model(opt: argparse.Namespace, device: torch.device) -> FaceFirstFrameModel:
    """Builds G and E, loads `<checkpoints_dir>/edge2face_single/` latest_net_G.pth, latest_net_E.pth
    (strictly, the norms' running statistics optional) and features.npy. FileNotFoundError names a missing
    file. The networks stay in training mode, as officially (instance norm uses each frame's statistics)."""
    net_g, net_e = define_face_single_frame_networks(opt)
    g_path, e_path, features_path = face_single_frame_paths(opt)
    for path in (g_path, e_path, features_path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--use_single_G: face first-frame file '{path}' not found (the official "
                                    "edge2face_single files: latest_net_G.pth, latest_net_E.pth, features.npy)")
    load_weights_file(net_g, g_path, optional=_OPTIONAL_KEYS)
    load_weights_file(net_e, e_path, optional=_OPTIONAL_KEYS)
    return FaceFirstFrameModel(net_g, net_e, load_feature_table(features_path)).to(device)
