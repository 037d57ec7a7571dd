"""The house rules that keep the code base easy to grow: which layer may import which, and file and
function sizes (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TRAINING_CODE = ("training", "train", "trainer")
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60
# option lists are long by nature
SIZE_EXEMPT = {"options/base_options.py::initialize", "options/train_options.py::initialize"}


def python_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    return [f for f in listed if (REPO / f).is_file()]


def imported_modules(path: str) -> set[str]:
    """Top-level package names a file imports (at any depth of the file)."""
    names = set()
    for node in ast.walk(ast.parse((REPO / path).read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("util/", {"models", "data", "options", *TRAINING_CODE, "test"}),
    ("models/", {"data", "options", *TRAINING_CODE, "test"}),
    ("data/", {"models", "options", *TRAINING_CODE, "test"}),
    ("test.py", set(TRAINING_CODE)),
    ("evaluation/", {"data", "options", *TRAINING_CODE, "test"}),
])
def test_imports_flow_one_way(layer, forbidden):
    offenders = {f: sorted(imported_modules(f) & forbidden) for f in python_files() if f.startswith(layer)}
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_file_and_function_sizes():
    too_long = []
    for f in python_files():
        if f.startswith("tests/"):
            continue
        source = (REPO / f).read_text()
        if source.count("\n") > MAX_FILE_LINES:
            too_long.append(f"{f}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and f"{f}::{node.name}" not in SIZE_EXEMPT:
                    too_long.append(f"{f}::{node.name}: {length} lines")
    assert too_long == []
