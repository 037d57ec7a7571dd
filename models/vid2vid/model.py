"""The vid2vid training model: its networks, the path of one chunk from the loaded frames to the loss inputs,
and the losses of the G step and of the D steps. It holds no optimizer and no schedule (the trainer's)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields

import numpy as np
import torch
import torch.nn as nn

from models.parallel import concat_on, copies_on, split_batch
from models.vid2vid.discriminators import ShardedDiscriminators, Vid2VidDiscriminators
from models.vid2vid.generator import GeneratorOutput, Vid2VidGenerator
from models.vid2vid.losses import (
    ChunkFrames,
    ChunkLosses,
    TemporalGroups,
    Vid2VidLoss,
    discriminator_total,
    generator_total,
    temporal_discriminator_total,
)
from models.vid2vid.temporal_groups import dense_groups, sparse_groups
from models.vid2vid.visuals import training_visuals
from util.placement import DevicePlan


def flatten_frames(video: torch.Tensor | None) -> torch.Tensor | None:
    """`(B, L, C, H, W)` -> `(B*L, C, H, W)`."""
    return None if video is None else video.reshape(-1, *video.shape[2:])


@dataclass
class VideoState:
    """What carries over from one chunk of a video to the next: where the chunk starts in the video, the
    generator's last frames per pyramid level, and the real/fake/flow histories of the temporal Ds."""

    chunk_start: int = 0
    last_frames: list[torch.Tensor] | None = None
    histories: dict[str, object] = field(default_factory=dict)


@dataclass
class Chunk:
    """One generated chunk: the loss inputs and, for the display, the generator's own output."""

    frames: ChunkFrames
    generated: GeneratorOutput

    @property
    def temporal_scales(self) -> list[int]:
        """The temporal scales that have groups to judge in this chunk."""
        return list(self.frames.temporal)


class Vid2VidModel(nn.Module):
    """G (`netG<s>`), the discriminators (`netD`, `netD_T<s>`, `netD_f`), the reference-flow estimator and
    the losses.

    Args:
        opt: the training options (see Vid2VidGenerator, Vid2VidDiscriminators and Vid2VidLoss for what
            each reads; here n_scales_temporal, n_frames_D, sparse_D, true_prev_frame, and label_nc, input_nc,
        use_instance for the pictures).
        flow_estimator: `(current, previous) -> (flow, conf)`, see models/flow/estimator.py.
        vgg_features: VGG19 features for the VGG loss, or None with --no_vgg.
    """

    def __init__(self, opt: argparse.Namespace, flow_estimator: nn.Module, vgg_features: nn.Sequential | None):
        super().__init__()
        self.G = Vid2VidGenerator(opt)
        self.D = Vid2VidDiscriminators(opt)
        self.flow_estimator = flow_estimator
        self.loss = Vid2VidLoss(opt, vgg_features)
        self.t_scales = opt.n_scales_temporal
        self.tD = opt.n_frames_D
        self.sparse_D = opt.sparse_D
        self.true_prev_frame = opt.true_prev_frame
        self.picture_options = {"label_nc": opt.label_nc, "input_nc": opt.input_nc, "use_instance": opt.use_instance,
                                "pose": opt.dataset_mode == "pose"}
        self.plan: DevicePlan | None = None  # one device, wherever the model is, until `place`

    def place(self, plan: DevicePlan) -> Vid2VidModel:
        """Moves every network to the plan's main device and runs G and the discriminators over the plan's
        devices from then on (util/placement.py); returns self."""
        self.plan = plan
        return self.to(plan.main_device)

    def networks(self) -> dict[str, nn.Module]:
        """Official checkpoint stem -> network: G0.., D, D_T0.., D_f."""
        nets = {f"G{s}": net for s, net in enumerate(self.G.scale_nets())}
        nets.update({name: getattr(self.D, f"net{name}") for name in self.D.net_names()})
        return nets

    def new_video(self) -> VideoState:
        histories: dict[str, object] = dict.fromkeys(("real", "fake", "flow"))
        if self.sparse_D:
            histories = {key: [None] * self.t_scales for key in histories}
        return VideoState(histories=histories)

    def generate_chunk(self, A: torch.Tensor, B: torch.Tensor, inst: torch.Tensor | None, state: VideoState,
                       n_frames_bp: int, train_coarse_scales: bool) -> Chunk:
        """Generates one chunk and prepares everything its losses need; advances `state`.

        A: `(B, L+tG-1, C_A, H, W)`, B: `(B, L+tG-1, 3, H, W)`, inst: `(B, L+tG-1, 1, H, W)` or None: the
        chunk's frames, the first tG-1 being the previous ones. n_frames_bp and train_coarse_scales come
        from the training schedule (see Vid2VidGenerator.forward).
        """
        out = self.generate(A, B, inst, state.last_frames, n_frames_bp, train_coarse_scales)
        real_B_prev = out.real_B_prev_and_cur[:, :-1]
        real_B = out.real_B_prev_and_cur[:, 1:]
        with torch.no_grad():
            flow_ref, conf_ref = self.flow_estimator(real_B, real_B_prev)
        fake_B_prev = torch.cat([self.previous_of_first_frame(state, real_B_prev, out), out.fake_B[:, :-1].detach()],
                                dim=1)
        frames = ChunkFrames(
            real_A=flatten_frames(out.real_A), real_B=flatten_frames(real_B), real_B_prev=flatten_frames(real_B_prev),
            fake_B=flatten_frames(out.fake_B), fake_B_raw=flatten_frames(out.fake_B_raw),
            fake_B_prev=flatten_frames(fake_B_prev), flow=flatten_frames(out.flow), weight=flatten_frames(out.weight),
            flow_ref=flatten_frames(flow_ref), conf_ref=flatten_frames(conf_ref),
            temporal=self.temporal_groups(state, real_B, out.fake_B, flow_ref))
        state.last_frames = out.last_frames
        state.chunk_start += out.fake_B.shape[1]
        return Chunk(frames, out)

    def generate(self, A: torch.Tensor, B: torch.Tensor, inst: torch.Tensor | None,
                 last_frames: list[torch.Tensor] | None, n_frames_bp: int, train_coarse_scales: bool
                 ) -> GeneratorOutput:
        """G's forward placed by the plan (arguments as `Vid2VidGenerator.forward`; the outputs on the main
        device): frame t on its own GPU in the frame split; each GPU's share of the sequences on a copy of G
        there when the batch is split; else G where the inputs are."""
        plan = self.plan
        if plan is None or plan.single_device:
            return self.G(A, B, inst, last_frames, n_frames_bp, train_coarse_scales)
        frame_devices = plan.frame_devices(A.shape[1] - self.G.tG + 1)
        if frame_devices is not None:
            return self.G(A, B, inst, last_frames, n_frames_bp, train_coarse_scales, frame_devices)
        shards = plan.sequence_shards(A.shape[0])
        devices = [d for d, n in shards if n]
        copies = copies_on(self.G, [plan.main_device, *[d for d in devices if d != plan.main_device]])
        inputs = [split_batch(x, shards) for x in (A, B, inst)]
        prevs = None if last_frames is None else [split_batch(level, shards) for level in last_frames]
        outs = []
        for k, device in enumerate(devices):
            shard_prevs = None if prevs is None else [level[k] for level in prevs]
            outs.append(copies[device](*(x[k] for x in inputs), shard_prevs, n_frames_bp, train_coarse_scales))
        return GeneratorOutput(*(concat_on(plan.main_device, [getattr(o, f.name) for o in outs])
                                 for f in fields(GeneratorOutput)))

    def previous_of_first_frame(self, state: VideoState, real_B_prev: torch.Tensor, out: GeneratorOutput
                                ) -> torch.Tensor:
        """The frame G_Warp takes as "previous" for the chunk's first frame, `(B, 1, 3, H, W)`, detached.

        The first chunk of a video: the real previous frame. Later chunks: the official code took this
        chunk's own last generated frame (its G forward had appended the new frames to the caller's list in
        place, reference §5 and §11.20); with --true_prev_frame, the previous chunk's last frame.
        """
        if state.last_frames is None:
            return real_B_prev[:, :1]
        if self.true_prev_frame:
            return state.last_frames[0][:, -1:]
        return out.fake_B[:, -1:].detach()

    def temporal_groups(self, state: VideoState, real_B: torch.Tensor, fake_B: torch.Tensor,
                        flow_ref: torch.Tensor) -> dict[int, TemporalGroups]:
        """Updates the video's histories and returns the groups of every temporal scale that has one.

        real_B, fake_B: `(B, L, 3, H, W)`; flow_ref: `(B, L, 2, H, W)` (reference §4.6).
        """
        if self.t_scales == 0:
            return {}
        hist, t_scales, tD = state.histories, self.t_scales, self.tD
        if self.sparse_D:
            hist["real"], reals = sparse_groups(hist["real"], real_B, t_scales, tD, state.chunk_start)
            hist["fake"], fakes = sparse_groups(hist["fake"], fake_B, t_scales, tD, state.chunk_start)
            hist["flow"], flows = sparse_groups(hist["flow"], flow_ref, t_scales, tD, state.chunk_start, is_flow=True)
        else:
            hist["real"], reals = dense_groups(hist["real"], real_B, t_scales, tD)
            hist["fake"], fakes = dense_groups(hist["fake"], fake_B, t_scales, tD)
            hist["flow"], flow0 = dense_groups(hist["flow"], flow_ref, 1, tD)
            flows = [None if flow0[0] is None else flow0[0][:, 1:]]
            # coarser temporal scales compare frames tD**s apart: estimate those flows afresh
            for group in reals[1:]:
                flows.append(None if group is None else self.flow_estimator(group[:, 1:], group[:, :-1])[0])
        return {s: TemporalGroups(reals[s], fakes[s], flows[s]) for s in range(t_scales) if reals[s] is not None}

    # ---- losses (the trainer steps each network on its own total, backpropagated into it alone) ----
    def chunk_losses(self, chunk: Chunk) -> ChunkLosses:
        """Every G, D and D_T term of the chunk by its official name (see losses.py)."""
        plan, nets = self.plan, self.D
        if plan is not None and not plan.single_device:
            nets = ShardedDiscriminators(self.D, plan.frame_shards, plan.main_device)
        return self.loss.chunk_losses(chunk.frames, nets)

    generator_total = staticmethod(generator_total)
    discriminator_total = staticmethod(discriminator_total)
    temporal_discriminator_total = staticmethod(temporal_discriminator_total)

    def visuals(self, chunk: Chunk, fake_first: torch.Tensor) -> dict[str, np.ndarray]:
        """The training display images of a chunk (see visuals.py); fake_first: the video's first output."""
        return training_visuals(chunk, fake_first, **self.picture_options)
