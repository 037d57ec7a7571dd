#!/usr/bin/env bash
# Render edge2face 512, one-GPU model (official).
python test.py --name edge2face_512_g1 --dataroot datasets/face/ --dataset_mode face --input_nc 15 --loadSize 512 --ngf 64 --n_scales_spatial 2 --use_single_G "$@"
