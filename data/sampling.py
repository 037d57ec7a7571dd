"""How the training loader walks the dataset: an item order that can be resumed in the middle of an epoch,
and items that cannot be read passed on as a note instead of ending the run."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import torch
import torch.utils.data
from torch.utils.data import RandomSampler, SequentialSampler
from torch.utils.data.dataloader import default_collate

# What a failed read raises: our readers' ValueError (naming the file), the OS's errors
UNREADABLE_ERRORS = (ValueError, OSError)


class ResumableSampler(torch.utils.data.Sampler[int]):
    """The item order of each epoch, sequential or shuffled (drawn exactly as torch's RandomSampler draws it,
    so a run with this sampler sees the items in the DataLoader's own order), remembered so that an epoch
    cut short resumes with the items it had not reached."""

    def __init__(self, n_items: int, shuffle: bool) -> None:
        super().__init__()
        self.base = RandomSampler(range(n_items)) if shuffle else SequentialSampler(range(n_items))
        self.order: list[int] = []
        self._pending: tuple[list[int], int] | None = None
        self.epoch = 1

    def __len__(self) -> int:
        return len(self.base)

    def __iter__(self) -> Iterator[int]:
        if self._pending is not None:
            self.order, start = self._pending
            self._pending = None
        else:
            self.order, start = self.new_order(), 0
        return iter(self.share(self.order[start:]))

    def new_order(self) -> list[int]:
        """The item order of a new epoch."""
        return list(self.base)

    def share(self, items: list[int]) -> list[int]:
        """What this process takes of the epoch's items not used yet: all of them."""
        return items

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next iteration belongs to (only a sharded order depends on it)."""
        self.epoch = epoch

    def state_dict(self, position: int) -> dict:
        """This epoch's order and how many of its items were used."""
        return {"order": list(self.order), "position": position}

    def load_state_dict(self, state: dict) -> None:
        """The next epoch iterated continues the saved one at its position."""
        self._pending = (list(state["order"]), int(state["position"]))


class Shard(NamedTuple):
    """One of `world_size` processes training together (a torchrun launch): its `rank` and the `seed` that
    every process draws the epochs' orders from."""

    rank: int
    world_size: int
    seed: int


class ShardedResumableSampler(ResumableSampler):
    """The item order of a distributed run: every process draws the same order of epoch e (a permutation
    from `shard.seed + e`, or 0..n-1 without shuffling) and takes every `world_size`-th of the items not
    used yet, from its rank on; the items are first padded to a multiple of `world_size` by repeating the
    first ones, so that every process gets as many.

    After k items per process, the processes together have used the first k * world_size items of the
    order, so `state_dict(position)` with position = items used by all processes resumes in the middle of
    an epoch, with any number of processes.
    """

    def __init__(self, n_items: int, shuffle: bool, shard: Shard) -> None:
        super().__init__(n_items, shuffle)
        self.n_items, self.shuffle, self.shard = n_items, shuffle, shard

    def __len__(self) -> int:
        return math.ceil(self.n_items / self.shard.world_size)

    def new_order(self) -> list[int]:
        if not self.shuffle:
            return list(range(self.n_items))
        generator = torch.Generator().manual_seed(self.shard.seed + self.epoch)
        return torch.randperm(self.n_items, generator=generator).tolist()

    def share(self, items: list[int]) -> list[int]:
        world = self.shard.world_size
        padded = items + (items * world)[: -len(items) % world]
        return padded[self.shard.rank :: world]


class SkipUnreadable(torch.utils.data.Dataset):
    """Wraps a dataset: an item whose files cannot be read becomes {'unreadable': message}. Every other
    attribute (`set_sequence_length`, `longest_sequence`, ...) is the wrapped dataset's."""

    def __init__(self, dataset: torch.utils.data.Dataset) -> None:
        self.dataset = dataset

    def __getattr__(self, name: str):
        if name == "dataset":  # not set yet (e.g. while a worker unpickles the wrapper)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        try:
            return self.dataset[index]
        except UNREADABLE_ERRORS as error:
            return {"unreadable": str(error).strip().splitlines()[0] if str(error).strip() else repr(error)}


def collate_readable(items: list[dict]) -> dict:
    """Collates the readable items as usual; the messages of unreadable ones go to 'unreadable' (a list).
    A batch with no readable item holds only that list."""
    readable = [item for item in items if "unreadable" not in item]
    batch = default_collate(readable) if readable else {}
    notes = [item["unreadable"] for item in items if "unreadable" in item]
    if notes:
        batch["unreadable"] = notes
    return batch
