"""Score rendered test frames against the ground truth with the field's metrics (docs/evaluation.md).

Usage, from the repository root:
    python scripts/evaluate.py --results DIR --ground_truth DIR [--metrics psnr,ssim,warp,tof,lpips,tlp,fid,fvd]
        [--json OUT] [--markdown OUT] [--copy_frame] [--extra_results LABEL=DIR ...] [weights flags]
or, with the flags test.py was run with (then --results defaults to <results_dir>/<name>/<phase>_<which_epoch>,
rendered first when it holds no frames, and --ground_truth to <dataroot>/<phase>_B):
    python scripts/evaluate.py --name demo_street --dataroot datasets/synthetic_street --use_real_img \\
        [model flags: --label_nc 35 --use_instance --fg --ngf 16 ...] [--untrained] [--copy_frame] [...]

Frames are matched by name per sequence (evaluation/frames.py). Rows of the tables:
- the results (test.py's `fake_B_<stem>.jpg`, or any `<stem>.<ext>` images);
- untrained (--untrained): a generator of the same options with its random initialisation (seeded by
  --init_seed), saved as a checkpoint in a temporary folder and rendered by test.py's own code;
- copy frame (--copy_frame): the last real frame the model is given (frame tG-2 of each sequence, with
  --use_real_img) repeated, i.e. what a model that never moves anything would score;
- one row per --extra_results LABEL=DIR (another run, e.g. one trained with --no_flow).
Every row is scored on the same frames (those all runs have). Printed: a table of the means over all frames,
then a table per sequence; --markdown and --json write them. Without --metrics, the metrics that need no
weights file: PSNR, SSIM, the flow-warping error (and the ground truth's own, its floor) and tOF.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import os
import sys
import tempfile
import warnings
from pathlib import Path

# scripts/ is not a package: make the repository's modules importable when run as a plain script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import test as test_script  # noqa: E402
from evaluation.arguments import add_metric_arguments, settings_from  # noqa: E402
from evaluation.frames import (  # noqa: E402
    Sequence,
    copy_frame_sequences,
    image_sequences,
    match_frames,
    restrict_to_common,  # noqa: E402
)
from evaluation.report import report, write_outputs  # noqa: E402
from evaluation.scoring import Scorer  # noqa: E402
from models import checkpoints as ckpt  # noqa: E402
from models.vid2vid.generator import Vid2VidGenerator  # noqa: E402
from options.test_options import TestOptions  # noqa: E402
from util.cli import run_main  # noqa: E402


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, argparse.Namespace]:
    """This script's own flags, then the test options built from every other flag."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Every other flag is a test.py flag (see options/test_options.py).",
                                     allow_abbrev=False)  # a prefix of a test.py flag must reach test.py
    parser.add_argument("--results", default="", help="the frames to score (default: from the test options)")
    parser.add_argument("--ground_truth", default="", help="the real frames (default: <dataroot>/<phase>_B)")
    parser.add_argument("--run_label", default="", help="name of the results' row")
    parser.add_argument("--untrained", action="store_true", help="add a row for the randomly initialised model")
    parser.add_argument("--init_seed", type=int, default=0, help="seed of the untrained model's initialisation")
    parser.add_argument("--copy_frame", action="store_true",
                        help="add a row for repeating the last real input frame (frame --n_frames_G - 2)")
    parser.add_argument("--extra_results", action="append", default=[], metavar="LABEL=DIR",
                        help="add a row for another results folder (repeatable)")
    parser.add_argument("--markdown", default="", help="also write the tables to this file")
    parser.add_argument("--json", default="", help="also write the rows (with per-sequence means) as JSON")
    add_metric_arguments(parser)
    own, rest = parser.parse_known_args(argv)
    with warnings.catch_warnings():
        if not rest:  # no test.py flags: the default --gpu_ids 0 is not the user's choice, so no CUDA warning
            warnings.simplefilter("ignore", UserWarning)
        opt = TestOptions().parse(rest, quiet=True)
    return own, opt


def render_untrained(opt: argparse.Namespace, seed: int, tmp: str) -> str:
    """Saves a randomly initialised generator of `opt` as `latest` in the experiment folder `tmp` and renders
    the test set with it (frames only). Returns the frames' folder."""
    untrained = copy.deepcopy(opt)
    untrained.checkpoints_dir = os.path.join(tmp, "checkpoints")
    untrained.results_dir = os.path.join(tmp, "results")
    untrained.load_pretrain = ""
    untrained.which_epoch = "latest"
    untrained.no_video = True
    torch.manual_seed(seed)
    generator = Vid2VidGenerator(untrained)
    for scale, net in enumerate(generator.scale_nets()):
        ckpt.save_network(net, ckpt.network_path(os.path.join(untrained.checkpoints_dir, opt.name), "latest",
                                                 f"G{scale}"))
    with contextlib.redirect_stdout(io.StringIO()):
        return test_script.render(untrained)


def results_folder(own: argparse.Namespace, opt: argparse.Namespace) -> str:
    """--results, or test.py's folder for the test options, rendered now (frames only) when it has none."""
    if own.results:
        return own.results
    save_dir = os.path.join(opt.results_dir, opt.name, f"{opt.phase}_{opt.which_epoch}")
    if not (os.path.isdir(save_dir) and image_sequences(save_dir, save_dir)):
        print(f"no rendered frames in {save_dir}: rendering them with test.py (no videos)")
        rendering = copy.deepcopy(opt)
        rendering.no_video = True
        test_script.render(rendering)
    return save_dir


def split_label(text: str) -> tuple[str, str]:
    """'LABEL=DIR' -> (LABEL, DIR); ValueError naming --extra_results otherwise."""
    label, sep, folder = text.partition("=")
    if not sep or not label or not folder:
        raise ValueError(f"--extra_results {text!r}: expected LABEL=DIR")
    return label, folder


def collect_runs(own: argparse.Namespace, opt: argparse.Namespace, truth_dir: str,
                 tmp: str) -> list[tuple[str, list[Sequence]]]:
    """(label, matched sequences) of every row, cut down to the frames all runs have."""
    results = results_folder(own, opt)
    label = own.run_label or (results if own.results else f"trained ({opt.name}, {opt.which_epoch})")
    runs = [(label, match_frames(results, truth_dir))]
    if own.untrained:
        untrained_dir = render_untrained(opt, own.init_seed, tmp)
        runs.append((f"untrained (random init, seed {own.init_seed})",
                     match_frames(untrained_dir, truth_dir, f"untrained rendering {untrained_dir}")))
    for text in own.extra_results:
        extra_label, folder = split_label(text)
        runs.append((extra_label, match_frames(folder, truth_dir, f"--extra_results {text}")))
    labels = [name for name, _ in runs]
    runs = list(zip(labels, restrict_to_common([seqs for _, seqs in runs], labels)))
    if own.copy_frame:
        given = opt.n_frames_G - 2
        runs.append((f"copy the last real input frame (frame {given})",
                     copy_frame_sequences(runs[0][1], truth_dir, given)))
    return runs


def main(argv: list[str] | None = None) -> None:
    own, opt = parse_args(argv)
    settings = settings_from(own)
    truth_dir = own.ground_truth or os.path.join(opt.dataroot, f"{opt.phase}_B")
    if own.copy_frame and not opt.use_real_img and not own.results:
        print("note: without --use_real_img the first frames are not the ground truth's; "
              "the copy-frame row still repeats the real frame tG-2")
    scorer = Scorer(settings)  # loads the networks first: a missing weights file fails before any rendering
    with tempfile.TemporaryDirectory(prefix="untrained_") as tmp:
        runs = collect_runs(own, opt, truth_dir, tmp)
        rows = scorer.score_runs(runs)
    print(report(rows, truth_dir))
    write_outputs(rows, truth_dir, own.markdown, own.json, {"metrics": settings.metrics})


if __name__ == "__main__":
    run_main(main)
