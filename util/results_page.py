"""The test results page: one section per sequence with its videos and a strip of frames.

The official test.py writes no page; ours lets a reader play every result in a browser. The page sits in the
results folder and reaches every file by a relative path, so the folder can be copied or served as it is.
"""

from __future__ import annotations

import os
from typing import TypedDict

import numpy as np

from util.html import HTML

# How many frames, evenly spaced over the sequence, the strip under the videos shows.
_STRIP_LENGTH = 6


class SequenceResult(TypedDict):
    """What test.py produced for one sequence; paths are absolute or relative to the working directory."""

    name: str  # the sequence folder name
    video: str  # mp4 of the generated frames (fake_B)
    side_by_side: str  # mp4 of real_A | fake_B
    frames: list[str]  # the generated frame images, in order


def write_results_page(results_dir: str, sequences: list[SequenceResult], width: int = 512) -> str:
    """Writes `<results_dir>/index.html` and returns its path.

    Args:
        results_dir: the page's folder, e.g. `results/<name>/<phase>_<which_epoch>`.
        sequences: one entry per sequence, in page order.
        width: display width in pixels of the generated video; the side-by-side one gets twice as much, the
            strip's frames half as much.
    """
    # titled by the last two folders, <name>/<phase>_<which_epoch>, not by a machine-specific absolute path
    title = "/".join(os.path.normpath(os.path.abspath(results_dir)).split(os.sep)[-2:])
    page = HTML(results_dir, f"Results: {title}", image_subdir="")
    for seq in sequences:
        page.add_header(seq["name"])
        page.add_videos([os.path.relpath(seq["video"], results_dir)], ["fake_B"], width=width)
        # twice as wide so that both halves show at the generated video's size
        both = os.path.relpath(seq["side_by_side"], results_dir)
        page.add_videos([both], ["real_A | fake_B"], width=2 * width)
        if seq["frames"]:
            picks = np.linspace(0, len(seq["frames"]) - 1, min(_STRIP_LENGTH, len(seq["frames"])))
            strip = [os.path.relpath(seq["frames"][round(i)], results_dir) for i in picks]
            captions = [os.path.splitext(os.path.basename(f))[0] for f in strip]
            page.add_images(strip, captions, strip, width=width // 2)
    return page.save()
