#!/usr/bin/env bash
# Render edge2face 512 (official).
python test.py --name edge2face_512 --dataroot datasets/face/ --dataset_mode face --input_nc 15 --loadSize 512 --use_single_G "$@"
