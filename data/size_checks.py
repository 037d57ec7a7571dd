"""Frame-size checks: will every frame the transforms can produce fit the coarse-to-fine generator?

The datasets run `check_frame_sizes` on one frame per sequence when they are built, so a bad
--loadSize / --fineSize / --resize_or_crop fails at once with sizes that would work, instead of with a
shape mismatch deep inside the generator. Sizes are (w, h).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from data.frame_readers import image_size
from data.transforms import central_crop_bounds, crop_size, has_crop, is_random_scale, make_power_2, scaled_size


def check_frame_sizes(opt: argparse.Namespace, paths: Iterable[str], central_crop: bool = False) -> None:
    """Runs `check_frame_size` once per distinct image size among `paths` (file headers only)."""
    first_path_of_size: dict[tuple[int, int], str] = {}
    for path in paths:
        first_path_of_size.setdefault(image_size(path), path)
    for size, path in first_path_of_size.items():
        check_frame_size(opt, size, path, central_crop)


def check_frame_size(opt: argparse.Namespace, size: tuple[int, int], path: str, central_crop: bool = False) -> None:
    """Checks that an image of `size` (w, h) becomes frames the generator can take.

    The coarsest generator sees the frame downsampled n_scales_spatial-1 times and then applies
    n_downsample_G stride-2 convolutions, and its skip additions need every level to halve exactly, so
    H and W must be multiples of 2**(n_downsample_G + n_scales_spatial - 1). `central_crop`: the frames then
    lose their side columns (pose mode, `data.transforms.central_crop`). Raises ValueError naming the size,
    the divisor and sizes that would work.
    """
    mode = opt.resize_or_crop
    if is_random_scale(mode) and opt.fineSize > opt.loadSize + 1:
        raise ValueError(f"--resize_or_crop {mode} draws the scaled side from [--fineSize, --loadSize + 1]: "
                         f"--fineSize {opt.fineSize} must not exceed --loadSize {opt.loadSize} + 1")
    divisor = generator_divisor(opt)
    bad = sorted(s for s in possible_output_sizes(opt, size, central_crop) if not _divisible(s, divisor))
    if bad:
        width, height = bad[0]
        fine = f" --fineSize {opt.fineSize}" if has_crop(mode) or is_random_scale(mode) else ""
        what = "after the central crop of the pose mode " if central_crop else ""
        if central_crop and width == 0:
            raise ValueError(f"{path}: frames resized by --resize_or_crop {mode} --loadSize {opt.loadSize}{fine} "
                             "are narrower than 128 pixels, so the central crop of the pose mode keeps no column; "
                             f"{_suggest_sizes(opt, size, divisor, central_crop)}")
        raise ValueError(f"{path}: frames of {width}x{height} (WxH) {what}after --resize_or_crop {mode} "
                         f"--loadSize {opt.loadSize}{fine} are not divisible by {divisor} = "
                         f"2**(n_downsample_G + n_scales_spatial - 1); "
                         f"{_suggest_sizes(opt, size, divisor, central_crop)}")


def generator_divisor(opt: argparse.Namespace) -> int:
    """What H and W must be multiples of for the coarse-to-fine generator."""
    return 2 ** (opt.n_downsample_G + opt.n_scales_spatial - 1)


def possible_output_sizes(opt: argparse.Namespace, size: tuple[int, int],
                          central_crop: bool = False) -> set[tuple[int, int]]:
    """Every (W, H) the transform (and, with `central_crop`, the pose mode's central crop) can give an image
    of `size`: several only for randomScale modes."""
    w, h = size
    mode = opt.resize_or_crop
    sides = range(opt.fineSize, opt.loadSize + 2) if is_random_scale(mode) else [None]
    sizes = set()
    for side in sides:
        new_w, new_h = scaled_size(opt, w, h, side)
        if "resize" in mode:  # the official Scale((loadSize, loadSize)) ignores the rounded new_size
            new_w = new_h = opt.loadSize
        if has_crop(mode):
            crop_w, crop_h = crop_size(opt, w, h)
            sizes.add((min(new_w, crop_w), min(new_h, crop_h)))
        elif "resize" in mode:
            sizes.add((new_w, new_h))
        else:
            sizes.add((make_power_2(new_w), make_power_2(new_h)))
    if central_crop:
        sizes = {(x1 - x0, height) for (width, height) in sizes for x0, x1 in [central_crop_bounds(width)]}
    return sizes


def _divisible(size: tuple[int, int], divisor: int) -> bool:
    return all(side > 0 and side % divisor == 0 for side in size)


def _suggest_sizes(opt: argparse.Namespace, size: tuple[int, int], divisor: int, central_crop: bool = False) -> str:
    """The nearest --loadSize (then, in crop modes, --fineSize) that makes every possible frame size fit.

    Multiples of the divisor are tried first because they are the sizes a user would pick.
    """
    def works(load: int, fine: int) -> bool:
        if load < 1 or fine < 1 or (is_random_scale(opt.resize_or_crop) and fine > load + 1):
            return False
        trial = argparse.Namespace(**{**vars(opt), "loadSize": load, "fineSize": fine})
        return all(_divisible(s, divisor) for s in possible_output_sizes(trial, size, central_crop))

    def nearest(value: int, step: int) -> list[int]:
        """Candidates within [value / 2, 2 * value + divisor], nearest first."""
        first = -(-max(1, value // 2) // step) * step  # the lower bound rounded up to a multiple of step
        return sorted(range(first, 2 * value + divisor, step), key=lambda c: (abs(c - value), c))

    for step in (divisor, 1):
        for load in nearest(opt.loadSize, step):
            if works(load, opt.fineSize):
                return f"try --loadSize {load}"
    if has_crop(opt.resize_or_crop):
        for fine in nearest(opt.fineSize, divisor):
            # A crop larger than the scaled image does nothing, so also try raising --loadSize with it.
            for load in dict.fromkeys((opt.loadSize, max(opt.loadSize, fine))):
                if works(load, fine):
                    load_flag = f"--loadSize {load} " if load != opt.loadSize else ""
                    return f"try {load_flag}--fineSize {fine}"
    return f"choose --loadSize and --fineSize so that both frame sides are multiples of {divisor}"
