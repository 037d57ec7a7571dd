"""Where a training step goes, and how fast the generator renders: a table per named configuration.

    python scripts/benchmark.py [--configs tiny fixture g1_256 g1_512] [--videos 4] [--epochs 2] [--flags=...]
                                [--frames 10] [--json OUT] [--compare REF]
    python scripts/benchmark.py --configs street_2048 --generation_only     # the test-time fps on a GPU

For each configuration it generates the synthetic street data it needs, builds the real Trainer (so the
timed code is the training code), runs a few videos and splits the seconds per training chunk into data
loading, reference flow, G forward, the discriminators' forwards, backward + optimizer steps, the rest
(losses, temporal groups) and one checkpoint save (amortised over --save_every videos, default the official
--save_latest_freq 1000). It then times test-time generation (frames per second under inference_mode),
counts the FLOPs of one generated frame (torch.utils.flop_counter), and reports the achieved GFLOP/s next
to a 2048x2048 float32 matmul timed in the same run (the machine's practical ceiling), and the peak memory
(RSS on the CPU, max_memory_allocated on a GPU). Each configuration runs in its own process, so peaks are
its own. FlowNet2 runs with random weights (same cost as the official ones). With `--epochs E` > 1 the first
E - 1 epochs warm up and every video of the last one is timed, e.g. to see the reference-flow cache hit
(`fixture_whole`: the fixture on windows that are whole videos, without flips, so every epoch sees the same
chunks); `--flags` adds training flags to every configuration, e.g. `--flags=--flow_cache_mb=0`.
`--generation_only` skips the training part (its cells print '-'): `street_2048` is the model of the official
test_2048.sh at 2048x1024, which no single device trains.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.datasets.synthetic_street import generate_dataset  # noqa: E402

FIXTURE_FLAGS = ["--label_nc", "35", "--use_instance", "--fg", "--ngf", "32", "--n_downsample_G", "3",
                 "--n_blocks", "3", "--num_D", "2", "--max_frames_per_gpu", "2", "--n_frames_total", "4", "--no_vgg"]
CONFIGS = {
    # name: (width, height, frames per video, flags)
    "tiny": (64, 32, 6, ["--label_nc", "35", "--use_instance", "--fg", "--ngf", "8", "--ndf", "8", "--n_downsample_G",
                         "2", "--n_blocks", "2", "--num_D", "1", "--n_layers_D", "2", "--max_frames_per_gpu", "2",
                         "--n_frames_total", "4", "--no_vgg", "--flownet", "dis"]),
    "fixture": (256, 128, 8, FIXTURE_FLAGS),
    "fixture_dis": (256, 128, 8, [*FIXTURE_FLAGS, "--flownet", "dis"]),
    "fixture_whole": (256, 128, 8, [*FIXTURE_FLAGS, "--n_frames_total", "6", "--no_flip"]),
    "g1_256": (256, 128, 8, ["--label_nc", "35", "--use_instance", "--fg", "--n_downsample_G", "2", "--num_D", "1",
                             "--max_frames_per_gpu", "6", "--n_frames_total", "6", "--no_vgg"]),
    "g1_512": (512, 256, 6, ["--label_nc", "35", "--use_instance", "--fg", "--n_scales_spatial", "2",
                             "--n_downsample_G", "2", "--max_frames_per_gpu", "2", "--n_frames_total", "4",
                             "--no_vgg"]),
    # the model of scripts/street/test_2048.sh (its first frames come from the real ones here, not from the
    # single-frame G of --use_single_G); for --generation_only: the official code trained it on 8 GPUs
    "street_2048": (2048, 1024, 3, ["--label_nc", "35", "--use_instance", "--fg", "--n_scales_spatial", "3",
                                    "--max_frames_per_gpu", "1", "--n_frames_total", "3", "--no_vgg",
                                    "--flownet", "dis"]),
}
PHASES = ("data", "reference flow", "G forward", "D forwards", "backward + step", "other", "save")


def random_flownet2(checkpoint_path: str):
    """FlowNet2 with its own random initialisation, as `load_flownet2` would return it (no file needed)."""
    from models.flow.flownet2 import FlowNet2

    return FlowNet2().float().eval().requires_grad_(False)


class PhaseTimer:
    """Accumulates wall time per phase; `nested` phases (D inside the losses) are subtracted from 'other'."""

    def __init__(self, device: torch.device) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.device = device

    def now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def wrap(self, phase: str, function):
        def timed(*args, **kwargs):
            start = self.now()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[phase] += self.now() - start
        return timed

    def hook_module(self, phase: str, module: torch.nn.Module) -> None:
        starts: list[float] = []
        module.register_forward_pre_hook(lambda *_: starts.append(self.now()))
        module.register_forward_hook(lambda *_: self.seconds.__setitem__(phase, self.seconds[phase] +
                                                                         self.now() - starts.pop()))


def build_trainer(config: str, work: str, extra_flags: list[str]):
    """The Trainer of a configuration on freshly generated data (and its options); `extra_flags` go last."""
    from options.train_options import TrainOptions
    from training.trainer import Trainer

    width, height, n_frames, flags = CONFIGS[config]
    root = os.path.join(work, "data")
    generate_dataset(root, n_train=4, n_test=1, n_frames=n_frames, width=width, height=height, seed=0)
    device = "0" if torch.cuda.is_available() else "-1"
    args = ["--dataroot", root, "--checkpoints_dir", os.path.join(work, "ckpt"), "--name", config,
            "--loadSize", str(width), "--gpu_ids", device, "--nThreads", "2", "--seed", "0", "--no_html",
            *flags, *extra_flags]
    opt = TrainOptions().parse(args, save=False, quiet=True)
    with mock.patch("models.flow.estimator.load_flownet2", random_flownet2):
        return Trainer(opt), opt


def batches(loader, n_videos: int, epochs: int):
    """(timed, batch) pairs: one warm-up video then `n_videos` (`epochs` 1), or every video of `epochs` - 1
    warm-up epochs then those of the last one."""
    if epochs == 1:
        items = iter(loader)
        for video in range(n_videos + 1):
            yield video > 0, next(items)
        return
    for epoch in range(epochs):
        for data in loader:
            yield epoch == epochs - 1, data


def time_training(trainer, n_videos: int, save_every: int, epochs: int) -> dict[str, float]:
    """Seconds per training chunk by phase, over the timed videos of `batches`."""
    import training.trainer as trainer_module
    from models.flow.cache import CachedFlowEstimator

    timer = PhaseTimer(trainer.device)
    model = trainer.model
    model.flow_estimator.forward = timer.wrap("reference flow", model.flow_estimator.forward)
    model.G.forward = timer.wrap("G forward", model.G.forward)
    for name in model.D.net_names():
        timer.hook_module("D forwards", getattr(model.D, f"net{name}"))
    counted = {"chunks": 0}
    generate_chunk = model.generate_chunk

    def count_chunk(*args, **kwargs):
        counted["chunks"] += 1
        return generate_chunk(*args, **kwargs)

    model.generate_chunk = count_chunk
    total, start = 0.0, timer.now()
    # the trainer's backward and optimizer step, both counted as "backward + step"
    with mock.patch.object(trainer_module, "backward", timer.wrap("backward + step", trainer_module.backward)), \
            mock.patch.object(trainer_module, "optimizer_step",
                              timer.wrap("backward + step", trainer_module.optimizer_step)):
        for timed, data in batches(trainer.loader, n_videos, epochs):
            loaded = timer.now()
            trainer.train_video(data)
            if not timed:  # warm-up: allocator, oneDNN primitive caches, first FlowNet2 call
                timer.seconds.clear()
                counted["chunks"] = 0
                if isinstance(model.flow_estimator, CachedFlowEstimator):
                    model.flow_estimator.report()  # resets its counts: the timed videos' are reported
                start = timer.now()
                continue
            timer.seconds["data"] += loaded - start
            total += timer.now() - start
            start = timer.now()
    start = timer.now()
    trainer.save("latest", 1, 1)
    per_chunk = {phase: timer.seconds[phase] / counted["chunks"] for phase in PHASES[:-2] if phase != "other"}
    per_chunk["other"] = total / counted["chunks"] - sum(per_chunk.values())
    chunks_per_video = counted["chunks"] / n_videos
    per_chunk["save"] = (timer.now() - start) / (save_every * chunks_per_video)
    return per_chunk


def time_generation(trainer, n_frames: int) -> dict[str, float]:
    """Test-time frames per second, FLOPs per frame, and the achieved GFLOP/s of G."""
    from torch.utils.flop_counter import FlopCounterMode

    G, device = trainer.model.G, trainer.device
    data = trainer.loader.dataset.dataset[0]
    tG = G.tG
    A, B = data["A"][None, :tG].to(device), data["B"][None, :tG].to(device)
    inst = data["inst"][None, :tG].to(device) if "inst" in data else None
    with torch.inference_mode():
        prev = G.start_frames(A, B, True, None)
        G.inference(A, inst, prev, False)  # warm-up
        with FlopCounterMode(display=False) as counter:
            G.inference(A, inst, prev, False)
        timer = PhaseTimer(device)
        start = timer.now()
        for _ in range(n_frames):
            _, _, prev = G.inference(A, inst, prev, False)
        seconds = (timer.now() - start) / n_frames
    flops = counter.get_total_flops()
    return {"fps": 1 / seconds, "gflop_per_frame": flops / 1e9, "gflops": flops / seconds / 1e9}


def matmul_ceiling(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of an n x n float32 matmul on `device` (best of `repeats`)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    timer, best = PhaseTimer(device), float("inf")
    a @ b
    for _ in range(repeats):
        start = timer.now()
        a @ b
        best = min(best, timer.now() - start)
    return 2 * n**3 / best / 1e9


def run_child(config: str, args: argparse.Namespace) -> dict:
    """Everything measured for one configuration, in this process."""
    from models.flow.cache import CachedFlowEstimator

    with tempfile.TemporaryDirectory() as work:
        trainer, opt = build_trainer(config, work, args.flags.split())
        seconds = None if args.generation_only else time_training(trainer, args.videos, args.save_every, args.epochs)
        cache = trainer.model.flow_estimator
        result = {"config": config, "device": str(trainer.device), "size": f"{opt.loadSize}x{CONFIGS[config][1]}",
                  "threads": torch.get_num_threads(), "train_seconds_per_chunk": seconds,
                  "flow_cache": cache.report() if isinstance(cache, CachedFlowEstimator) else "no flow cache"}
        if args.generation_only and trainer.device.type == "cuda":  # the peak of rendering (weights included)
            torch.cuda.reset_peak_memory_stats(trainer.device)
        result.update(time_generation(trainer, args.frames))
        result["matmul_gflops"] = matmul_ceiling(trainer.device)
        if trainer.device.type == "cuda":
            result["peak_mb"] = torch.cuda.max_memory_allocated(trainer.device) / 2**20
        else:
            result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def print_table(results: list[dict], reference: dict[str, dict] | None) -> None:
    head = ["config", "device", "size", "s / chunk", *PHASES, "test fps", "GFLOP / frame", "GFLOP/s",
            "% of matmul", "peak MB"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for r in results:
        phases = r["train_seconds_per_chunk"]  # None with --generation_only
        training = [f"{sum(phases.values()):.3f}", *(f"{phases[p]:.3f}" for p in PHASES)] if phases else \
            ["-"] * (len(PHASES) + 1)
        cells = [r["config"], r["device"], r["size"], *training,
                 f"{r['fps']:.2f}", f"{r['gflop_per_frame']:.1f}", f"{r['gflops']:.1f}",
                 f"{100 * r['gflops'] / r['matmul_gflops']:.0f}", f"{r['peak_mb']:.0f}"]
        print("| " + " | ".join(cells) + " |")
    print("\n" + "\n".join(f"{r['config']}: {r['flow_cache']}" for r in results))
    if reference:
        print("\nratio to the reference (new / reference):\n\n| config | s / chunk | test fps |\n|---|---|---|")
        for r in results:
            ref = reference.get(r["config"])
            if ref:
                phases, ref_phases = r["train_seconds_per_chunk"], ref["train_seconds_per_chunk"]
                ratio = f"{sum(phases.values()) / sum(ref_phases.values()):.2f}" if phases and ref_phases else "-"
                print(f"| {r['config']} | {ratio} | {r['fps'] / ref['fps']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["tiny", "fixture"], choices=sorted(CONFIGS))
    parser.add_argument("--videos", type=int, default=3, help="timed videos per configuration (after a warm-up)")
    parser.add_argument("--save_every", type=int, default=1000, help="videos between saves, to amortise one save")
    parser.add_argument("--epochs", type=int, default=1,
                        help="with more than 1, time every video of the last epoch after the others warm up")
    parser.add_argument("--flags", default="", help="training flags added to every configuration, e.g. "
                                                    "--flags=--flow_cache_mb=0")
    parser.add_argument("--generation_only", action="store_true",
                        help="time test-time generation only (e.g. street_2048, too large to train on one device)")
    parser.add_argument("--frames", type=int, default=10, help="generated frames timed per configuration")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--compare", help="a JSON written by --json, to print ratios against")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args)))
        return
    if args.epochs < 1 or args.frames < 1:
        raise SystemExit(f"--epochs {args.epochs} --frames {args.frames}: expected 1 or more")
    results = []
    for config in args.configs:
        out = subprocess.run([sys.executable, __file__, "--child", config, "--videos", str(args.videos),
                              "--save_every", str(args.save_every), "--epochs", str(args.epochs),
                              "--frames", str(args.frames), f"--flags={args.flags}",
                              *(["--generation_only"] if args.generation_only else [])],
                             capture_output=True, text=True, cwd=REPO)
        if out.returncode != 0:
            raise SystemExit(f"{config} failed:\n{out.stderr[-3000:]}")
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    reference = None
    if args.compare:
        with open(args.compare) as f:
            reference = {r["config"]: r for r in json.load(f)}
    print_table(results, reference)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
