"""The tables (markdown) and the JSON of scored runs (rows from `evaluation.scoring.Scorer.score`)."""

from __future__ import annotations

import json
import math
import os

# key, column title, format; in table order. Lower is better for all but PSNR and SSIM (the SSIM of each
# sequence's first and last scoring.DRIFT_WINDOW frames shows drift).
COLUMNS = (
    ("psnr", "PSNR (dB) ↑", "{:.2f}"),
    ("ssim", "SSIM ↑", "{:.3f}"),
    ("ssim_first", "SSIM first 10 ↑", "{:.3f}"),
    ("ssim_last", "SSIM last 10 ↑", "{:.3f}"),
    ("lpips", "LPIPS ↓", "{:.3f}"),
    ("warp", "warp error ↓", "{:.4f}"),
    ("warp_floor", "warp error of GT", "{:.4f}"),
    ("tof", "tOF ↓", "{:.3f}"),
    ("tlp", "tLP ↓", "{:.4f}"),
    ("fid", "FID ↓", "{:.2f}"),
    ("fvd", "FVD ↓", "{:.2f}"),
)


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None or math.isnan(value) else fmt.format(value)


def _table(first: str, names: list[str], entries: list[dict]) -> str:
    """Markdown: a row per entry, the columns its entries have, then frames."""
    columns = [c for c in COLUMNS if any(c[0] in e for e in entries)]
    lines = ["| " + " | ".join([first, *(title for _, title, _ in columns), "frames"]) + " |",
             "|---" + "|---:" * (len(columns) + 1) + "|"]
    for name, entry in zip(names, entries):
        cells = [_cell(entry.get(key), fmt) for key, _, fmt in columns]
        lines.append("| " + " | ".join([name, *cells, str(entry.get("frames", ""))]) + " |")
    return "\n".join(lines)


def overall_table(rows: list[dict]) -> str:
    """One row per model: the means over all its frames (FVD with its clip count in the model's name)."""
    def clips(row: dict) -> str:
        count = row.get("fvd_clips")
        return "" if count is None else f" (FVD on {count} clip{'' if count == 1 else 's'})"

    names = [row["model"] + clips(row) for row in rows]
    return _table("model", names, rows)


def sequence_tables(rows: list[dict]) -> str:
    """A table per sequence, one row per model: the per-sequence means (no FID / FVD, which need sets)."""
    parts = []
    for seq in rows[0]["per_sequence"]:
        entries = [row["per_sequence"].get(seq, {}) for row in rows]
        parts.append(f"sequence `{seq}`:\n\n" + _table("model", [row["model"] for row in rows], entries))
    return "\n\n".join(parts)


def report(rows: list[dict], truth_dir: str) -> str:
    """The whole markdown report: the overall table, then one per sequence."""
    n_seq = len(rows[0]["per_sequence"])
    return (f"Against {truth_dir} ({n_seq} sequences, {rows[0]['frames']} frames); means over all frames "
            f"(PSNR, SSIM, LPIPS) or all pairs of consecutive frames (warp error, tOF, tLP):\n\n"
            f"{overall_table(rows)}\n\nPer sequence:\n\n{sequence_tables(rows)}\n")


def _finite(value: object) -> object:
    """NaN -> None, recursively: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_outputs(rows: list[dict], truth_dir: str, markdown_path: str = "", json_path: str = "",
                  info: dict | None = None) -> None:
    """Writes the markdown report and / or the JSON ({'ground_truth', ..., 'rows': rows}) when asked."""
    for path in (markdown_path, json_path):
        if path and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
    if markdown_path:
        with open(markdown_path, "w", encoding="utf-8") as f:
            f.write(report(rows, truth_dir))
    if json_path:
        document = {"ground_truth": truth_dir, **(info or {}), "rows": _finite(rows)}
        with open(json_path, "w", encoding="utf-8") as f:
            f.write(json.dumps(document, indent=2) + "\n")
