"""vid2vid's sequential generator: input encoding, pyramids, first frames and the frame-by-frame generation.

`Vid2VidGenerator` owns the coarse-to-fine generators `netG0 .. netG{n-1}` (the official checkpoint names)
and runs them frame by frame, feeding each scale its own previous outputs (official Vid2VidModelG).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.networks.factory import define_generators
from models.parallel import copies_on


def one_hot(label_ids: torch.Tensor, label_nc: int) -> torch.Tensor:
    """label_ids: `(B, T, 1, H, W)` integer-valued floats -> `(B, T, label_nc, H, W)` one-hot, same dtype."""
    shape = list(label_ids.shape)
    shape[2] = label_nc
    return label_ids.new_zeros(shape).scatter_(2, label_ids.long(), 1.0)


def instance_edges(inst: torch.Tensor) -> torch.Tensor:
    """Boundary map of an instance map: 1 where a pixel differs from a 4-neighbour (2 px thick edges).

    inst: `(..., H, W)` float ids. Returns a tensor of the same shape and dtype.
    """
    edge = torch.zeros_like(inst, dtype=torch.bool)
    horizontal = inst[..., :, 1:] != inst[..., :, :-1]
    vertical = inst[..., 1:, :] != inst[..., :-1, :]
    edge[..., :, 1:] |= horizontal
    edge[..., :, :-1] |= horizontal
    edge[..., 1:, :] |= vertical
    edge[..., :-1, :] |= vertical
    return edge.to(inst.dtype)


def downsample(frames: torch.Tensor) -> torch.Tensor:
    """AvgPool(3, stride 2, pad 1, count_include_pad=False) over the last two axes of `(B, T, C, H, W)`."""
    b, t, c, h, w = frames.shape
    down = F.avg_pool2d(frames.reshape(b * t, c, h, w), 3, stride=2, padding=1, count_include_pad=False)
    return down.reshape(b, t, c, *down.shape[-2:])


def build_pyramid(frames: torch.Tensor, n_levels: int) -> list[torch.Tensor]:
    """Returns [frames, frames/2, frames/4, ...] (`n_levels` entries, level 0 = full resolution)."""
    pyramid = [frames]
    for _ in range(1, n_levels):
        pyramid.append(downsample(pyramid[-1]))
    return pyramid


@dataclass
class GeneratorOutput:
    """What one training chunk of L new frames produces (B = batch, L = new frames).

    fake_B, fake_B_raw: `(B, L, 3, H, W)`; flow `(B, L, 2, H, W)` and weight `(B, L, 1, H, W)`, or None
    with --no_flow; real_A: encoded conditions of the new frames `(B, L, C_in, H, W)`; real_B_prev_and_cur:
    the real frames from the one before the first new frame, `(B, L+1, 3, H, W)`; last_frames: per pyramid
    level, the last tG-1 generated frames (detached), to continue the video in the next chunk.
    """

    fake_B: torch.Tensor
    fake_B_raw: torch.Tensor
    flow: torch.Tensor | None
    weight: torch.Tensor | None
    real_A: torch.Tensor
    real_B_prev_and_cur: torch.Tensor
    last_frames: list[torch.Tensor]


class Vid2VidGenerator(nn.Module):
    """Sequential coarse-to-fine generator.

    Reads from opt: label_nc, input_nc, output_nc, use_instance, n_frames_G, n_scales_spatial, fg,
    fg_labels, no_first_img (and whatever `define_generators` reads). It holds no training schedule: how
    many frames are backpropagated through and whether the coarser scales train are arguments of `forward`.
    """

    def __init__(self, opt: argparse.Namespace):
        super().__init__()
        self.label_nc = opt.label_nc
        self.output_nc = opt.output_nc
        self.use_instance = opt.use_instance
        self.tG = opt.n_frames_G
        self.n_scales = opt.n_scales_spatial
        self.fg_labels = list(opt.fg_labels) if opt.fg else []
        self.no_first_img = opt.no_first_img
        for scale, net in enumerate(define_generators(opt)):
            self.add_module(f"netG{scale}", net)

    def scale_nets(self) -> list[nn.Module]:
        return [getattr(self, f"netG{s}") for s in range(self.n_scales)]

    def encode_input(self, label: torch.Tensor, inst: torch.Tensor | None) -> torch.Tensor:
        """label: `(B, T, C_A, H, W)` (class ids when label_nc > 0); inst: `(B, T, 1, H, W)` or None.

        Returns the network input `(B, T, C_in, H, W)`: one-hot labels (or the input images) followed,
        with --use_instance, by the instance-boundary channel.
        """
        encoded = one_hot(label, self.label_nc) if self.label_nc else label
        if self.use_instance:
            if inst is None:
                raise ValueError("--use_instance needs instance maps, but the batch holds none")
            encoded = torch.cat([encoded, instance_edges(inst)], dim=2)
        return encoded

    def foreground_mask(self, labels: torch.Tensor, t: int) -> torch.Tensor | None:
        """Soft foreground mask `(B, 1, h, w)` of frame t: the clamped sum of the fg label channels."""
        if not self.fg_labels:
            return None
        return labels[:, t, self.fg_labels].sum(dim=1, keepdim=True).clamp(0, 1)

    def first_frames(self, real_B: torch.Tensor | None, template: torch.Tensor) -> torch.Tensor:
        """The tG-1 frames that precede the first generated one: zeros with --no_first_img, else the real ones.

        template: the encoded input `(B, T, C_in, H, W)`, for batch size, size and device.
        Returns `(B, tG-1, output_nc, H, W)`.
        """
        b, _, _, h, w = template.shape
        if self.no_first_img:
            return template.new_zeros(b, self.tG - 1, self.output_nc, h, w)
        if real_B is None:
            raise ValueError("the first frames need real images: give test_B with --use_real_img, "
                             "or use --use_single_G or --no_first_img")
        return real_B[:, : self.tG - 1]

    def run_scales(self, labels: list[torch.Tensor], prevs: list[torch.Tensor], t: int,
                   use_raw_only: bool, detach_prev: bool, train_coarse_scales: bool = True,
                   copy: tuple[torch.device, list[nn.Module]] | None = None
                   ) -> tuple[list[torch.Tensor], tuple]:
        """Generates frame t (0-based among the new frames) at every scale, coarsest first.

        labels: per pyramid level `(B, T, C_in, h, w)`; prevs: per level `(B, >= t+tG-1, 3, h, w)`
        histories of previous outputs; train_coarse_scales False (the --niter_fix_global phase) detaches
        the coarser scales' outputs and features; copy: (device, scale networks) to run instead of this G's
        own (a copy on another device in the frame split, which then gets its inputs there). Returns the new
        frame per level (level order) and the finest scale's (img, flow, weight, raw), on that device.
        """
        img_feat = flow_feat = fg_feat = None
        device, nets = copy or (labels[0].device, self.scale_nets())
        new_frames: list[torch.Tensor] = [None] * self.n_scales  # type: ignore[list-item]
        for s, net in enumerate(nets):
            level = self.n_scales - 1 - s
            lab = labels[level][:, t : t + self.tG].to(device)
            prev = prevs[level][:, t : t + self.tG - 1].to(device)
            if detach_prev:
                prev = prev.detach()
            b, _, _, h, w = lab.shape
            mask = self.foreground_mask(labels[level], t + self.tG - 1)
            img, flow, weight, raw, img_feat, flow_feat, fg_feat = net(
                lab.reshape(b, -1, h, w), prev.reshape(b, -1, h, w), None if mask is None else mask.to(device),
                img_feat, flow_feat, fg_feat, use_raw_only)
            if s != self.n_scales - 1 and not train_coarse_scales:
                img, img_feat = img.detach(), img_feat.detach()
                if flow is not None:
                    flow, flow_feat = flow.detach(), flow_feat.detach()
                if fg_feat is not None:
                    fg_feat = fg_feat.detach()
            new_frames[level] = img
        return new_frames, (img, flow, weight, raw)

    def forward(self, input_A: torch.Tensor, input_B: torch.Tensor, inst_A: torch.Tensor | None,
                last_frames: list[torch.Tensor] | None, n_frames_bp: int = 1,
                train_coarse_scales: bool = True, frame_devices: list[torch.device] | None = None
                ) -> GeneratorOutput:
        """Generates the frames tG-1 .. T-1 of a training chunk.

        input_A: `(B, T, C_A, H, W)`; input_B: `(B, T, 3, H, W)` real frames; inst_A: `(B, T, 1, H, W)`
        or None; last_frames: the previous chunk's `GeneratorOutput.last_frames`, or None for the first
        chunk of a video (then the real first frames, or zeros with --no_first_img, are used).
        n_frames_bp: the previous frames are detached at every n_frames_bp-th new frame, so gradients run
        back through the recurrence for at most that many frames (the schedule's value).
        train_coarse_scales: False while --niter_fix_global trains the finest scale only.
        frame_devices: the device that generates each new frame (the frame split of util/placement.py), or
        None for the inputs' device; each frame's outputs come back to the inputs' device.
        """
        real_A = self.encode_input(input_A, inst_A)
        is_first_chunk = last_frames is None
        if is_first_chunk:
            last_frames = build_pyramid(self.first_frames(input_B, real_A), self.n_scales)
        labels = build_pyramid(real_A, self.n_scales)
        histories = list(last_frames)
        n_new = real_A.shape[1] - self.tG + 1
        raws, flows, weights = [], [], []
        # with --no_first_img every frame of a video's first chunk is raw-only (official behaviour)
        use_raw_only = self.no_first_img and is_first_chunk
        home = real_A.device
        copies = copies_on(self, [home, *[d for d in dict.fromkeys(frame_devices or []) if d != home]])
        for t in range(n_new):
            device = frame_devices[t] if frame_devices else home
            new_frames, (_, flow, weight, raw) = self.run_scales(
                labels, histories, t, use_raw_only, t % n_frames_bp == 0, train_coarse_scales,
                (device, copies[device].scale_nets()))
            histories = [torch.cat([h, f.unsqueeze(1).to(home)], dim=1) for h, f in zip(histories, new_frames)]
            raws.append(raw.to(home))
            flows.append(None if flow is None else flow.to(home))
            weights.append(None if weight is None else weight.to(home))
        fake_B = histories[0][:, self.tG - 1 :]
        return GeneratorOutput(
            fake_B=fake_B,
            fake_B_raw=torch.stack(raws, dim=1),
            flow=None if flows[0] is None else torch.stack(flows, dim=1),
            weight=None if weights[0] is None else torch.stack(weights, dim=1),
            real_A=real_A[:, self.tG - 1 :],
            real_B_prev_and_cur=input_B[:, self.tG - 2 :],
            last_frames=[h[:, -(self.tG - 1) :].detach() for h in histories],
        )

    @torch.no_grad()
    def start_frames(self, input_A: torch.Tensor, real_B: torch.Tensor | None, use_real_img: bool,
                     single_frame_G: nn.Module | None, inst_A: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The tG-1 frames that start a test sequence, per pyramid level `(1, tG-1, 3, h, w)`.

        As the official `generate_first_frame`, in this order: zeros with --no_first_img, the real frames
        with --use_real_img, else the single-image generator (--use_single_G) run on each of the first
        tG-1 one-hot label frames (without the instance channel); a model with `uses_real_frames` (the face
        model) also gets each real frame and its part labels `inst_A`.
        input_A: `(1, tG, C_A, H, W)`; real_B: `(1, tG, 3, H, W)` or None; inst_A: `(1, tG, 1, H, W)` or None.
        """
        template = one_hot(input_A, self.label_nc) if self.label_nc else input_A
        if self.no_first_img or use_real_img:
            frames = self.first_frames(real_B, template)
        elif getattr(single_frame_G, "uses_real_frames", False):
            if real_B is None or inst_A is None:
                raise ValueError("the face first-frame model needs the real frames and their part labels")
            frames = torch.stack([single_frame_G(template[:, i], real_B[:, i], inst_A[:, i])
                                  for i in range(self.tG - 1)], dim=1)
        elif single_frame_G is not None:
            frames = torch.stack([single_frame_G(template[:, i]) for i in range(self.tG - 1)], dim=1)
        else:
            raise ValueError("no way to make the first frames: pass --use_real_img (needs test_B), "
                             "--use_single_G or --no_first_img")
        return build_pyramid(frames, self.n_scales)

    @torch.no_grad()
    def inference(self, input_A: torch.Tensor, inst_A: torch.Tensor | None, prev_frames: list[torch.Tensor],
                  use_raw_only: bool) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Generates the newest frame of a test window, as the official `inference`.

        input_A: `(1, tG, C_A, H, W)`; inst_A: `(1, tG, 1, H, W)` or None; prev_frames: per pyramid level
        `(1, tG-1, 3, h, w)`, the previous outputs (from `start_frames` at the start of a sequence);
        use_raw_only: the first frame of a sequence with --no_first_img. The networks stay in training
        mode (BatchNorm uses the frame's own statistics), as in the official test.
        Returns (fake `(1, 3, H, W)`, the encoded newest input `(C_in, H, W)`, the updated prev_frames).
        """
        real_A = self.encode_input(input_A, inst_A)
        labels = build_pyramid(real_A, self.n_scales)
        new_frames, (img, _, _, _) = self.run_scales(labels, prev_frames, 0, use_raw_only, detach_prev=False)
        updated = [torch.cat([p[:, 1:], f.unsqueeze(1)], dim=1) for p, f in zip(prev_frames, new_frames)]
        return img, real_A[0, -1], updated
