"""Datasets by name: `--dataset_mode x` is the class `XDataset` in `data/x_dataset.py`.

Adding a dataset is adding one such file with a `BaseDataset` subclass whose constructor takes `opt`;
data/template_dataset.py (`--dataset_mode template`) is a documented example.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import torch.utils.data

from data.base_dataset import BaseDataset
from data.sampling import ResumableSampler, Shard, ShardedResumableSampler, SkipUnreadable, collate_readable

_DATA_DIR = Path(__file__).resolve().parent


def available_dataset_modes() -> list[str]:
    """The modes with a `data/<mode>_dataset.py` file."""
    names = (p.name for p in _DATA_DIR.glob("*_dataset.py") if p.name != "base_dataset.py")
    return sorted(name[: -len("_dataset.py")] for name in names)


def find_dataset_class(dataset_mode: str) -> type[BaseDataset]:
    """The `BaseDataset` subclass of `data/<dataset_mode>_dataset.py` whose name is `<mode>dataset`, any case.

    Raises ValueError naming --dataset_mode and the modes found when there is no such file or class.
    """
    modes = available_dataset_modes()
    if dataset_mode not in modes:
        raise ValueError(f"--dataset_mode {dataset_mode}: no data/{dataset_mode}_dataset.py; "
                         f"available: {', '.join(modes)}")
    module = importlib.import_module(f"data.{dataset_mode}_dataset")
    wanted = dataset_mode.replace("_", "").lower() + "dataset"
    for name, obj in vars(module).items():
        if name.lower() == wanted and isinstance(obj, type) and issubclass(obj, BaseDataset):
            return obj
    raise ValueError(f"--dataset_mode {dataset_mode}: data/{dataset_mode}_dataset.py defines no BaseDataset "
                     f"subclass named {wanted} (any case)")


def create_dataset(opt: argparse.Namespace) -> BaseDataset:
    """The dataset of `opt.dataset_mode`, built from `opt`."""
    return find_dataset_class(opt.dataset_mode)(opt)


def create_dataloader(opt: argparse.Namespace, shard: Shard | None = None) -> torch.utils.data.DataLoader:
    """A DataLoader over `create_dataset(opt)`; the dataset stays reachable as `loader.dataset`.

    Batches hold videos as (B, T, C, H, W). Workers are not persistent, so a change made through
    `loader.dataset.set_sequence_length` reaches them at the next epoch. For training, the order of each
    epoch comes from a `ResumableSampler` (`loader.sampler`), and an unreadable item becomes a note in the
    batch's 'unreadable' list instead of an error (data/sampling.py). With a `shard` (a distributed run), the
    process takes its share of every epoch's order (`ShardedResumableSampler`).
    """
    dataset = create_dataset(opt)
    if not opt.isTrain:
        return torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize, shuffle=not opt.serial_batches,
                                           num_workers=int(opt.nThreads), drop_last=False)
    shuffle = not opt.serial_batches
    sampler = (ResumableSampler(len(dataset), shuffle) if shard is None
               else ShardedResumableSampler(len(dataset), shuffle, shard))
    loader = torch.utils.data.DataLoader(
        SkipUnreadable(dataset),
        batch_size=opt.batchSize,
        sampler=sampler,
        num_workers=int(opt.nThreads),
        collate_fn=collate_readable,
        drop_last=False,
    )
    return loader
