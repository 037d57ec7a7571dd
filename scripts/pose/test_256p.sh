#!/usr/bin/env bash
# Render pose2body 256p (official).
python test.py --name pose2body_256p --dataroot datasets/pose --dataset_mode pose --input_nc 6 --resize_or_crop scaleHeight --loadSize 256 --n_scales_spatial 1 --no_first_img "$@"
