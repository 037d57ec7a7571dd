"""The metric flags shared by scripts/evaluate.py and scripts/compare_runs.py, and the Settings they give."""

from __future__ import annotations

import argparse

import torch

from evaluation.scoring import DEFAULT_METRICS, METRICS, Settings, parse_metrics


def add_metric_arguments(parser: argparse.ArgumentParser) -> None:
    """--metrics, the weights files and the device."""
    parser.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                        help=f"comma-separated, from {', '.join(METRICS)}, or all; the default needs no weights "
                             "file (docs/evaluation.md says what each means)")
    parser.add_argument("--metric_flow", choices=("dis", "flownet2"), default="dis",
                        help="optical flow of the ground truth for the warping error: OpenCV DIS (no weights) or "
                             "FlowNet2 (--flownet_checkpoint)")
    parser.add_argument("--flownet_checkpoint", default="models/flownet2_pytorch/FlowNet2_checkpoint.pth.tar",
                        help="FlowNet2 checkpoint, for --metric_flow flownet2")
    parser.add_argument("--lpips_net", choices=("alex", "vgg"), default="alex", help="LPIPS backbone")
    parser.add_argument("--lpips_backbone", default="",
                        help="torchvision state_dict of the LPIPS backbone (alexnet-owt-7be5be79.pth or "
                             "vgg16-397923af.pth); default: torchvision's cache file")
    parser.add_argument("--fid_weights", default="", help="FID Inception weights pt_inception-2015-12-05-6726825d.pth")
    parser.add_argument("--fvd_weights", default="",
                        help="I3D for FVD: StyleGAN-V's i3d_torchscript.pt or an InceptionI3d state_dict")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, ...; auto: cuda when available")


def settings_from(args: argparse.Namespace) -> Settings:
    """The Settings of parsed `add_metric_arguments` flags (ValueError naming --metrics / --device)."""
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            device = torch.device(args.device)
        except RuntimeError:
            raise ValueError(f"--device {args.device!r}: expected cpu, cuda, cuda:N or auto") from None
    return Settings(metrics=parse_metrics(args.metrics), device=device, flow=args.metric_flow,
                    flownet_checkpoint=args.flownet_checkpoint, lpips_net=args.lpips_net,
                    lpips_backbone=args.lpips_backbone, fid_weights=args.fid_weights, fvd_weights=args.fvd_weights)
