#!/usr/bin/env bash
# One-command demo: train vid2vid on the CPU on a synthetic street dataset, render its test videos to mp4 and
# HTML, and measure it. About 10 minutes on 2 CPU cores (plus 2-3 minutes to install .venv the first time).
#
#   bash scripts/demo.sh
#
# Steps (each is skipped when its result is already there, so a re-run only does what is missing):
#   1. environment: .venv with requirements.txt (scripts/setup_env.sh), unless it already imports everything;
#   2. dataset: datasets/synthetic_street, 8 training and 2 test videos of 30 frames at 256x128;
#   3. training: a small vid2vid (ngf 16, one discriminator scale, DIS flow, no VGG) for 20 epochs on the
#      CPU (about 9 minutes); an interrupted run resumes from its latest checkpoint (--continue_train);
#   4. rendering: test.py on the test videos, from their first two real frames (--use_real_img);
#   5. evaluation: the loss curves (losses.png) and scripts/evaluate.py's table (PSNR, SSIM, SSIM of the first
#      and of the last 10 frames, flow-warping error, tOF) of the rendered frames against the ground truth,
#      next to an untrained model's and a copy-the-last-real-frame baseline.
# Then it prints where the mp4s and the HTML pages are.
#
# Environment overrides: DEMO_NAME (demo_street), DEMO_DATAROOT (datasets/synthetic_street),
# DEMO_CHECKPOINTS_DIR (./checkpoints), DEMO_RESULTS_DIR (./results), DEMO_EPOCHS (20: half at the initial
# learning rate, half decaying), DEMO_NTHREADS (data-loading workers, 0), DEMO_NO_FLOW (1: also train,
# render and score the --no_flow ablation, <name>_no_flow, with the same settings; doubles the training time).
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=${DEMO_NAME:-demo_street}
DATAROOT=${DEMO_DATAROOT:-datasets/synthetic_street}
CHECKPOINTS_DIR=${DEMO_CHECKPOINTS_DIR:-./checkpoints}
RESULTS_DIR=${DEMO_RESULTS_DIR:-./results}
EPOCHS=${DEMO_EPOCHS:-20}
NTHREADS=${DEMO_NTHREADS:-0}
NO_FLOW=${DEMO_NO_FLOW:-0}
PY=.venv/bin/python
export PYTHONUNBUFFERED=1

EXP_DIR="$CHECKPOINTS_DIR/$NAME"
SAVE_DIR="$RESULTS_DIR/$NAME/test_latest"
NO_FLOW_NAME="${NAME}_no_flow"

# The model, shared by train.py, test.py and evaluate.py: Cityscapes label ids with instance edges and
# the foreground (car) branch as in the official street models, at a CPU-sized width and depth.
MODEL_FLAGS=(--dataroot "$DATAROOT" --name "$NAME" --checkpoints_dir "$CHECKPOINTS_DIR"
             --label_nc 35 --use_instance --fg --loadSize 256
             --ngf 16 --n_downsample_G 3 --n_blocks 3 --gpu_ids -1 --seed 0)
# Training: one discriminator scale of depth 2, DIS reference flow and no VGG loss (neither needs downloaded
# weights); every iteration takes 10 frames of one video and generates the last 8 in 4 chunks of 2, each
# chunk from the previous chunk's output, so that G learns to continue its own frames and the temporal
# discriminator judges 3-frame clips; the sequence length stays fixed (niter_step > epochs).
# Epoch checkpoints every 5 epochs (every epoch when 5 does not divide EPOCHS: the last epoch must be saved).
SAVE_EPOCH_FREQ=$((EPOCHS % 5 == 0 ? 5 : 1))
TRAIN_FLAGS=(--ndf 16 --num_D 1 --n_layers_D 2 --flownet dis --no_vgg
             --n_frames_total 8 --max_frames_per_gpu 2 --niter_step 1000
             --niter $((EPOCHS / 2)) --niter_decay $((EPOCHS - EPOCHS / 2))
             --print_freq 1 --display_freq 40 --save_latest_freq 16 --save_epoch_freq "$SAVE_EPOCH_FREQ"
             --nThreads "$NTHREADS" --tf_log)
TEST_FLAGS=(--results_dir "$RESULTS_DIR" --use_real_img --fps 10)

BOLD="" RESET=""
if [ -t 1 ]; then BOLD=$'\033[1m' RESET=$'\033[0m'; fi
STEP_NAMES=()
STEP_SECONDS=()
step_start() {
    STEP_T0=$SECONDS
    printf '\n%s==> %s%s\n' "$BOLD" "$1" "$RESET"
}
step_end() {  # $1: the step's name in the timing summary
    STEP_NAMES+=("$1")
    STEP_SECONDS+=($((SECONDS - STEP_T0)))
}
# Runs a command with its stdout in a log file (progress bars, on stderr, stay on the terminal); on failure,
# shows the end of the log.
run_logged() {
    local log=$1
    shift
    mkdir -p "$(dirname "$log")"
    if ! "$@" >"$log"; then
        echo "FAILED: $* (last lines of $log below)" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
}

# ---- 1. environment -----------------------------------------------------------------------------------------
step_start "1/5 environment (.venv)"
if [ -x "$PY" ] && "$PY" -c "import torch, torchvision, cv2, dominate, imageio_ffmpeg, tqdm, PIL, tensorboard" \
        2>/dev/null; then
    echo ".venv is ready"
else
    echo "installing requirements.txt into .venv (a few minutes the first time)"
    bash scripts/setup_env.sh
fi
step_end "environment"

# ---- 2. dataset ---------------------------------------------------------------------------------------------
step_start "2/5 dataset ($DATAROOT)"
"$PY" scripts/datasets/make_synthetic_street.py --dataroot "$DATAROOT"
step_end "dataset"

# ---- 3. training --------------------------------------------------------------------------------------------
# train_model NAME [extra flags]: trains (or resumes, or skips when trained) checkpoints/NAME.
train_model() {
    local name=$1 exp_dir="$CHECKPOINTS_DIR/$1" next_epoch=0 resume=()
    shift
    if [ -f "$exp_dir/latest_net_G0.pth" ] && [ -f "$exp_dir/iter.txt" ]; then
        next_epoch=$(head -n 1 "$exp_dir/iter.txt" | cut -d. -f1)
    fi
    if [ "$next_epoch" -gt "$EPOCHS" ]; then
        echo "already trained: $exp_dir/iter.txt says epoch $next_epoch > $EPOCHS (delete $exp_dir to train again)"
        return
    fi
    if [ "$next_epoch" -gt 0 ]; then
        echo "resuming from the latest checkpoint (epoch $next_epoch)"
        resume=(--continue_train)
    fi
    run_logged "$exp_dir/demo_train_stdout.log" "$PY" train.py "${MODEL_FLAGS[@]}" --name "$name" "${TRAIN_FLAGS[@]}" \
        "$@" "${resume[@]}"
    echo "done: $(grep -c '^(epoch' "$exp_dir/loss_log.txt") loss lines in $exp_dir/loss_log.txt"
}
# render_model NAME [extra flags]: test.py into results/NAME/test_latest, unless rendered since the checkpoint.
render_model() {
    local name=$1 save_dir="$RESULTS_DIR/$1/test_latest"
    shift
    if [ -f "$save_dir/index.html" ] && [ "$save_dir/index.html" -nt "$CHECKPOINTS_DIR/$name/latest_net_G0.pth" ]; then
        echo "already rendered with the latest checkpoint: $save_dir"
    else
        run_logged "$save_dir/demo_test_stdout.log" "$PY" test.py "${MODEL_FLAGS[@]}" --name "$name" "${TEST_FLAGS[@]}" "$@"
    fi
}

step_start "3/5 training $NAME on the CPU ($EPOCHS epochs; log: $EXP_DIR/loss_log.txt)"
train_model "$NAME"
if [ "$NO_FLOW" = 1 ]; then
    echo "the --no_flow ablation: $NO_FLOW_NAME"
    train_model "$NO_FLOW_NAME" --no_flow
fi
step_end "training"

# ---- 4. rendering -------------------------------------------------------------------------------------------
step_start "4/5 rendering the test videos with test.py"
render_model "$NAME"
EXTRA_ROWS=()
if [ "$NO_FLOW" = 1 ]; then
    render_model "$NO_FLOW_NAME" --no_flow
    EXTRA_ROWS=(--extra_results "no_flow=$RESULTS_DIR/$NO_FLOW_NAME/test_latest")
fi
step_end "rendering"

# ---- 5. evaluation ------------------------------------------------------------------------------------------
step_start "5/5 loss curves and the evaluation table"
"$PY" scripts/plot_losses.py --name "$NAME" --checkpoints_dir "$CHECKPOINTS_DIR" --out "$EXP_DIR/losses.png"
METRICS_TABLE="$SAVE_DIR/metrics.md"
if [ -f "$METRICS_TABLE" ] && [ "$METRICS_TABLE" -nt "$SAVE_DIR/index.html" ] \
        && { [ "$NO_FLOW" != 1 ] || grep -q '^| no_flow' "$METRICS_TABLE"; }; then
    echo "evaluation (computed before, $METRICS_TABLE):"
    echo
    cat "$METRICS_TABLE"
else
    "$PY" scripts/evaluate.py "${MODEL_FLAGS[@]}" "${TEST_FLAGS[@]}" --untrained --copy_frame "${EXTRA_ROWS[@]}" \
        --markdown "$METRICS_TABLE" --json "$SAVE_DIR/metrics.json"
fi
step_end "evaluation"

# ---- summary ------------------------------------------------------------------------------------------------
printf '\n%s==> done%s\n' "$BOLD" "$RESET"
summary=""
total=0
for i in "${!STEP_NAMES[@]}"; do
    summary+=$(printf '  %-12s %4d s' "${STEP_NAMES[$i]}" "${STEP_SECONDS[$i]}")$'\n'
    total=$((total + STEP_SECONDS[i]))
done
summary+=$(printf '  %-12s %4d s' "total" "$total")
echo "time taken:"
echo "$summary"
printf '%s (%s)\n%s\n' "$(date '+%F %T')" "$(nproc) CPU cores" "$summary" >>"$EXP_DIR/demo_timings.txt"
echo
echo "videos (H.264 mp4):"
for video in "$SAVE_DIR"/videos/*.mp4; do
    echo "  $video"
done
echo "pages (open in a browser):"
echo "  test results:  $(realpath "$SAVE_DIR/index.html")"
echo "  training:      $(realpath "$EXP_DIR/web/index.html")"
echo "loss curves:     $EXP_DIR/losses.png   (TensorBoard: tensorboard --logdir $EXP_DIR/logs)"
echo "metrics table:   $METRICS_TABLE"
echo "If the browser will not play the videos from file://, serve the folder:"
echo "  $PY -m http.server -d $(realpath "$RESULTS_DIR/$NAME") 8000   # then open http://localhost:8000/test_latest/"
