#!/usr/bin/env bash
# Cityscapes 256x128 on one GPU (official; note it saves under label2city_256, which train_g1_512.sh does not load).
python train.py --name label2city_256 --label_nc 35 --loadSize 256 --use_instance --fg --n_downsample_G 2 --num_D 1 --max_frames_per_gpu 6 --n_frames_total 6 "$@"
