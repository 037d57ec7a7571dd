#!/usr/bin/env bash
# Render Cityscapes with the official one-GPU 1024 model.
python test.py --name label2city_1024_g1 --label_nc 35 --loadSize 1024 --n_scales_spatial 3 --use_instance --fg --n_downsample_G 2 --use_single_G "$@"
