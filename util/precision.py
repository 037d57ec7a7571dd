"""Mixed precision with torch.amp, in one place (the official code used apex AMP O1, reference §6).

`Precision` gives the autocast context of a run (`--fp16`: float16, `--bf16`: bfloat16, neither: no autocast
at all) and, for float16, one GradScaler per optimizer. `float32_island` marks the functions that must run
in float32 whatever autocast says (the warp, the correlation, the loss reductions): under autocast they run
with autocast disabled and their half-precision inputs cast to float32; outside autocast they are called
as they are, so a float32 run does exactly what it did without this module.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import torch

REDUCED_DTYPES = (torch.float16, torch.bfloat16)
F = TypeVar("F", bound=Callable[..., Any])


def upcast(value: Any) -> Any:
    """`value` with every float16/bfloat16 tensor in it (also inside lists, tuples and dicts) cast to float32;
    other tensors (float32, float64, integers) and other objects are returned as they are."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.dtype in REDUCED_DTYPES else value
    if isinstance(value, (list, tuple)):
        return type(value)(upcast(v) for v in value)
    if isinstance(value, dict):
        return {key: upcast(v) for key, v in value.items()}
    return value


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for item in items:
        found = _first_tensor(item)
        if found is not None:
            return found
    return None


def float32_island(fn: F) -> F:
    """Decorator: when autocast is on for the device of `fn`'s first tensor argument, `fn` runs with autocast
    disabled and its half-precision tensor arguments cast to float32 (see `upcast`), so its result is float32.
    Otherwise `fn` is called unchanged."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tensor = _first_tensor([args, kwargs])
        if tensor is None or not torch.is_autocast_enabled(tensor.device.type):
            return fn(*args, **kwargs)
        with torch.autocast(tensor.device.type, enabled=False):
            return fn(*upcast(args), **upcast(kwargs))

    return wrapper  # type: ignore[return-value]


def cpu_autocast_available() -> bool:
    """Whether this PyTorch has CPU autocast (bfloat16)."""
    return torch.amp.autocast_mode.is_autocast_available("cpu")


class Precision:
    """The arithmetic of one run on one device type.

    Args:
        dtype: torch.float16 or torch.bfloat16 for autocast, None for plain float32 (no autocast).
        device_type: "cuda" or "cpu", the device the networks run on.
    Parameters stay float32 in every mode (autocast casts per operation), so checkpoints are float32.
    """

    def __init__(self, dtype: torch.dtype | None, device_type: str) -> None:
        if dtype not in (None, *REDUCED_DTYPES):
            raise ValueError(f"precision: expected float16, bfloat16 or None, got {dtype}")
        self.dtype = dtype
        self.device_type = device_type

    @classmethod
    def from_options(cls, opt: argparse.Namespace, device: torch.device) -> Precision:
        """The precision of --fp16 / --bf16 on `device`.

        --fp16 needs CUDA: on the CPU it warns once and runs bfloat16 autocast instead (no scaler needed), or
        float32 where this PyTorch has no CPU autocast.
        """
        if opt.bf16:
            return cls(torch.bfloat16, device.type)
        if not opt.fp16:
            return cls(None, device.type)
        if device.type == "cuda":
            return cls(torch.float16, device.type)
        fallback = torch.bfloat16 if cpu_autocast_available() else None
        warnings.warn(f"--fp16: float16 mixed precision needs CUDA; running on the {device.type} in "
                      f"{'bfloat16 autocast (as --bf16)' if fallback else 'float32'} instead", stacklevel=2)
        return cls(fallback, device.type)

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context the forward passes run in: autocast to the run's dtype, or nothing in float32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def scaler(self) -> torch.amp.GradScaler | None:
        """A new GradScaler for one optimizer under float16 (dynamic loss scaling, as apex O1), else None:
        bfloat16 has float32's range and float32 needs none."""
        if self.dtype != torch.float16:
            return None
        return torch.amp.GradScaler(self.device_type)
