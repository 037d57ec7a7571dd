#!/usr/bin/env bash
# Cityscapes 256x128, train_g1_256.sh's settings data-parallel over the GPUs of this machine: torchrun starts one
# process per GPU, each trains its own videos and the gradients are averaged at every step (README "Distributed
# training"). NPROC=4 bash scripts/street/train_g1_256_ddp.sh uses GPUs 0-3; by default every GPU is used.
NPROC=${NPROC:-$(nvidia-smi -L | wc -l)}
torchrun --standalone --nproc_per_node "$NPROC" train.py --name label2city_256_ddp --label_nc 35 --loadSize 256 \
    --use_instance --fg --n_downsample_G 2 --num_D 1 --max_frames_per_gpu 6 --n_frames_total 6 \
    --gpu_ids "$(seq -s, 0 $((NPROC - 1)))" "$@"
