"""Reading, checking and writing state dicts: the one loader for every network (ours, FlowNet2, VGG19, the
single-frame G), atomic writes of one file or of a set of files with a manifest, and the error that names
the file and what does not fit."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence

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


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stage(directory: str, suffix: str) -> tuple[int, str]:
    """(file descriptor, path) of a new temporary file in `directory` (created if missing)."""
    os.makedirs(directory, exist_ok=True)
    return tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=suffix)


def _stage_manifest(staged: list[tuple[str, str]], manifest_path: str, manifest: dict) -> None:
    """Writes `manifest` as JSON to a new temporary file and appends (it, manifest_path) to `staged`."""
    fd, tmp = _stage(os.path.dirname(os.path.abspath(manifest_path)), ".json")
    staged.append((tmp, manifest_path))
    with os.fdopen(fd, "w") as f:
        json.dump(manifest, f, indent=1)


def atomic_save_set(objects: dict[str, object], manifest_path: str, info: dict,
                    copies: Sequence[tuple[dict[str, str], str]] = ()) -> None:
    """Saves several objects so that the set is replaced whole or not at all, and records it.

    objects: path -> object for torch.save. Every object is first written to a temporary file beside its
    path; only when all are written (a full disk or a crash stops before any file is replaced) are they
    renamed into place, and the manifest last: a JSON file with `info` and each file's size and sha256, so
    that `verify_manifest` can tell a complete set from one a crash cut in the middle of the renames.
    copies: further sets with the same contents, each `({path in objects: path of its copy}, the copy's
    manifest path)`, e.g. the epoch checkpoint saved with `latest`: their files are byte copies of the ones
    serialised for `objects` (each object is pickled once), staged with them and renamed after them, each
    set's manifest after its own files.
    """
    staged: list[tuple[str, str]] = []  # (temporary file, final path), in rename order
    try:
        files: dict[str, dict] = {}
        for path, obj in objects.items():
            fd, tmp = _stage(os.path.dirname(os.path.abspath(path)), ".pth")
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                torch.save(obj, f)
            files[path] = {"size": os.path.getsize(tmp), "sha256": _hash_file(tmp)}
        written = list(staged)
        _stage_manifest(staged, manifest_path, {**info, "files": {os.path.basename(p): r for p, r in files.items()}})
        for renamed, copy_manifest in copies:
            for tmp, path in written:
                fd, copy_tmp = _stage(os.path.dirname(os.path.abspath(renamed[path])), ".pth")
                os.close(fd)
                staged.append((copy_tmp, renamed[path]))
                shutil.copyfile(tmp, copy_tmp)
            _stage_manifest(staged, copy_manifest,
                            {**info, "files": {os.path.basename(renamed[p]): r for p, r in files.items()}})
    except BaseException:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.remove(tmp)
        raise
    for tmp, path in staged:  # staged in rename order: each set's files, then its manifest
        os.replace(tmp, path)


def verify_manifest(manifest_path: str) -> tuple[dict | None, str]:
    """(the manifest's info, '') when every file it lists is in its folder with its size and sha256, else
    (None, what is wrong)."""
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        files = manifest.pop("files")
    except (OSError, ValueError, KeyError) as error:
        return None, f"{manifest_path}: unreadable ({error})"
    directory = os.path.dirname(manifest_path)
    for name, record in files.items():
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            return None, f"{path} is missing"
        if os.path.getsize(path) != record["size"] or _hash_file(path) != record["sha256"]:
            return None, f"{path} differs from the one saved with {os.path.basename(manifest_path)}"
    return manifest, ""


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


def check_state_dict(network: nn.Module, state: dict[str, torch.Tensor], source: str,
                     optional: tuple[str, ...] = ("num_batches_tracked",)) -> None:
    """Raises CheckpointError naming `source` and listing the missing, unexpected and differently shaped
    keys (file shape, then model shape) unless `state` fits `network` strictly. Keys ending in one of
    `optional` may be missing (by default `num_batches_tracked`, which PyTorch 0.4.0 files lack)."""
    own = network.state_dict()
    missing = [k for k in own if k not in state and not k.endswith(optional)]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(getattr(v, 'shape', ()))} instead of {tuple(own[k].shape)}"
             for k, v in state.items() if k in own and getattr(v, "shape", None) != own[k].shape]
    problems = [f"{label}: {_name_some(keys)}" for label, keys in
                (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)) if keys]
    if problems:
        raise CheckpointError(f"{source} does not fit {type(network).__name__}: " + "; ".join(problems))


def load_state_dict(network: nn.Module, state: dict[str, torch.Tensor], source: str,
                    optional: tuple[str, ...] = ("num_batches_tracked",), assign: bool = False) -> None:
    """`check_state_dict`, then loads `state` into `network` (an optional key it lacks keeps its value).
    `assign=True` adopts the file's tensors (for a network built on the meta device)."""
    check_state_dict(network, state, source, optional)
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
