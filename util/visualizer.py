"""Training feedback: the loss log, TensorBoard summaries and the web page of display images.

Everything lives in `<checkpoints_dir>/<name>/`:
- `loss_log.txt`: a dated header per start-up, then every printed loss line and message (always);
- `logs/`: TensorBoard event files with one scalar per loss and one image per display label (`--tf_log`);
- `web/index.html` and `web/images/epoch%03d_<label>.jpg`: the latest display images of every epoch, newest
  epoch first (training only, unless `--no_html`).
"""

from __future__ import annotations

import os
import time
from argparse import Namespace

import numpy as np

from util.html import HTML
from util.image import save_image

# An epoch with at least this many display images is shown in two rows, as in the official page.
_TWO_ROWS_FROM = 6


class Visualizer:
    """Prints, logs and displays training progress.

    Args:
        opt: the parsed options; reads checkpoints_dir, name, tf_log, display_winsize, isTrain and, when
            training, no_html.
    """

    def __init__(self, opt: Namespace) -> None:
        self.name = opt.name
        self.win_size = opt.display_winsize
        exp_dir = os.path.join(opt.checkpoints_dir, opt.name)
        os.makedirs(exp_dir, exist_ok=True)

        self.writer = None
        if opt.tf_log:
            # imported here so that runs without --tf_log do not pay for loading TensorBoard
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(os.path.join(exp_dir, "logs"))

        # no_html is a train-only flag, so it is read only when training
        self.use_html = opt.isTrain and not opt.no_html
        if self.use_html:
            self.web_dir = os.path.join(exp_dir, "web")
            self.img_dir = os.path.join(self.web_dir, "images")
            os.makedirs(self.img_dir, exist_ok=True)

        self.log_name = os.path.join(exp_dir, "loss_log.txt")
        self._append(f"================ Training Loss ({time.strftime('%c')}) ================")

    def print_current_errors(self, epoch: int, i: int, errors: dict[str, float], t: float) -> None:
        """Prints and logs `(epoch: e, iters: i, time: t) name: value ...`.

        Args:
            epoch: the current epoch.
            i: iterations done in this epoch.
            errors: loss name -> value; shown sorted by name, zero values left out, as the official code does.
            t: seconds per iteration.
        """
        message = f"(epoch: {epoch:d}, iters: {i:d}, time: {t:.3f}) "
        for name, value in sorted(errors.items()):
            if value != 0:
                message += f"{name}: {value:.3f} "
        self.log(message)

    def plot_current_errors(self, errors: dict[str, float], step: int) -> None:
        """With --tf_log, adds one TensorBoard scalar per loss (tag = loss name) at `step`."""
        if self.writer is None:
            return
        for name, value in errors.items():
            self.writer.add_scalar(name, value, step)
        self.writer.flush()

    def display_current_results(self, visuals: dict[str, np.ndarray], epoch: int, step: int) -> None:
        """Shows the display images in TensorBoard (--tf_log) and on the web page (unless --no_html).

        Args:
            visuals: label -> uint8 `(H, W, 3)` or `(H, W)` image, in the order they should appear.
            epoch: the current epoch; an earlier display of the same epoch is overwritten.
            step: the TensorBoard step (total iterations).
        """
        if self.writer is not None:
            for label, image in visuals.items():
                self.writer.add_image(label, image, step, dataformats="HWC" if image.ndim == 3 else "HW")
            self.writer.flush()

        if self.use_html:
            for label, image in visuals.items():
                save_image(image, os.path.join(self.img_dir, _image_name(epoch, label)))
            self._write_page(list(visuals), epoch)

    def log(self, message: str) -> None:
        """Prints `message` and appends it to loss_log.txt (checkpoint saves, epoch ends...)."""
        print(message)
        self._append(message)

    def close(self) -> None:
        """Flushes and closes the TensorBoard writer, if any."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _append(self, line: str) -> None:
        with open(self.log_name, "a", encoding="utf-8") as log_file:
            log_file.write(line + "\n")

    def _write_page(self, labels: list[str], epoch: int) -> None:
        """Regenerates web/index.html for epochs `epoch` down to 1 with the images of `labels`.

        Unlike the official page, images never written (an epoch without a display) are left out instead of
        being shown broken, and the page does not carry the official, misspelt and so inert, meta refresh.
        """
        page = HTML(self.web_dir, f"Experiment name = {self.name}")
        for n in range(epoch, 0, -1):
            shown = [lb for lb in labels if os.path.isfile(os.path.join(self.img_dir, _image_name(n, lb)))]
            if not shown:
                continue
            page.add_header(f"epoch [{n}]")
            ims = [_image_name(n, label) for label in shown]
            rows = [(ims, shown)]
            if len(ims) >= _TWO_ROWS_FROM:
                # Python's round, as the official code: 7 images -> 4 + 3, 9 images -> 4 + 5 (half to even)
                first = round(len(ims) / 2)
                rows = [(ims[:first], shown[:first]), (ims[first:], shown[first:])]
            for row_ims, row_labels in rows:
                page.add_images(row_ims, row_labels, row_ims, width=self.win_size)
        page.save()


def _image_name(epoch: int, label: str) -> str:
    return f"epoch{epoch:03d}_{label}.jpg"
