"""The training loop (official train.py): for every video, chunk by chunk, one G step, one D step and one step
per active temporal D; at the end of every epoch the schedule, then the checkpoints.

Data flows one way: options -> dataset -> Trainer -> model (generator, discriminators, losses, reference
flow) -> visualizer and checkpoints. The Trainer decides the device and owns the optimizers and the schedule.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from contextlib import contextmanager

import torch
import torch.nn as nn
from tqdm import tqdm

from data import create_dataloader
from data.windows import frames_per_chunk
from models import checkpoints as ckpt
from models import create_training_model
from options.base_options import write_options
from training import checkpointing
from training.optimizers import build_generator_optimizer, build_optimizers, set_learning_rate
from training.schedule import ScheduleEvents, TrainingSchedule
from util.runtime import generator_gpu_count, seed_everything, select_device
from util.visualizer import Visualizer


@contextmanager
def frozen(module: nn.Module):
    """Parameters of `module` need no gradient inside the block (the G step judges with frozen Ds)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """zero_grad, backward, step. Gradients are zeroed, not set to None, as in PyTorch 0.4: Adam then keeps
    moving a parameter that got no gradient this step (e.g. the face D on a chunk without a face)."""
    optimizer.zero_grad(set_to_none=False)
    loss.backward()
    optimizer.step()


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
        self.model = create_training_model(opt).to(self.device)
        self.networks = self.model.networks()
        self.schedule = TrainingSchedule(opt, self.dataset.longest_sequence)
        load_messages = checkpointing.load_networks(opt, self.networks, self.save_dir)
        self.start_epoch, self.epoch_iter = ckpt.read_iter_file(self.save_dir) if opt.continue_train else (1, 0)
        train_state = checkpointing.read_train_state(self.save_dir, opt.which_epoch) if opt.continue_train else None
        events = ScheduleEvents()
        if train_state is not None:
            self.schedule.load_state_dict(train_state["schedule"])
        elif opt.continue_train:  # official checkpoints: replay the schedule instead
            events = self.schedule.replay(self.start_epoch)
        self.optimizers = build_optimizers(opt, self.schedule, self.networks)
        if events.lr_changed:
            set_learning_rate(self.optimizers, self.schedule.lr)
        if train_state is not None:
            checkpointing.restore_train_state(train_state, self.optimizers)
        self.dataset.set_sequence_length(self.schedule.n_frames_total)

        write_options(opt)
        self.visualizer = Visualizer(opt)
        for message in load_messages:
            self.visualizer.log(message)
        if opt.continue_train:
            self.visualizer.log(f"Resuming from epoch {self.start_epoch} at iteration {self.epoch_iter}")

    # ---- schedule and checkpoints ---------------------------------------------------------------
    def end_of_epoch(self, epoch: int) -> None:
        """Applies the schedule's end-of-epoch changes to the optimizers, the dataset and G."""
        events = self.schedule.end_of_epoch(epoch)
        if events.lr_changed:
            set_learning_rate(self.optimizers, self.schedule.lr)
            self.visualizer.log(f"update learning rate: {self.schedule.lr:f}")
        if events.sequence_length_changed:
            self.dataset.set_sequence_length(self.schedule.n_frames_total)
            self.visualizer.log(f"--------- Updating training sequence length to {self.schedule.n_frames_total} "
                                "---------")
        if events.switched_to_all_scales:
            # the official code built this optimizer but kept stepping the old one (reference §11.5)
            scales = [self.networks[f"G{s}"] for s in range(self.opt.n_scales_spatial)]
            self.optimizers["G"] = build_generator_optimizer(self.opt, self.schedule, scales, switched=True)
            self.visualizer.log("------------ Now finetuning all scales -----------")

    def save(self, label: str) -> None:
        """Writes every network, then the train state (all atomically)."""
        checkpointing.save_networks(self.networks, self.save_dir, label)
        checkpointing.save_train_state(self.save_dir, label, self.optimizers, self.schedule.state_dict())

    # ---- one video --------------------------------------------------------------------------------
    def train_video(self, data: dict) -> tuple[dict[str, float], dict]:
        """Runs every chunk of one batch of videos; returns the last chunk's losses and display images."""
        opt, tG, model = self.opt, self.opt.n_frames_G, self.model
        A, B = data["A"].to(self.device), data["B"].to(self.device)
        inst = data["inst"].to(self.device) if "inst" in data else None
        n_loaded = B.shape[1]
        # the chunking the dataset used for its window, from the same function
        L = frames_per_chunk(n_loaded - tG + 1, opt.max_frames_per_gpu,
                             generator_gpu_count(opt.n_gpus_gen, opt.batchSize))
        video = model.new_video()
        for i in range(0, n_loaded - (L + tG - 1) + 1, L):
            window = slice(i, i + L + tG - 1)
            chunk = model.generate_chunk(A[:, window], B[:, window], None if inst is None else inst[:, window],
                                         video, self.schedule.n_frames_bp, self.schedule.train_all_scales)
            if i == 0:
                fake_first = chunk.generated.fake_B[0, 0].detach()
            # one G step, one D step and one step per active D_T, in this order, per chunk (official)
            with frozen(model.D):
                losses = model.generator_losses(chunk)
            step(self.optimizers["G"], model.generator_total(losses))
            d_losses = model.discriminator_losses(chunk)
            step(self.optimizers["D"], model.discriminator_total(d_losses))
            losses.update(d_losses)
            for scale in chunk.temporal_scales:
                dt_losses = model.temporal_discriminator_losses(chunk, scale)
                step(self.optimizers[f"D_T{scale}"], model.temporal_discriminator_total(dt_losses, scale))
                losses.update(dt_losses)
        errors = {name: value.item() for name, value in losses.items()}
        return errors, {"chunk": chunk, "fake_first": fake_first}

    # ---- the loop -------------------------------------------------------------------------------
    def train(self) -> None:
        opt = self.opt
        # the official loop ends an epoch after --max_dataset_size items (a new random subset each epoch
        # when shuffling); the dataset keeps every sequence
        dataset_size = int(min(len(self.dataset), opt.max_dataset_size))
        print_freq = math.lcm(opt.print_freq, opt.batchSize)
        total_steps = ((self.start_epoch - 1) * dataset_size + self.epoch_iter) // print_freq * print_freq
        epoch_iter = self.epoch_iter
        n_epochs = opt.niter + opt.niter_decay
        for epoch in range(self.start_epoch, n_epochs + 1):
            epoch_start = time.time()
            progress = tqdm(self.loader, desc=f"epoch {epoch}/{n_epochs}", leave=False, dynamic_ncols=True,
                            total=math.ceil(dataset_size / opt.batchSize))
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
                    self.visualizer.display_current_results(self.model.visuals(**display), epoch, total_steps)
                if total_steps % opt.save_latest_freq == 0:
                    self.visualizer.log(f"saving the latest model (epoch {epoch}, total_steps {total_steps})")
                    self.save("latest")
                    ckpt.write_iter_file(self.save_dir, epoch, epoch_iter)
                if epoch_iter > dataset_size - opt.batchSize:
                    break
            progress.close()
            epoch_iter = 0
            self.visualizer.log(f"End of epoch {epoch} / {n_epochs} \t Time Taken: {time.time() - epoch_start:.0f} sec")
            saving = epoch % opt.save_epoch_freq == 0
            if saving:
                self.visualizer.log(f"saving the model at the end of epoch {epoch}, iters {total_steps}")
            # the schedule moves on before saving, so that a resumed run starts where this one goes on
            self.end_of_epoch(epoch)
            if saving:
                self.save("latest")
                self.save(str(epoch))
                ckpt.write_iter_file(self.save_dir, epoch + 1, 0)
        self.visualizer.close()
