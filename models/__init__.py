"""Models by name: `--model x` is the package `models/x/`, which defines `create_training_model(opt)` and
`create_inference_model(opt, device)`.

Adding a video model is adding such a package beside `models/vid2vid/`; the shared pieces (networks, flow
estimators, losses, checkpoint names) stay in `models/networks/`, `models/flow/`, `models/losses.py` and
`models/checkpoints.py`.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from types import ModuleType

import torch

from util.runtime import use_cudnn_autotuner

_MODELS_DIR = Path(__file__).resolve().parent
_ENTRY_POINTS = ("create_training_model", "create_inference_model")


def available_models() -> list[str]:
    """The packages under models/ that define a model (those with a `model.py`)."""
    return sorted(p.parent.name for p in _MODELS_DIR.glob("*/model.py"))


def find_model(name: str) -> ModuleType:
    """The package of `--model name`; ValueError listing the known models when there is none."""
    if name not in available_models():
        raise ValueError(f"--model {name}: no model package models/{name}/; available: {', '.join(available_models())}")
    package = importlib.import_module(f"models.{name}")
    missing = [entry for entry in _ENTRY_POINTS if not hasattr(package, entry)]
    if missing:
        raise ValueError(f"--model {name}: models/{name}/__init__.py does not define {', '.join(missing)}")
    return package


def create_training_model(opt: argparse.Namespace) -> torch.nn.Module:
    """The `--model` package's training model (networks, losses, reference flow), on the CPU."""
    use_cudnn_autotuner(opt.debug)
    return find_model(opt.model).create_training_model(opt)


def create_inference_model(opt: argparse.Namespace, device: torch.device):
    """The `--model` package's test-time model, loaded from the checkpoints, on `device`."""
    use_cudnn_autotuner(opt.debug)
    return find_model(opt.model).create_inference_model(opt, device)
