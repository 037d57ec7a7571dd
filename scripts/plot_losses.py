"""Draws the loss curves of a training run from its loss_log.txt into a PNG (with PIL: no plotting library).

Usage, from the repository root:
    python scripts/plot_losses.py --name demo_street [--checkpoints_dir ./checkpoints] [--out losses.png]

The log holds lines such as `(epoch: 3, iters: 40, time: 0.124) D_T_real0: 0.123 D_fake: 0.250 G_GAN: 1.500 `
(zero losses are left out of a line). Runs append to the log: a run resumed with --continue_train goes on from
its checkpoint, a run started afresh from (epoch 1, iters 1); a line that goes back in (epoch, iters) replaces
the lines from that point on, so the curves show the history of the model last trained. The losses are drawn in
panels (generator adversarial terms, generator feature-matching terms, flow and warp terms, discriminators),
each raw in a light tint with its moving average on top, the legend in the emptiest corner; a panel whose
values span more than a factor of 30 gets a logarithmic y axis.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

_LINE = re.compile(r"\(epoch: (\d+), iters: (\d+), time: [-\d.eE+naif]+\)(.*)")
_TERM = re.compile(r"([A-Za-z_][A-Za-z_0-9]*): ([-+\d.eE]+|nan|inf|-inf)")

# (panel title, test on the loss name), in drawing order; a name goes to the first panel whose test holds.
PANELS = (
    ("Discriminators", lambda n: n.startswith("D_")),
    ("Generator: adversarial", lambda n: n in ("G_GAN", "G_f_GAN") or re.fullmatch(r"G_T_GAN\d+", n) is not None),
    ("Generator: feature matching and VGG", lambda n: "Feat" in n or n == "G_VGG"),
    ("Flow and warping", lambda n: n in ("F_Flow", "F_Warp", "G_Warp", "W") or n.startswith("G_T_Warp")),
    ("Other", lambda n: True),
)
# A colour-blind-friendly palette (Okabe-Ito, then a few more).
COLOURS = ((0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233),
           (0, 0, 0), (120, 120, 120), (153, 0, 0))
LOG_SCALE_RATIO = 30.0


@dataclass
class LossLog:
    """The history of the model last trained: x[i] is the iteration of the i-th printed line, values[name][i]
    its loss (nan where the line left the loss out)."""

    x: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)
    epoch_size: int = 0


def parse_loss_log(path: str) -> LossLog:
    """Reads `path`; x counts iterations (videos) from the start of training: (epoch - 1) * epoch size + iters,
    the epoch size being the largest `iters` printed."""
    points: list[tuple[int, int, dict[str, float]]] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = _LINE.match(line.strip())
            if not match:
                continue
            epoch, iters = int(match.group(1)), int(match.group(2))
            # a line that goes back in (epoch, iters) starts a resumed or new run: its lines replace the
            # earlier ones from that point on (all of them for a run started afresh)
            while points and points[-1][:2] >= (epoch, iters):
                points.pop()
            terms = {name: float(value) for name, value in _TERM.findall(match.group(3))}
            points.append((epoch, iters, terms))
    log = LossLog()
    if not points:
        return log
    log.epoch_size = max(iters for _, iters, _ in points)
    names = sorted({name for _, _, terms in points for name in terms})
    log.values = {name: [] for name in names}
    for epoch, iters, terms in points:
        log.x.append((epoch - 1) * log.epoch_size + iters)
        for name in names:
            log.values[name].append(terms.get(name, math.nan))
    return log


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over the last `window` values that are not nan (nan where there is none)."""
    out = []
    for i in range(len(values)):
        recent = [v for v in values[max(0, i - window + 1): i + 1] if not math.isnan(v)]
        out.append(sum(recent) / len(recent) if recent else math.nan)
    return out


def nice_ticks(low: float, high: float, n: int = 5) -> list[float]:
    """About n round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, n)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = start
    while value <= high + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _format(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.0e}"
    return f"{value:g}"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # an old Pillow or one without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _tint(colour: tuple[int, int, int], amount: float = 0.7) -> tuple[int, int, int]:
    return tuple(round(c + (255 - c) * amount) for c in colour)


@dataclass(frozen=True)
class _Axes:
    """The data ranges of a panel and the pixel rectangle `plot` (left, top, right, bottom) they map onto.

    With `log_y`, y_low and y_high are powers of ten (exponents) and values are drawn by their log10."""

    plot: tuple[int, int, int, int]
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    log_y: bool

    def px(self, xv: float) -> float:
        """The image column of iteration `xv`."""
        return self.plot[0] + (xv - self.x_low) / (self.x_high - self.x_low) * (self.plot[2] - self.plot[0])

    def py(self, yv: float) -> float:
        """The image row of `yv`, given on the axis scale (already log10 with a logarithmic axis)."""
        return self.plot[3] - (yv - self.y_low) / (self.y_high - self.y_low) * (self.plot[3] - self.plot[1])

    def to_px(self, xv: float, yv: float) -> tuple[float, float]:
        """The image position (column, row) of the loss value `yv` at iteration `xv`."""
        return self.px(xv), self.py(math.log10(yv) if self.log_y else yv)

    def shows(self, yv: float) -> bool:
        """Whether the loss value `yv` can be drawn: finite, and positive on a logarithmic axis."""
        return math.isfinite(yv) and (yv > 0 or not self.log_y)


def _y_scale(series: dict[str, list[float]]) -> tuple[bool, float, float, list[float], list[str]]:
    """Takes the curves of a panel; returns (log_y, y_low, y_high, tick values, tick labels) of its y axis.

    The axis is logarithmic when every finite value is positive and they span more than LOG_SCALE_RATIO; its
    range and ticks are then exponents of ten. Otherwise the range is widened to round ticks (and to 0 when
    the values start near it)."""
    finite = [v for vals in series.values() for v in vals if math.isfinite(v)]
    positive = [v for v in finite if v > 0]
    log_y = bool(positive) and len(positive) == len(finite) and max(positive) / min(positive) > LOG_SCALE_RATIO
    if log_y:
        y_low, y_high = math.log10(min(positive)), math.log10(max(positive))
        ticks = [t for t in range(math.floor(y_low), math.ceil(y_high) + 1)]
        y_low, y_high = min(ticks), max(ticks)
        tick_labels = [_format(10.0**t) for t in ticks]
    else:
        y_low, y_high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        y_low = min(y_low, 0.0) if y_low >= 0 and y_low < 0.25 * y_high else y_low
        ticks = nice_ticks(y_low, y_high)
        y_low, y_high = min(ticks[0], y_low), max(ticks[-1], y_high)
        tick_labels = [_format(t) for t in ticks]
    if y_high <= y_low:
        y_high = y_low + 1.0
    return log_y, y_low, y_high, ticks, tick_labels


def _x_range(x: list[int]) -> tuple[int, int]:
    """Takes the iterations of the points; returns the (low, high) of the x axis, never an empty range."""
    x_low, x_high = (min(x), max(x)) if x else (0, 1)
    if x_high <= x_low:
        x_high = x_low + 1
    return x_low, x_high


def _draw_grid(draw: ImageDraw.ImageDraw, axes: _Axes, y_ticks: list[float], y_labels: list[str],
               font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> None:
    """Draws the grid lines and tick labels of both axes, then the frame of `axes.plot`; returns nothing."""
    plot = axes.plot
    for tick, label in zip(y_ticks, y_labels):
        py = axes.py(tick)
        draw.line([(plot[0], py), (plot[2], py)], fill=(230, 230, 230))
        draw.text((plot[0] - 6, py), label, fill=(60, 60, 60), font=font, anchor="rm")
    for tick in nice_ticks(axes.x_low, axes.x_high, 6):
        if axes.x_low <= tick <= axes.x_high:
            px = axes.px(tick)
            draw.line([(px, plot[1]), (px, plot[3])], fill=(230, 230, 230))
            draw.text((px, plot[3] + 5), _format(tick), fill=(60, 60, 60), font=font, anchor="mt")
    draw.rectangle(plot, outline=(0, 0, 0))


def _draw_curve(draw: ImageDraw.ImageDraw, axes: _Axes, x: list[int], values: list[float],
                colour: tuple[int, int, int], width: int) -> None:
    """Draws `values` (at iterations `x`) as lines `width` px wide, broken where a value cannot be shown; a lone
    drawable point becomes a dot. Returns nothing."""
    segment: list[tuple[float, float]] = []
    for xv, yv in zip(x, values):
        if axes.shows(yv):
            segment.append(axes.to_px(xv, yv))
            continue
        if len(segment) > 1:
            draw.line(segment, fill=colour, width=width, joint="curve")
        segment = []
    if len(segment) > 1:
        draw.line(segment, fill=colour, width=width, joint="curve")
    elif len(segment) == 1:
        px, py = segment[0]
        draw.ellipse((px - width, py - width, px + width, py + width), fill=colour)


def _draw_legend(draw: ImageDraw.ImageDraw, axes: _Axes, x: list[int], curves: list[list[float]],
                 names: list[str], font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> None:
    """Draws the legend of `names` (in the order of COLOURS) in the inside corner of `axes.plot` that hides the
    fewest points of `curves` (all the lines drawn, at iterations `x`). Returns nothing."""
    plot = axes.plot
    width = max(draw.textlength(name, font=font) for name in names) + 34
    height = 16 * len(names) + 6
    points = [axes.to_px(xv, yv) for values in curves for xv, yv in zip(x, values) if axes.shows(yv)]
    corners = [(plot[2] - width - 6, plot[1] + 6), (plot[2] - width - 6, plot[3] - height - 6),
               (plot[0] + 6, plot[1] + 6), (plot[0] + 6, plot[3] - height - 6)]
    lx, ly = min(corners, key=lambda c: sum(c[0] <= px <= c[0] + width and c[1] <= py <= c[1] + height
                                            for px, py in points))
    draw.rectangle((lx, ly, lx + width, ly + height), fill=(255, 255, 255), outline=(180, 180, 180))
    for i, name in enumerate(names):
        y = ly + 11 + 16 * i
        draw.line([(lx + 6, y), (lx + 24, y)], fill=COLOURS[i % len(COLOURS)], width=3)
        draw.text((lx + 28, y), name, fill=(0, 0, 0), font=font, anchor="lm")


def draw_panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], title: str, x: list[int],
               series: dict[str, list[float]], window: int, x_label: str) -> None:
    """One panel in `box` (left, top, right, bottom): axes, ticks, raw and smoothed curves and a legend."""
    font, small = _font(15), _font(12)
    left, top, right, bottom = box
    plot = (left + 62, top + 30, right - 14, bottom - 42)  # the plotting area inside the axes
    draw.text(((left + right) // 2, top + 6), title, fill=(0, 0, 0), font=font, anchor="mt")

    smoothed = {name: moving_average(vals, window) for name, vals in series.items()}
    log_y, y_low, y_high, y_ticks, y_labels = _y_scale(series)
    axes = _Axes(plot, *_x_range(x), y_low, y_high, log_y)
    _draw_grid(draw, axes, y_ticks, y_labels, small)
    draw.text(((plot[0] + plot[2]) // 2, bottom - 6), x_label + (", log y" if log_y else ""), fill=(0, 0, 0),
              font=small, anchor="mb")
    for i, values in enumerate(series.values()):
        _draw_curve(draw, axes, x, values, _tint(COLOURS[i % len(COLOURS)]), 1)
    for i, name in enumerate(series):
        _draw_curve(draw, axes, x, smoothed[name], COLOURS[i % len(COLOURS)], 2)
    _draw_legend(draw, axes, x, list(series.values()) + list(smoothed.values()), list(series), small)


def plot_losses(log: LossLog, out: str, title: str = "", window: int | None = None,
                panel_size: tuple[int, int] = (520, 320)) -> str:
    """Writes the panels of `log` (two per row) to `out` and returns `out`."""
    if not log.x:
        raise ValueError("no loss lines to plot")
    if window is None:
        window = max(1, len(log.x) // 20)
    groups: list[tuple[str, dict[str, list[float]]]] = []
    taken: set[str] = set()
    for panel_title, belongs in PANELS:
        names = [n for n in log.values if n not in taken and belongs(n)]
        names = [n for n in names if any(math.isfinite(v) for v in log.values[n])]
        taken.update(names)
        if names:
            groups.append((panel_title, {n: log.values[n] for n in names}))
    columns = 2 if len(groups) > 1 else 1
    rows = math.ceil(len(groups) / columns)
    header = 34 if title else 0
    pw, ph = panel_size
    image = Image.new("RGB", (columns * pw, rows * ph + header), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((image.width // 2, 8), title, fill=(0, 0, 0), font=_font(18), anchor="mt")
    x_label = f"iterations (videos; {log.epoch_size} per epoch), moving average of {window} points"
    for k, (panel_title, series) in enumerate(groups):
        col, row = k % columns, k // columns
        box = (col * pw, header + row * ph, (col + 1) * pw, header + (row + 1) * ph)
        draw_panel(draw, box, panel_title, log.x, series, window, x_label)
    folder = os.path.dirname(out)
    if folder:
        os.makedirs(folder, exist_ok=True)
    # a palette image: a fraction of the size of an RGB one, with no visible difference for line art
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="demo_street", help="experiment name")
    parser.add_argument("--checkpoints_dir", default="./checkpoints", help="where the experiment folder is")
    parser.add_argument("--log", default="", help="the loss log (default: <checkpoints_dir>/<name>/loss_log.txt)")
    parser.add_argument("--out", default="", help="the PNG (default: <checkpoints_dir>/<name>/losses.png)")
    parser.add_argument("--window", type=int, default=None, help="moving-average window in printed lines "
                        "(default: a twentieth of the lines)")
    args = parser.parse_args(argv)
    exp_dir = os.path.join(args.checkpoints_dir, args.name)
    log_path = args.log or os.path.join(exp_dir, "loss_log.txt")
    out = args.out or os.path.join(exp_dir, "losses.png")
    if not os.path.isfile(log_path):
        parser.error(f"no loss log at {log_path}: train first, or pass --log")
    log = parse_loss_log(log_path)
    if not log.x:
        parser.error(f"{log_path} has no loss lines yet")
    plot_losses(log, out, title=f"Training losses: {args.name}", window=args.window)
    print(f"loss curves ({len(log.x)} points, {len(log.values)} losses): {out}")


if __name__ == "__main__":
    main()
