#!/usr/bin/env bash
# train_g1_256_ddp.sh over several machines: run this same command on every machine, with the number of machines
# and the host:port of one of them (the rendezvous), e.g.
#   NNODES=2 RDZV_ENDPOINT=node0.example:29400 bash scripts/street/train_g1_256_ddp_nodes.sh
# --dataroot must hold the same data on every machine, and --checkpoints_dir must be one shared folder (rank 0
# writes it; every process reads it with --continue_train).
NNODES=${NNODES:?set NNODES to the number of machines}
RDZV_ENDPOINT=${RDZV_ENDPOINT:?set RDZV_ENDPOINT to host:port of one machine}
NPROC=${NPROC:-$(nvidia-smi -L | wc -l)}
torchrun --nnodes "$NNODES" --nproc_per_node "$NPROC" --rdzv-backend c10d --rdzv-endpoint "$RDZV_ENDPOINT" \
    --rdzv-id label2city_256_ddp train.py --name label2city_256_ddp --label_nc 35 --loadSize 256 \
    --use_instance --fg --n_downsample_G 2 --num_D 1 --max_frames_per_gpu 6 --n_frames_total 6 \
    --gpu_ids "$(seq -s, 0 $((NPROC - 1)))" "$@"
