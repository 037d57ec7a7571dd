#!/usr/bin/env bash
# Render pose2body 1024p, one-GPU model (official).
python test.py --name pose2body_1024p_g1 --dataroot datasets/pose --dataset_mode pose --input_nc 6 --ngf 64 --resize_or_crop scaleHeight --loadSize 1024 --n_scales_spatial 3 --no_first_img "$@"
