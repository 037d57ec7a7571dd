"""An exact cache of reference flows (`--flow_cache_mb`): a call on frames seen before returns the flow and
confidence computed then, bit for bit, instead of running the estimator again.

A call is keyed by a BLAKE2b digest of the exact bytes of both inputs (all pairs of the call, in order), their
shapes, dtype, device and autocast state. Keying the whole call, not each pair, keeps the cache exact for
estimators whose result for a pair depends on the batch it is computed in (FlowNet2 on the CPU gives a pair
alone a flow up to about 1e-6 px off the same pair inside a batch of four: oneDNN picks other kernels), so a
cached run gives the numbers of an uncached one whenever the wrapped estimator is deterministic (DIS; FlowNet2
on the CPU; cuDNN need not be). The same frames under another flip, crop or scale have other bytes and miss.
What repeats is a chunk seen again: the same window of a video in a later epoch, as with sequences no longer
than the loaded window and --no_flip.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import torch
import torch.nn as nn

MIB = 2**20


def call_digest(im1: torch.Tensor, im2: torch.Tensor) -> bytes:
    """The cache key of the call `estimator(im1, im2)`: a 32-byte digest of what its result depends on.

    im1, im2: any tensors (normally `(N, 3, H, W)` or `(B, T, 3, H, W)`); their bytes are read on the CPU.
    """
    device = im1.device
    autocast = torch.is_autocast_enabled(device.type) and torch.get_autocast_dtype(device.type)
    digest = hashlib.blake2b(digest_size=32)
    digest.update(repr((tuple(im1.shape), tuple(im2.shape), im1.dtype, im2.dtype, str(device), str(im2.device),
                        autocast)).encode())
    for frames in (im1, im2):
        digest.update(frames.detach().contiguous().cpu().reshape(-1).view(torch.uint8).numpy())
    return digest.digest()


class CachedFlowEstimator(nn.Module):
    """Wraps a flow estimator (models/flow/estimator.py contract) with an LRU cache of its results.

    Results are kept on the CPU, at most `max_bytes` of flow and confidence tensors (the least recently used
    go first; a result larger than the bound is not kept), and returned as copies on the inputs' device.
    `hits` and `misses` count calls since the last `report()`.
    """

    def __init__(self, estimator: nn.Module, max_bytes: int) -> None:
        super().__init__()
        if max_bytes <= 0:
            raise ValueError(f"flow cache: expected a positive size in bytes, got {max_bytes}")
        self.estimator = estimator
        self.max_bytes = max_bytes
        self.stored_bytes = 0
        self.hits = self.misses = 0
        self._results: OrderedDict[bytes, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._results)

    @torch.no_grad()
    def forward(self, im1: torch.Tensor, im2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`estimator(im1, im2)`: flow `(..., 2, H, W)` and conf `(..., 1, H, W)` on the inputs' device."""
        key = call_digest(im1, im2)
        cached = self._results.get(key)
        if cached is not None:
            self._results.move_to_end(key)
            self.hits += 1
            return tuple(t.to(im1.device, copy=True) for t in cached)
        self.misses += 1
        flow, conf = self.estimator(im1, im2)
        self._keep(key, flow.detach().to("cpu", copy=True), conf.detach().to("cpu", copy=True))
        return flow, conf

    def _keep(self, key: bytes, flow: torch.Tensor, conf: torch.Tensor) -> None:
        size = flow.nbytes + conf.nbytes
        if size > self.max_bytes:
            return
        while self.stored_bytes + size > self.max_bytes:
            _, (old_flow, old_conf) = self._results.popitem(last=False)
            self.stored_bytes -= old_flow.nbytes + old_conf.nbytes
        self._results[key] = (flow, conf)
        self.stored_bytes += size

    def report(self) -> str:
        """One line with the hits and misses since the last report (which it resets) and the cache's size."""
        calls = self.hits + self.misses
        rate = f" ({100 * self.hits / calls:.0f} %)" if calls else ""
        line = (f"flow cache: {self.hits} hits{rate}, {self.misses} misses; {len(self)} results kept, "
                f"{self.stored_bytes / MIB:.1f} of {self.max_bytes / MIB:.0f} MiB")
        self.hits = self.misses = 0
        return line

    def train(self, mode: bool = True) -> CachedFlowEstimator:
        # frozen like the estimator it wraps
        return super().train(False)


def with_flow_cache(estimator: nn.Module, cache_mb: int) -> nn.Module:
    """`estimator` behind a `cache_mb` MiB CachedFlowEstimator (`--flow_cache_mb`), or as is for 0."""
    if cache_mb < 0:
        raise ValueError(f"--flow_cache_mb {cache_mb}: expected a size in MiB >= 0 (0: no cache)")
    return CachedFlowEstimator(estimator, cache_mb * MIB) if cache_mb else estimator
