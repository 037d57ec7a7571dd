#!/usr/bin/env bash
# Render edge2face 256, one-GPU model (official).
python test.py --name edge2face_256_g1 --dataroot datasets/face/ --dataset_mode face --input_nc 15 --loadSize 256 --ngf 64 --use_single_G "$@"
