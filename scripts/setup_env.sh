#!/usr/bin/env bash
# Creates .venv (once) and installs the project's requirements into it.
#   bash scripts/setup_env.sh          requirements.txt: training, testing, the demo (street data)
#   bash scripts/setup_env.sh --test   also everything the test suite uses: the test tools, the face mode
#                                      and its video preparation, the pose video preparation (MediaPipe),
#                                      and the evaluation metrics
# Re-running is quick: pip skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${PIP[@]}" -r requirements.txt
if [ "${1:-}" = "--test" ]; then
    "${PIP[@]}" -r requirements-test.txt -r requirements-face.txt -r requirements-eval.txt
    # MediaPipe without its declared dependencies (see requirements-pose.txt), then what it really needs
    "${PIP[@]}" --no-deps mediapipe==0.10.21
    "${PIP[@]}" -r requirements-pose.txt
fi
