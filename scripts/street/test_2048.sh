#!/usr/bin/env bash
# Render Cityscapes with the official 2048 model.
python test.py --name label2city_2048 --label_nc 35 --loadSize 2048 --n_scales_spatial 3 --use_instance --fg --use_single_G "$@"
