"""Checkpoint files: the official names, atomic writes and loading with clear errors.

Official layout in `<checkpoints_dir>/<name>/`: `<label>_net_G<s>.pth` per generator scale,
`<label>_net_D.pth`, `<label>_net_D_T<s>.pth`, `<label>_net_D_f.pth` (plain state_dicts, no `module.`
prefix) and `iter.txt` (epoch and epoch_iter, one per line, as
np.savetxt wrote them), where label is `latest` or an epoch number.
Beyond the official files, `<label>_train_state.pth` holds the optimizer, RNG and schedule states so that
a resumed run continues exactly.
"""

from __future__ import annotations

import os
import re
import tempfile

import torch
import torch.nn as nn


class CheckpointError(ValueError):
    """A checkpoint file that does not fit the model (the message names the file and the first mismatch)."""


def network_path(directory: str, label: str, net_name: str) -> str:
    """e.g. network_path(d, 'latest', 'G0') -> d/latest_net_G0.pth."""
    return os.path.join(directory, f"{label}_net_{net_name}.pth")


def train_state_path(directory: str, label: str) -> str:
    return os.path.join(directory, f"{label}_train_state.pth")


def atomic_save(obj: object, path: str) -> None:
    """torch.save to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=".pth")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


def atomic_write_text(text: str, path: str) -> None:
    """Writes a small text file (iter.txt) atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp_path, path)


def save_network(network: nn.Module, path: str) -> None:
    """Saves the network's state_dict on the CPU, as the official code does."""
    state = {key: value.detach().cpu() for key, value in network.state_dict().items()}
    atomic_save(state, path)


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """Loads a state_dict with weights_only=True; accepts {'state_dict': ...} wrappers and `module.` prefixes."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or foreign files
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({str(error).splitlines()[0]})") from error
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a state_dict, found {type(state).__name__}")
    return {key.removeprefix("module."): value for key, value in state.items()}


def load_network(network: nn.Module, path: str, optional: tuple[str, ...] = ("num_batches_tracked",)) -> None:
    """Loads `path` into `network` strictly.

    Keys and shapes must match one for one, except keys ending in one of `optional`: by default
    `num_batches_tracked`, which checkpoints written by PyTorch 0.4.0 lack (it is then left at 0).
    On a mismatch raises CheckpointError naming the file and the first missing, unexpected or differently
    shaped key with both shapes.
    """
    state = read_state_dict(path)
    own = network.state_dict()
    missing = [k for k in own if k not in state and not k.endswith(optional)]
    unexpected = [k for k in state if k not in own]
    if missing:
        raise CheckpointError(f"{path}: key '{missing[0]}' (shape {tuple(own[missing[0]].shape)}) is missing "
                              f"from the file ({len(missing)} missing in all)")
    if unexpected:
        raise CheckpointError(f"{path}: unexpected key '{unexpected[0]}' (shape {tuple(state[unexpected[0]].shape)}) "
                              f"that the model does not have ({len(unexpected)} unexpected in all)")
    for key, value in state.items():
        if value.shape != own[key].shape:
            raise CheckpointError(f"{path}: key '{key}' has shape {tuple(value.shape)} in the file but "
                                  f"{tuple(own[key].shape)} in the model built from these options")
    network.load_state_dict(state, strict=False)


def load_network_partial(network: nn.Module, path: str) -> list[str]:
    """The official `--load_pretrain` fallback: copies every same-named, same-shaped tensor.

    Used to start a larger model from a smaller one (e.g. 1024 from 512: a new scale or discriminator
    scale stays randomly initialised). Returns the model keys left untouched.
    """
    state = read_state_dict(path)
    own = network.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    network.load_state_dict(fitting, strict=False)
    return [k for k in own if k not in fitting and not k.endswith("num_batches_tracked")]


def read_iter_file(directory: str) -> tuple[int, int]:
    """Returns (epoch, epoch_iter) from `directory`/iter.txt, or (1, 0) when there is none."""
    path = os.path.join(directory, "iter.txt")
    if not os.path.isfile(path):
        return 1, 0
    text = open(path).read()
    try:
        # the official np.savetxt puts one number per line; accept a comma-separated pair too
        epoch, epoch_iter = (int(float(x)) for x in re.split(r"[,\s]+", text.strip()))
    except ValueError as error:
        raise CheckpointError(f"{path}: expected two integers (epoch, epoch_iter), found {text!r}") from error
    return epoch, epoch_iter


def write_iter_file(directory: str, epoch: int, epoch_iter: int) -> None:
    atomic_write_text(f"{epoch}\n{epoch_iter}\n", os.path.join(directory, "iter.txt"))
