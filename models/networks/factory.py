"""Builds the vid2vid networks from the parsed options, with the official sizes and checkpoint names.

This is the only module of `models.networks` that reads an options Namespace; the networks take plain values.
`--netG` and `--netD` pick builders from the registries below; a new network registers a builder here.
"""

from __future__ import annotations

import argparse
import os

import torch.nn as nn

from models.networks.blocks import get_norm_layer, init_weights
from models.networks.discriminators import MultiscaleDiscriminator
from models.networks.generators import CompositeGenerator, CompositeLocalGenerator
from models.networks.single_frame import FeatureEncoder, GlobalGenerator, GlobalWithZ, LocalEnhancer
from util.registry import Registry

# the --loadSize values with an official Cityscapes single-image model (label2city_single)
_SINGLE_G_STREET_SIZES = (512, 1024, 2048)
# The official face first-frame model (edge2face_single): G sees the 15-channel face input and a 16-channel
# feature map (the official code overwrote opt.feat_num with 16), E encodes the real frame with width 16.
FACE_SINGLE_INPUT_NC = 15
FACE_FEATURE_NC = 16
_FACE_SINGLE_FOLDER = "edge2face_single"


def input_channels(opt: argparse.Namespace) -> int:
    """Channels of one encoded input frame: label_nc one-hot channels (or input_nc) plus the instance edges.

    Reads opt.label_nc, opt.input_nc, opt.use_instance.
    """
    return (opt.label_nc or opt.input_nc) + (1 if opt.use_instance else 0)


GENERATORS = Registry("generator", "--netG")
DISCRIMINATORS = Registry("discriminator", "--netD")


@GENERATORS.register("composite")
def composite_generator(opt: argparse.Namespace, scale: int) -> nn.Module:
    """netG0: the coarsest scale, width ngf (reference §3.2)."""
    return CompositeGenerator(
        input_channels(opt) * opt.n_frames_G, (opt.n_frames_G - 1) * opt.output_nc, opt.output_nc, opt.ngf,
        opt.n_downsample_G, opt.n_blocks, opt.fg, opt.no_flow or opt.openpose_only, get_norm_layer(opt.norm),
    )


@GENERATORS.register("compositeLocal")
def composite_local_generator(opt: argparse.Namespace, scale: int) -> nn.Module:
    """netG{scale}, scale >= 1: a finer scale of width ngf // 2**scale (reference §3.3)."""
    return CompositeLocalGenerator(
        input_channels(opt) * opt.n_frames_G, (opt.n_frames_G - 1) * opt.output_nc, opt.output_nc,
        opt.ngf // 2**scale, opt.n_downsample_G, opt.n_blocks_local, opt.fg, opt.no_flow or opt.openpose_only,
        get_norm_layer(opt.norm), scale=scale,
    )


@DISCRIMINATORS.register("multiscale")
def multiscale_discriminator(opt: argparse.Namespace, input_nc: int, num_D: int) -> nn.Module:
    """pix2pixHD's multiscale PatchGAN (reference §3.7)."""
    return MultiscaleDiscriminator(input_nc, opt.ndf, opt.n_layers_D, get_norm_layer(opt.norm), num_D,
                                   not opt.no_ganFeat)


def define_generators(opt: argparse.Namespace) -> list[nn.Module]:
    """Returns `[netG0, netG1, ...]`, coarsest first, one per spatial scale, randomly initialised.

    netG0 is the `--netG` generator (official: `composite`), the finer scales `--netG` + 'Local' (as the
    official code names them). `--openpose_only` forces no_flow, as in the official generator. Reads
    opt.netG, label_nc, input_nc, use_instance, output_nc, n_frames_G, ngf, n_downsample_G, n_blocks,
    n_blocks_local, n_scales_spatial, fg, no_flow, openpose_only, norm.
    """
    generators = [GENERATORS.get(opt.netG)(opt, 0)]
    generators += [GENERATORS.get(opt.netG + "Local")(opt, s) for s in range(1, opt.n_scales_spatial)]
    for net in generators:
        net.apply(init_weights)
    return generators


def define_discriminators(opt: argparse.Namespace) -> dict[str, nn.Module]:
    """Returns the `--netD` discriminators keyed by their checkpoint stem: 'D', 'D_T0' ... and 'D_f'.

    - 'D' judges a (condition frame, image) pair: input_channels + output_nc channels.
    - 'D_T{s}' judges n_frames_D images followed by the n_frames_D - 1 reference flows (2 channels each).
    - 'D_f' (only with --add_face_disc) is D on the face crop, with max(1, num_D - 2) scales.
    Reads opt.netD, label_nc, input_nc, use_instance, output_nc, ndf, n_layers_D, num_D, norm, no_ganFeat,
    n_frames_D, n_scales_temporal, add_face_disc.
    """
    build = DISCRIMINATORS.get(opt.netD)

    def initialised(input_nc: int, num_D: int) -> nn.Module:
        # each network is initialised right after it is built: the order of the random draws is the official one
        net = build(opt, input_nc, num_D)
        net.apply(init_weights)
        return net

    frame_nc = input_channels(opt) + opt.output_nc
    temporal_nc = opt.output_nc * opt.n_frames_D + 2 * (opt.n_frames_D - 1)
    nets = {"D": initialised(frame_nc, opt.num_D)}
    for s in range(opt.n_scales_temporal):
        nets[f"D_T{s}"] = initialised(temporal_nc, opt.num_D)
    if opt.add_face_disc:
        nets["D_f"] = initialised(frame_nc, max(1, opt.num_D - 2))
    return nets


def define_single_frame_generator(opt: argparse.Namespace) -> nn.Module:
    """The pix2pixHD first-frame generator of `--use_single_G` for street (Cityscapes) data, instance norm.

    loadSize 512: GlobalGenerator(ngf 64, 3 downsamplings); 1024: 4 downsamplings; 2048: LocalEnhancer(ngf 32,
    4 global downsamplings). Its input is the one-hot label map alone (label_nc channels, no instance map) and
    its output 3 RGB channels. Reads opt.dataset_mode, label_nc, loadSize, n_blocks, n_local_enhancers,
    n_blocks_local.
    """
    if opt.dataset_mode == "face":
        raise ValueError("--use_single_G with --dataset_mode face: the face first-frame model is a generator and "
                         "an encoder; build it with define_face_single_frame_networks")
    if opt.label_nc == 0:
        raise ValueError("--use_single_G: the street single-image generators take label maps; set --label_nc "
                         "(35 for Cityscapes)")
    norm_layer = get_norm_layer("instance")
    if opt.loadSize == 512:
        net = GlobalGenerator(opt.label_nc, 3, 64, 3, opt.n_blocks, norm_layer)
    elif opt.loadSize == 1024:
        net = GlobalGenerator(opt.label_nc, 3, 64, 4, opt.n_blocks, norm_layer)
    elif opt.loadSize == 2048:
        net = LocalEnhancer(
            opt.label_nc, 3, 32, 4, opt.n_blocks, opt.n_local_enhancers, opt.n_blocks_local, norm_layer
        )
    else:
        raise ValueError(
            f"--use_single_G: no single-image street model for --loadSize {opt.loadSize}; "
            f"expected one of {', '.join(map(str, _SINGLE_G_STREET_SIZES))}"
        )
    net.apply(init_weights)
    return net


def single_frame_checkpoint_path(opt: argparse.Namespace) -> str:
    """`<checkpoints_dir>/label2city_single/latest_net_G_<loadSize>.pth`.

    Reads opt.checkpoints_dir, opt.loadSize.
    """
    return os.path.join(opt.checkpoints_dir, "label2city_single", f"latest_net_G_{opt.loadSize}.pth")


def define_face_single_frame_networks(opt: argparse.Namespace) -> tuple[GlobalWithZ, FeatureEncoder]:
    """The face first-frame generator and feature encoder of `--use_single_G` (reference §3.8), instance norm.

    G: GlobalWithZ(15 -> 3, nz 16, ngf 64, 3 downsamplings, --n_blocks blocks); E: FeatureEncoder(3 -> 16,
    ngf 16, 4 downsamplings). Both randomly initialised. Reads opt.input_nc, n_blocks.
    """
    if opt.input_nc != FACE_SINGLE_INPUT_NC:
        raise ValueError(f"--use_single_G with --dataset_mode face: the edge2face_single generator takes "
                         f"{FACE_SINGLE_INPUT_NC} input channels (edges and distance maps), not --input_nc "
                         f"{opt.input_nc}; drop --no_dist_map, or use --use_real_img")
    norm_layer = get_norm_layer("instance")
    net_g = GlobalWithZ(FACE_SINGLE_INPUT_NC, 3, FACE_FEATURE_NC, 64, 3, opt.n_blocks, norm_layer)
    net_e = FeatureEncoder(3, FACE_FEATURE_NC, 16, 4, norm_layer)
    net_g.apply(init_weights)
    net_e.apply(init_weights)
    return net_g, net_e


def face_single_frame_paths(opt: argparse.Namespace) -> tuple[str, str, str]:
    """`<checkpoints_dir>/edge2face_single/` latest_net_G.pth, latest_net_E.pth and features.npy.

    Reads opt.checkpoints_dir.
    """
    folder = os.path.join(opt.checkpoints_dir, _FACE_SINGLE_FOLDER)
    return (os.path.join(folder, "latest_net_G.pth"), os.path.join(folder, "latest_net_E.pth"),
            os.path.join(folder, "features.npy"))
