#!/usr/bin/env bash
# From a talking-head video to a trained edge2face model and its rendered mp4, in one command (one GPU, 256):
#   bash scripts/face/prepare_and_train_g1_256.sh VIDEO [NAME]
# run from the repository root, as the official scripts. It
# 1. finds the face and its 68 keypoints in every frame (scripts/face/prepare_video.py, dlib) and writes
#    DATAROOT/train_img and DATAROOT/train_keypoints (sequences of at most 300 frames); the test set is the
#    same frames (test_img, test_keypoints link to them) unless DATAROOT already has one;
# 2. trains as scripts/face/train_g1_256.sh, under the name edge2face_<NAME>_256_g1;
# 3. renders the test set, starting each sequence from its real first frames (--use_real_img), into
#    results/edge2face_<NAME>_256_g1/test_latest/ (frames, videos/<sequence>.mp4, index.html).
# Environment: DATAROOT (default datasets/face_<NAME>), PYTHON (default python), and PREP_FLAGS, TRAIN_FLAGS,
# TEST_FLAGS: extra flags appended to each step, so they override (e.g. TRAIN_FLAGS="--flownet dis" trains
# without the FlowNet2 checkpoint; "--niter 100 --niter_decay 100" trains a short video longer).
set -euo pipefail
VIDEO=${1:?usage: bash scripts/face/prepare_and_train_g1_256.sh VIDEO [NAME]}
NAME=${2:-$(basename "${VIDEO%.*}")}
PY=${PYTHON:-python}
ROOT=${DATAROOT:-datasets/face_$NAME}
EXP=edge2face_${NAME}_256_g1
MODEL=(--dataroot "$ROOT" --dataset_mode face --input_nc 15 --loadSize 256 --ngf 64)

# shellcheck disable=SC2086  # the *_FLAGS are lists of flags
"$PY" scripts/face/prepare_video.py "$VIDEO" "$ROOT" --phase train --seq "$NAME" --split 300 ${PREP_FLAGS:-}
for kind in img keypoints; do
    [ -e "$ROOT/test_$kind" ] || ln -s "train_$kind" "$ROOT/test_$kind"
done
# shellcheck disable=SC2086
"$PY" train.py --name "$EXP" "${MODEL[@]}" --max_frames_per_gpu 6 --n_frames_total 12 --niter 20 --niter_decay 20 \
    ${TRAIN_FLAGS:-}
# shellcheck disable=SC2086
"$PY" test.py --name "$EXP" "${MODEL[@]}" --use_real_img --how_many 100000 ${TEST_FLAGS:-}
