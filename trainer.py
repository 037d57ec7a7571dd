"""The vid2vid training loop (official train.py): chunks, G/D/D_T steps, schedules, checkpoints, resume.

Data flows one way: options -> dataset -> Trainer -> (generator, flow estimator, discriminators, losses)
-> visualizer and checkpoints. The Trainer decides device placement and owns the optimizers.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time

import numpy as np
import torch
from tqdm import tqdm

from data import create_dataloader
from data.base_dataset import frames_per_chunk
from models import checkpoints as ckpt
from models.flow.estimator import create_flow_estimator
from models.losses import load_vgg19_features
from models.temporal_groups import dense_groups, sparse_groups
from models.vid2vid_discriminator import Vid2VidDiscriminator
from models.vid2vid_generator import GeneratorOutput, Vid2VidGenerator
from options.base_options import write_options
from util.image import tensor2flow, tensor2im, tensor2label
from util.visualizer import Visualizer


def select_device(gpu_ids: list[int]) -> torch.device:
    """The one place that decides where tensors live: the first listed GPU, or the CPU for --gpu_ids -1."""
    return torch.device(f"cuda:{gpu_ids[0]}") if gpu_ids else torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict:
    """Python, NumPy and torch RNG states in a form torch.load(weights_only=True) accepts."""
    np_state = np.random.get_state()
    state = {"python": random.getstate(), "torch": torch.get_rng_state(),
             "numpy": (np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:])}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    version, counts, gauss = state["python"]
    random.setstate((version, tuple(counts), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def flatten_frames(video: torch.Tensor | None) -> torch.Tensor | None:
    """`(B, L, C, H, W)` -> `(B*L, C, H, W)`."""
    return None if video is None else video.reshape(-1, *video.shape[2:])


class Trainer:
    """Builds everything from the training options and runs `train()`."""

    def __init__(self, opt: argparse.Namespace):
        self.opt = opt
        self.device = select_device(opt.gpu_ids)
        self.save_dir = os.path.join(opt.checkpoints_dir, opt.name)
        if opt.seed is not None:
            seed_everything(opt.seed)
        if opt.debug:
            opt.display_freq = opt.print_freq = 1

        # everything that can fail on bad input is checked before anything is trained or saved
        self.loader = create_dataloader(opt)
        self.dataset = self.loader.dataset
        self.flow_estimator = create_flow_estimator(opt.flownet, opt.flownet_checkpoint).to(self.device)
        vgg = None if opt.no_vgg else load_vgg19_features(opt.vgg_weights)
        self.G = Vid2VidGenerator(opt).to(self.device)
        self.D = Vid2VidDiscriminator(opt, vgg).to(self.device)

        self.lr = opt.lr
        self.optimizer_G = self.make_optimizer_G(all_scales=self.G.finetune_all)
        d_params = list(self.D.netD.parameters())
        if opt.add_face_disc:
            d_params += list(self.D.netD_f.parameters())
        lr_D, betas = (opt.lr * 2, (0.0, 0.9)) if opt.TTUR else (opt.lr, (opt.beta1, 0.999))
        self.optimizer_D = torch.optim.Adam(d_params, lr=lr_D, betas=betas)
        self.optimizers_D_T = [torch.optim.Adam(getattr(self.D, f"netD_T{s}").parameters(), lr=opt.lr,
                                                betas=(opt.beta1, 0.999)) for s in range(opt.n_scales_temporal)]
        self.start_epoch, self.epoch_iter = 1, 0
        self.load_networks()
        write_options(opt)
        self.visualizer = Visualizer(opt)
        for message in self.load_messages:
            self.visualizer.log(message)
        if opt.continue_train:
            self.restore_progress()

    # ---- optimisers and schedules -------------------------------------------------------------
    def make_optimizer_G(self, all_scales: bool) -> torch.optim.Adam:
        """Adam over every scale, or only over the finest one while --niter_fix_global holds the rest."""
        nets = self.G.scale_nets() if all_scales else self.G.scale_nets()[-1:]
        params = [p for net in nets for p in net.parameters()]
        if self.opt.TTUR:
            return torch.optim.Adam(params, lr=self.opt.lr / 2, betas=(0.0, 0.9))
        return torch.optim.Adam(params, lr=self.opt.lr, betas=(self.opt.beta1, 0.999))

    def update_learning_rate(self, epoch: int) -> None:
        """Linear decay to 0 over niter_decay epochs, for G and D only (the D_T optimisers keep their lr, and
        TTUR's factors are overwritten: both as in the official code)."""
        self.lr = self.opt.lr * (1 - (epoch - self.opt.niter) / self.opt.niter_decay)
        for optimizer in (self.optimizer_G, self.optimizer_D):
            for group in optimizer.param_groups:
                group["lr"] = self.lr
        self.visualizer.log(f"update learning rate: {self.lr:f}")

    def finetune_all_scales(self) -> None:
        """End of --niter_fix_global: train every scale from now on.

        The official code built this optimiser but kept stepping the old one (reference §11.5), so the
        coarse scales never trained; here the new optimiser replaces the old one.
        """
        self.G.finetune_all = True
        self.optimizer_G = torch.optim.Adam([p for net in self.G.scale_nets() for p in net.parameters()],
                                            lr=self.lr, betas=(self.opt.beta1, 0.999))
        self.visualizer.log("------------ Now finetuning all scales -----------")

    def grow_sequences(self, ratio: int) -> None:
        self.dataset.update_training_batch(ratio)
        self.G.update_training_batch(ratio)

    def end_of_epoch_updates(self, epoch: int) -> None:
        """Official update_models: lr decay, sequence growth, and the end of the fixed-global phase."""
        opt = self.opt
        if epoch > opt.niter:
            self.update_learning_rate(epoch)
        if epoch % opt.niter_step == 0:
            self.grow_sequences(epoch // opt.niter_step)
        if opt.n_scales_spatial > 1 and opt.niter_fix_global != 0 and epoch == opt.niter_fix_global:
            self.finetune_all_scales()

    # ---- checkpoints ----------------------------------------------------------------------------
    def networks(self) -> dict[str, torch.nn.Module]:
        """Official checkpoint stem -> network (G0.., D, D_T0.., D_f)."""
        nets = {f"G{s}": net for s, net in enumerate(self.G.scale_nets())}
        nets.update({name: getattr(self.D, f"net{name}") for name in self.D.net_names()})
        return nets

    def load_networks(self) -> None:
        """--continue_train: strict load of <which_epoch> from this experiment. --load_pretrain: the official
        partial load from another experiment (same-named, same-shaped tensors; missing files other than G0
        are skipped). Messages for the log are kept in `load_messages`."""
        opt = self.opt
        self.load_messages: list[str] = []
        if opt.continue_train:
            directory, label = self.save_dir, opt.which_epoch
        elif opt.load_pretrain:
            directory, label = opt.load_pretrain, opt.which_epoch
        else:
            return
        for name, net in self.networks().items():
            path = ckpt.network_path(directory, label, name)
            if not os.path.isfile(path):
                if name == "G0":
                    flag = "--continue_train" if opt.continue_train else "--load_pretrain"
                    raise FileNotFoundError(f"{flag}: generator checkpoint '{path}' not found")
                self.load_messages.append(f"{path} not found: {name} starts from scratch")
                continue
            if opt.continue_train:
                ckpt.load_network(net, path)
            else:
                untouched = ckpt.load_network_partial(net, path)
                if untouched:
                    prefixes = sorted({k.split(".")[0] for k in untouched})
                    self.load_messages.append(f"{path}: not initialised from the file: {', '.join(prefixes)}")

    def restore_progress(self) -> None:
        """--continue_train: the epoch from iter.txt, then the saved optimiser, RNG and schedule state, or
        (for checkpoints without it, e.g. official ones) the official replay of the schedules."""
        self.start_epoch, self.epoch_iter = ckpt.read_iter_file(self.save_dir)
        print(f"Resuming from epoch {self.start_epoch} at iteration {self.epoch_iter}")
        state_path = ckpt.train_state_path(self.save_dir, self.opt.which_epoch)
        if os.path.isfile(state_path):
            self.load_train_state(torch.load(state_path, map_location="cpu", weights_only=True))
        else:
            self.replay_schedules()

    def replay_schedules(self) -> None:
        """Official resume without saved optimiser state: re-apply the schedules up to start_epoch."""
        opt, epoch = self.opt, self.start_epoch
        if epoch > opt.niter:
            self.update_learning_rate(epoch - 1)
        if opt.n_scales_spatial > 1 and opt.niter_fix_global != 0 and epoch > opt.niter_fix_global:
            self.finetune_all_scales()
        if epoch > opt.niter_step:
            self.grow_sequences((epoch - 1) // opt.niter_step)

    def train_state(self) -> dict:
        return {"optimizer_G": self.optimizer_G.state_dict(), "optimizer_D": self.optimizer_D.state_dict(),
                "optimizers_D_T": [o.state_dict() for o in self.optimizers_D_T], "lr": self.lr,
                "finetune_all": self.G.finetune_all, "n_frames_total": self.dataset.n_frames_total,
                "n_frames_bp": self.G.n_frames_bp, "n_frames_per_gpu": self.G.n_frames_per_gpu,
                "n_frames_load": self.G.n_frames_load, "rng": rng_state()}

    def load_train_state(self, state: dict) -> None:
        self.lr = state["lr"]
        if state["finetune_all"] and not self.G.finetune_all:
            self.G.finetune_all = True
            self.optimizer_G = self.make_optimizer_G(all_scales=True)
        self.optimizer_G.load_state_dict(state["optimizer_G"])
        self.optimizer_D.load_state_dict(state["optimizer_D"])
        for optimizer, saved in zip(self.optimizers_D_T, state["optimizers_D_T"]):
            optimizer.load_state_dict(saved)
        self.dataset.n_frames_total = state["n_frames_total"]
        self.G.n_frames_bp = state["n_frames_bp"]
        self.G.n_frames_per_gpu = state["n_frames_per_gpu"]
        self.G.n_frames_load = state["n_frames_load"]
        set_rng_state(state["rng"])

    def save(self, label: str) -> None:
        """Writes every network, then the training state (all atomically)."""
        for name, net in self.networks().items():
            ckpt.save_network(net, ckpt.network_path(self.save_dir, label, name))
        ckpt.atomic_save(self.train_state(), ckpt.train_state_path(self.save_dir, label))

    # ---- one video ----------------------------------------------------------------------------
    def temporal_groups(self, state: dict, real_B: torch.Tensor, fake_B: torch.Tensor, flow_ref: torch.Tensor,
                        chunk_start: int) -> list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Updates the per-video histories in `state` and returns (scale, real, fake, flows) groups."""
        opt = self.opt
        t_scales, tD = opt.n_scales_temporal, opt.n_frames_D
        if t_scales == 0:
            return []
        if opt.sparse_D:
            state["real"], reals = sparse_groups(state["real"], real_B, t_scales, tD, chunk_start)
            state["fake"], fakes = sparse_groups(state["fake"], fake_B, t_scales, tD, chunk_start)
            state["flow"], flows = sparse_groups(state["flow"], flow_ref, t_scales, tD, chunk_start, is_flow=True)
        else:
            state["real"], reals = dense_groups(state["real"], real_B, t_scales, tD)
            state["fake"], fakes = dense_groups(state["fake"], fake_B, t_scales, tD)
            state["flow"], flow0 = dense_groups(state["flow"], flow_ref, 1, tD)
            flows = [None if flow0[0] is None else flow0[0][:, 1:]]
            # coarser temporal scales compare frames tD**s apart: estimate those flows afresh
            for group in reals[1:]:
                flows.append(None if group is None else self.flow_estimator(group[:, 1:], group[:, :-1])[0])
        return [(s, reals[s], fakes[s], flows[s]) for s in range(t_scales) if reals[s] is not None]

    def train_video(self, data: dict) -> tuple[dict[str, float], dict]:
        """Runs every chunk of one batch of videos; returns the last chunk's losses and display tensors."""
        opt, tG = self.opt, self.opt.n_frames_G
        A = data["A"].to(self.device)
        B = data["B"].to(self.device)
        inst = data["inst"].to(self.device) if "inst" in data else None
        n_loaded = B.shape[1]
        L = frames_per_chunk(opt, n_loaded - tG + 1)  # the dataset's own chunking
        t_len = L + tG - 1
        last_frames = None
        history = {"real": None, "fake": None, "flow": None}
        if opt.sparse_D:
            history = {key: [None] * opt.n_scales_temporal for key in history}
        fake_first = None
        for i in range(0, n_loaded - t_len + 1, L):
            chunk_inst = None if inst is None else inst[:, i : i + t_len]
            out: GeneratorOutput = self.G(A[:, i : i + t_len], B[:, i : i + t_len], chunk_inst, last_frames)
            real_B_prev = out.real_B_prev_and_cur[:, :-1]
            real_B = out.real_B_prev_and_cur[:, 1:]
            with torch.no_grad():
                flow_ref, conf_ref = self.flow_estimator(real_B, real_B_prev)
            first_prev = real_B_prev[:, :1] if last_frames is None else last_frames[0][:, -1:]
            fake_B_prev = torch.cat([first_prev, out.fake_B[:, :-1].detach()], dim=1)
            last_frames = out.last_frames

            frame_losses = self.D.frame_losses(
                flatten_frames(real_B), flatten_frames(out.fake_B), flatten_frames(out.fake_B_raw),
                flatten_frames(out.real_A), flatten_frames(real_B_prev), flatten_frames(fake_B_prev),
                flatten_frames(out.flow), flatten_frames(out.weight), flatten_frames(flow_ref),
                flatten_frames(conf_ref))
            temporal = [(s, self.D.temporal_losses(s, real, fake, flow))
                        for s, real, fake, flow in self.temporal_groups(history, real_B, out.fake_B, flow_ref, i)]
            loss_G, loss_D, loss_D_T = self.D.combine_losses(frame_losses, [terms for _, terms in temporal])

            # one G step, one D step and one step per active D_T, in this order, per chunk (official)
            self.step(self.optimizer_G, loss_G)
            self.step(self.optimizer_D, loss_D)
            for (scale, _), loss in zip(temporal, loss_D_T):
                self.step(self.optimizers_D_T[scale], loss)
            if i == 0:
                fake_first = out.fake_B[0, 0].detach()

        errors = {k: v.item() for k, v in frame_losses.items()}
        for scale, terms in temporal:
            errors.update({f"{k}{scale}": v.item() for k, v in terms.items()})
        display = {"out": out, "real_B": real_B, "flow_ref": flow_ref, "conf_ref": conf_ref,
                   "fake_first": fake_first}
        return errors, display

    @staticmethod
    def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def visuals(self, display: dict) -> dict[str, np.ndarray]:
        """The official training display images (batch 0, last frame of the chunk)."""
        opt, out = self.opt, display["out"]
        if opt.label_nc:
            input_image = tensor2label(out.real_A[0, -1, : opt.label_nc], opt.label_nc)
        else:
            input_image = tensor2im(out.real_A[0, -1, : 3 if opt.input_nc >= 3 else 1], normalize=False)
            if input_image.ndim == 2:
                input_image = np.repeat(input_image[..., None], 3, axis=2)
        if opt.use_instance:
            edges = tensor2im(out.real_A[0, -1, -1:], normalize=False)
            input_image = np.maximum(input_image, edges[..., None])
        visuals = {"input_image": input_image, "fake_image": tensor2im(out.fake_B),
                   "fake_first_image": tensor2im(display["fake_first"]), "fake_raw_image": tensor2im(out.fake_B_raw),
                   "real_image": tensor2im(display["real_B"]), "flow_ref": tensor2flow(display["flow_ref"]),
                   "conf_ref": tensor2im(display["conf_ref"], normalize=False)}
        if out.flow is not None:
            visuals["flow"] = tensor2flow(out.flow)
            visuals["weight"] = tensor2im(out.weight, normalize=False)
        return visuals

    # ---- the loop -------------------------------------------------------------------------------
    def train(self) -> None:
        opt = self.opt
        dataset_size = len(self.dataset)
        print_freq = math.lcm(opt.print_freq, opt.batchSize)
        total_steps = ((self.start_epoch - 1) * dataset_size + self.epoch_iter) // print_freq * print_freq
        epoch_iter = self.epoch_iter
        n_epochs = opt.niter + opt.niter_decay
        for epoch in range(self.start_epoch, n_epochs + 1):
            epoch_start = time.time()
            progress = tqdm(self.loader, desc=f"epoch {epoch}/{n_epochs}", leave=False, dynamic_ncols=True)
            for data in progress:
                if total_steps % print_freq == 0:
                    iter_start = time.time()
                total_steps += opt.batchSize
                epoch_iter += opt.batchSize
                errors, display = self.train_video(data)
                progress.set_postfix(G_GAN=f"{errors['G_GAN']:.3f}", D_real=f"{errors['D_real']:.3f}")

                if total_steps % print_freq == 0:
                    seconds = (time.time() - iter_start) / print_freq
                    self.visualizer.print_current_errors(epoch, epoch_iter, errors, seconds)
                    self.visualizer.plot_current_errors(errors, total_steps)
                if total_steps % opt.display_freq == 0:
                    self.visualizer.display_current_results(self.visuals(display), epoch, total_steps)
                if total_steps % opt.save_latest_freq == 0:
                    self.visualizer.log(f"saving the latest model (epoch {epoch}, total_steps {total_steps})")
                    self.save("latest")
                    ckpt.write_iter_file(self.save_dir, epoch, epoch_iter)
                if epoch_iter > dataset_size - opt.batchSize:
                    break
            progress.close()
            epoch_iter = 0
            self.visualizer.log(f"End of epoch {epoch} / {n_epochs} \t Time Taken: {time.time() - epoch_start:.0f} sec")
            if epoch % opt.save_epoch_freq == 0:
                self.visualizer.log(f"saving the model at the end of epoch {epoch}, iters {total_steps}")
                # the schedules are applied before saving, so that a resumed run starts where this one goes on
                self.end_of_epoch_updates(epoch)
                self.save("latest")
                self.save(str(epoch))
                ckpt.write_iter_file(self.save_dir, epoch + 1, 0)
            else:
                self.end_of_epoch_updates(epoch)
        self.visualizer.close()
