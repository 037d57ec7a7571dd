"""Reading, checking and writing state dicts: the one loader for every network (ours, FlowNet2, VGG19, the
single-frame G), atomic writes, and the error that names the file and what does not fit."""

from __future__ import annotations

import os
import tempfile

import torch
import torch.nn as nn

# how many key names an error message lists before it says how many more there are
_NAMES_SHOWN = 5


class CheckpointError(ValueError):
    """A weights file that cannot be read or does not fit its network (the message names the file)."""


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
    """Writes a small text file (iter.txt) through a temporary file and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp_path, path)


def read_checkpoint(path: str, source: str) -> object:
    """torch.load(weights_only=True) on the CPU; CheckpointError naming `source` for an unreadable file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or foreign files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{source}: not a readable PyTorch checkpoint ({reason})") from None


def read_state_dict(path: str, source: str | None = None) -> dict[str, torch.Tensor]:
    """Loads a state_dict; accepts {'state_dict': ...} wrappers and `module.` prefixes (DataParallel files).

    source: how errors name the file (default: the path; e.g. '--vgg_weights PATH').
    """
    source = source or path
    state = read_checkpoint(path, source)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{source}: expected a state_dict, found {type(state).__name__}")
    return {key.removeprefix("module."): value for key, value in state.items()}


def _name_some(names: list[str]) -> str:
    more = f" (+{len(names) - _NAMES_SHOWN} more)" if len(names) > _NAMES_SHOWN else ""
    return ", ".join(names[:_NAMES_SHOWN]) + more


def load_state_dict(network: nn.Module, state: dict[str, torch.Tensor], source: str,
                    optional: tuple[str, ...] = ("num_batches_tracked",), assign: bool = False) -> None:
    """Loads `state` into `network` strictly: every key and shape must match.

    Keys ending in one of `optional` may be missing from `state` (by default `num_batches_tracked`, which
    PyTorch 0.4.0 files lack; it then keeps its value). `assign=True` adopts the file's tensors (for a
    network built on the meta device). Raises CheckpointError naming `source` and listing the missing,
    unexpected and differently shaped keys (file shape, then model shape).
    """
    own = network.state_dict()
    missing = [k for k in own if k not in state and not k.endswith(optional)]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(getattr(v, 'shape', ()))} instead of {tuple(own[k].shape)}"
             for k, v in state.items() if k in own and getattr(v, "shape", None) != own[k].shape]
    problems = [f"{label}: {_name_some(keys)}" for label, keys in
                (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)) if keys]
    if problems:
        raise CheckpointError(f"{source} does not fit {type(network).__name__}: " + "; ".join(problems))
    network.load_state_dict(state, strict=False, assign=assign)


def load_state_dict_partial(network: nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """The official `--load_pretrain` fallback: copies every same-named, same-shaped tensor.

    Used to start a larger model from a smaller one (e.g. 1024 from 512: a new scale or discriminator
    scale stays randomly initialised). Returns the model keys left untouched.
    """
    own = network.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    network.load_state_dict(fitting, strict=False)
    return [k for k in own if k not in fitting and not k.endswith("num_batches_tracked")]


def load_weights_file(network: nn.Module, path: str, source: str | None = None,
                      optional: tuple[str, ...] = ("num_batches_tracked",), assign: bool = False) -> None:
    """`read_state_dict` then `load_state_dict`: the one call for loading a weights file into a network."""
    load_state_dict(network, read_state_dict(path, source), source or path, optional, assign)
