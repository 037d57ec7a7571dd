"""The vid2vid model package (`--model vid2vid`): what `models.create_training_model` and
`models.create_inference_model` build for it."""

from __future__ import annotations

import argparse

import torch

from models.flow.cache import with_flow_cache
from models.flow.estimator import create_flow_estimator
from models.losses import load_vgg19_features
from models.vid2vid.inference import Vid2VidInference
from models.vid2vid.model import Vid2VidModel


def create_training_model(opt: argparse.Namespace) -> Vid2VidModel:
    """G, the discriminators, the losses and the reference-flow estimator (--flownet, cached with
    --flow_cache_mb), on the CPU."""
    flow_estimator = with_flow_cache(create_flow_estimator(opt.flownet, opt.flownet_checkpoint), opt.flow_cache_mb)
    vgg = None if opt.no_vgg else load_vgg19_features(opt.vgg_weights)
    return Vid2VidModel(opt, flow_estimator, vgg)


def create_inference_model(opt: argparse.Namespace, device: torch.device) -> Vid2VidInference:
    """G loaded from its checkpoints (and the --use_single_G first-frame generator), on `device`."""
    return Vid2VidInference(opt, device)
