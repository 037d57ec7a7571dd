#!/usr/bin/env bash
# From a dance video to a trained pose2body model and a rendered mp4, with one command (docs/pose.md):
#
#   bash scripts/pose/prepare_and_train_g1_256p.sh VIDEO [NAME]
#
# 1. scripts/pose/prepare_video.py: the frames and their OpenPose-format keypoints (MediaPipe, offline) into
#    $DATASETS_DIR/NAME/train_img|train_openpose/<video stem>/, copied to test_* so that the test renders
#    the same video; skipped when those folders are already there;
# 2. train.py with the flags of train_g1_256p.sh, except --openpose_only --input_nc 3 (DensePose has no
#    offline estimator): 10 epochs at 384 -> 256 random scale and crop, 12-frame windows;
# 3. test.py with the flags of test_g1_256p.sh likewise: $RESULTS_DIR/NAME/test_latest/videos/<stem>.mp4,
#    <stem>_real_A_fake_B.mp4 and index.html.
# NAME defaults to pose2body_256p_g1_<video stem>. The reference flow is FlowNet2 as in the official scripts
# when models/flownet2_pytorch/FlowNet2_checkpoint.pth.tar is there, else OpenCV's DIS (--flownet dis); the
# VGG loss likewise needs ~/.cache/torch/hub/checkpoints/vgg19-dcbe5ed3.pth, else --no_vgg. Both are said.
#
# Environment: PREP_ARGS (more prepare_video.py flags, e.g. "--crop 420 0 1080 1080 --every 2"), TRAIN_ARGS
# and TEST_ARGS (more train.py / test.py flags; later flags win, e.g. TRAIN_ARGS="--niter 2 --niter_decay 0"
# or "--gpu_ids -1"), DATASETS_DIR (datasets), CHECKPOINTS_DIR (./checkpoints), RESULTS_DIR (./results),
# PYTHON (.venv/bin/python when it exists, else python3).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: bash $0 VIDEO [NAME]" >&2
    exit 2
fi
VIDEO=$(realpath "$1")
STEM=$(basename "${VIDEO%.*}")
NAME=${2:-pose2body_256p_g1_$STEM}
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ]; then PY=.venv/bin/python; fi
DATAROOT=${DATASETS_DIR:-datasets}/$NAME
CHECKPOINTS_DIR=${CHECKPOINTS_DIR:-./checkpoints}
RESULTS_DIR=${RESULTS_DIR:-./results}
read -r -a PREP_EXTRA <<< "${PREP_ARGS:-}"
read -r -a TRAIN_EXTRA <<< "${TRAIN_ARGS:-}"
read -r -a TEST_EXTRA <<< "${TEST_ARGS:-}"

LOSS_FLAGS=()
if [ ! -f models/flownet2_pytorch/FlowNet2_checkpoint.pth.tar ]; then
    echo "FlowNet2 weights not found: using --flownet dis for the reference flow"
    LOSS_FLAGS=(--flownet dis)
fi
if [ ! -f "$HOME/.cache/torch/hub/checkpoints/vgg19-dcbe5ed3.pth" ]; then
    echo "VGG19 weights not found: training with --no_vgg"
    LOSS_FLAGS+=(--no_vgg)
fi
MODEL=(--name "$NAME" --dataroot "$DATAROOT" --checkpoints_dir "$CHECKPOINTS_DIR" --dataset_mode pose
       --openpose_only --input_nc 3 --ngf 64 --no_first_img)

echo "==> 1/3 keypoints: $VIDEO -> $DATAROOT"
if [ -d "$DATAROOT/train_img/$STEM" ] && [ -d "$DATAROOT/train_openpose/$STEM" ]; then
    echo "already there, kept"
else
    "$PY" scripts/pose/prepare_video.py "$VIDEO" "$DATAROOT" --phase train --seq "$STEM" ${PREP_EXTRA[@]+"${PREP_EXTRA[@]}"}
fi
for kind in img openpose; do
    if [ ! -d "$DATAROOT/test_$kind/$STEM" ]; then
        mkdir -p "$DATAROOT/test_$kind"
        cp -r "$DATAROOT/train_$kind/$STEM" "$DATAROOT/test_$kind/$STEM"
    fi
done

echo "==> 2/3 training $NAME"
"$PY" train.py "${MODEL[@]}" --num_D 2 --resize_or_crop randomScaleHeight_and_scaledCrop --loadSize 384 \
    --fineSize 256 --max_frames_per_gpu 4 --niter 5 --niter_decay 5 --n_frames_total 12 --max_t_step 4 \
    ${LOSS_FLAGS[@]+"${LOSS_FLAGS[@]}"} ${TRAIN_EXTRA[@]+"${TRAIN_EXTRA[@]}"}

echo "==> 3/3 rendering"
"$PY" test.py "${MODEL[@]}" --resize_or_crop scaleHeight --loadSize 256 --n_scales_spatial 1 \
    --results_dir "$RESULTS_DIR" ${TEST_EXTRA[@]+"${TEST_EXTRA[@]}"}
echo "done: $RESULTS_DIR/$NAME/test_latest/videos/$STEM.mp4"
