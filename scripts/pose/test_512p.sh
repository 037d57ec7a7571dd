#!/usr/bin/env bash
# Render pose2body 512p (official).
python test.py --name pose2body_512p --dataroot datasets/pose --dataset_mode pose --input_nc 6 --resize_or_crop scaleHeight --loadSize 512 --n_scales_spatial 2 --no_first_img "$@"
