"""Times the flow estimators per frame pair and measures their peak extra memory; prints a markdown table.

    python scripts/benchmark_flow.py [--sizes 512x256 1024x512] [--devices cpu cuda] [--repeat 2]

Rows: `flownet2` (the FlowNet2 estimator; random weights unless --flownet_checkpoint is given, which does
not change the cost), `dis` (OpenCV DIS) and `correlation` (FlowNetC's correlation op alone, on the 1/8
resolution, 256-channel features it gets at that frame size). Times are the best of --repeat calls after
--warmup calls. Peak extra memory is measured on one call: on the GPU, the peak of torch's allocator above
what was allocated before; on the CPU, in a fresh process per row, the peak resident set size above the size
before the call, with glibc told to unmap freed blocks at once so that the resident size follows the memory
in use (Linux only).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import torch  # noqa: E402

from models.flow.estimator import DISEstimator, FlowNet2Estimator  # noqa: E402
from models.flow.flownet2 import FlowNet2  # noqa: E402
from models.flow.ops import correlation  # noqa: E402


def frame_size(text: str) -> tuple[int, int]:
    """'1024x512' -> (1024, 512)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame size WxH, e.g. 1024x512") from None
    return width, height


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", type=frame_size, default=[(512, 256), (1024, 512)],
                   help="frame sizes, WxH")
    p.add_argument("--estimators", nargs="+", default=["flownet2", "dis", "correlation"],
                   choices=["flownet2", "dis", "correlation"])
    p.add_argument("--devices", nargs="+", default=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    p.add_argument("--repeat", type=int, default=3, help="timed runs per row; the fastest is reported")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs per row")
    p.add_argument("--flownet_checkpoint", default=None, help="use these FlowNet2 weights instead of random ones")
    # internal: print the CPU peak memory of one call of this estimator at the first size (a fresh process)
    p.add_argument("--memory_of", help=argparse.SUPPRESS)
    return p.parse_args()


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field))
    return int(line.split()[1]) / 1024


def peak_extra_mb(fn: Callable[[], object], device: torch.device) -> float:
    """Runs `fn` once; returns its peak memory above what was in use before, in MB.

    GPU: torch's allocator statistics. CPU: the peak resident set size of this process (Linux only; exact
    only in a process started with MALLOC_MMAP_THRESHOLD_ set, see `cpu_peak_in_fresh_process`).
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    if not os.path.exists("/proc/self/clear_refs"):
        return float("nan")
    gc.collect()
    base = _status_mb("VmRSS:")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM, the peak RSS
    fn()
    return _status_mb("VmHWM:") - base


def cpu_peak_in_fresh_process(name: str, width: int, height: int, checkpoint: str | None) -> float:
    """`peak_extra_mb` of one CPU call, run by this script in a new process.

    A new process, because memory freed by earlier calls stays resident and gets reused; and glibc's
    threshold for giving blocks their own mapping is fixed at 64 KB there, because by default glibc raises
    it as blocks are freed and then keeps freed memory resident too.
    """
    command = [sys.executable, os.path.abspath(__file__), "--memory_of", name, "--sizes", f"{width}x{height}"]
    if checkpoint is not None:
        command += ["--flownet_checkpoint", checkpoint]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(64 * 1024))
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.split()[-1])


def seconds_per_call(fn: Callable[[], object], device: torch.device, repeat: int, warmup: int) -> float:
    """The fastest of `repeat` timed calls, after `warmup` untimed ones (robust to other jobs on the host)."""
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        fn()
    sync()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        timings.append(time.perf_counter() - start)
    return min(timings)


def write_random_checkpoint(folder: str) -> str:
    """Saves a randomly initialised FlowNet2 as `{'state_dict': ...}`, like the official file; returns the path."""
    path = os.path.join(folder, "random_flownet2.pth.tar")
    torch.save({"state_dict": FlowNet2().state_dict()}, path)
    return path


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def make_call(name: str, device: torch.device, width: int, height: int,
              checkpoint: str | None) -> Callable[[], object]:
    """One benchmarked call on fixed random inputs: a frame pair, or FlowNetC's features for `correlation`."""
    gen = torch.Generator().manual_seed(0)
    if name == "correlation":
        shape = (1, 256, height // 8, width // 8)
        f1, f2 = (torch.randn(shape, generator=gen).to(device) for _ in range(2))
        return functools.partial(correlation, f1, f2)
    estimator = FlowNet2Estimator(checkpoint) if name == "flownet2" else DISEstimator()
    im1, im2 = (torch.rand(1, 3, height, width, generator=gen).mul(2).sub(1).to(device) for _ in range(2))
    return functools.partial(estimator.to(device), im1, im2)


def benchmark(args: argparse.Namespace, checkpoint: str | None) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads on {cpu_name()}"
          + "".join(f", {torch.cuda.get_device_name(d)}" for d in args.devices if d.startswith("cuda")))
    print(f"\n| estimator | device | frame size | seconds / pair (best of {args.repeat}) "
          "| peak extra memory (MB) |")
    print("|---|---|---|---|---|")
    for name in args.estimators:
        for device in map(torch.device, args.devices):
            for width, height in args.sizes:
                call = make_call(name, device, width, height, checkpoint)
                seconds = seconds_per_call(call, device, args.repeat, args.warmup)
                peak = (peak_extra_mb(call, device) if device.type == "cuda"
                        else cpu_peak_in_fresh_process(name, width, height, checkpoint))
                print(f"| {name} | {device} | {width}x{height} | {seconds:.3f} | {peak:.0f} |", flush=True)
                del call  # frees the estimator before the next row builds its own


def main() -> None:
    args = parse_args()
    try:
        if args.memory_of is not None:
            (width, height), cpu = args.sizes[0], torch.device("cpu")
            print(peak_extra_mb(make_call(args.memory_of, cpu, width, height, args.flownet_checkpoint), cpu))
        elif args.flownet_checkpoint is not None or "flownet2" not in args.estimators:
            benchmark(args, args.flownet_checkpoint)
        else:
            with tempfile.TemporaryDirectory() as folder:
                benchmark(args, write_random_checkpoint(folder))
    except (ValueError, OSError) as err:
        sys.exit(f"benchmark_flow.py: error: {err}")


if __name__ == "__main__":
    main()
