"""Guards of a long run: non-finite losses (their updates are skipped, and a run of them stops training)
and unreadable training items (each skipped with a warning, up to a limit)."""

from __future__ import annotations

import torch


class TrainingStopped(Exception):
    """Training cannot go on; the message says why and what was kept. `save` tells whether the current
    weights are worth saving (not after non-finite losses)."""

    def __init__(self, message: str, save: bool) -> None:
        super().__init__(message)
        self.save = save


def non_finite(losses: dict[str, torch.Tensor]) -> list[str]:
    """The names of the losses (scalar tensors) that are NaN or infinite; one device sync for all of them."""
    finite = torch.isfinite(torch.stack([value.detach().float() for value in losses.values()])).tolist()
    return [name for name, ok in zip(losses, finite) if not ok]


class NonFiniteGuard:
    """Counts consecutive chunks with a non-finite loss; `max_steps` of them in a row stop training.

    Under --fp16 it still counts only non-finite losses (the forward overflowed; no update, no scaler
    change). A finite loss whose scaled gradients overflow is the GradScaler's: it skips that update and
    lowers the scale, and the chunk counts as good, so the scaler's usual first skipped steps never add up
    to --max_nan_steps.
    """

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.in_a_row = 0

    @property
    def healthy(self) -> bool:
        """False during a run of non-finite chunks: checkpoints are not written then, so that the last one
        saved before the trouble is kept."""
        return self.in_a_row == 0

    def chunk_done(self, bad_losses: list[str], where: str) -> str:
        """Records a chunk (`bad_losses`: its non-finite losses); returns the warning to log, or ''.
        Raises TrainingStopped after `max_steps` bad chunks in a row."""
        if not bad_losses:
            self.in_a_row = 0
            return ""
        self.in_a_row += 1
        if self.in_a_row >= self.max_steps:
            raise TrainingStopped(f"{self.in_a_row} chunks in a row with non-finite losses (last: "
                                  f"{', '.join(bad_losses)} at {where}); stopping with the last good checkpoint "
                                  "kept (--max_nan_steps)", save=False)
        return f"warning: non-finite {', '.join(bad_losses)} at {where}: update skipped ({self.in_a_row} in a row)"


class UnreadableItems:
    """Counts the training items that could not be read; more than `limit` stop training."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def record(self, notes: list[str]) -> list[str]:
        """Warnings for the batch's unreadable items; raises TrainingStopped past the limit."""
        self.count += len(notes)
        if self.count > self.limit:
            raise TrainingStopped(f"{self.count} training items could not be read (last: {notes[-1]}); "
                                  "fix the data (scripts/check_dataset.py lists every problem) or raise "
                                  "--max_unreadable_items", save=True)
        return [f"warning: skipped an unreadable item ({self.count} so far): {note}" for note in notes]
