"""The training loop (official train.py): for every video, chunk by chunk, one G step, one D step and one step
per active temporal D; at the end of every epoch the schedule, then the checkpoints.

Data flows one way: options -> dataset -> Trainer -> model (generator, discriminators, losses, reference
flow) -> visualizer and checkpoints. The Trainer places the model on the devices of the options' DevicePlan
(util/placement.py) and owns the optimizers and the schedule.
What survives what (README "Reliability"): the data is checked before training; SIGINT/SIGTERM and errors
in the loop save `latest` first; non-finite losses skip their update; unreadable items are skipped.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence

import torch
from tqdm import tqdm

from data import create_dataloader
from data.dataset_check import check_dataset
from data.windows import frames_per_chunk
from models import checkpoints as ckpt
from models import create_training_model
from models.flow.cache import CachedFlowEstimator
from options.base_options import write_options
from training import checkpointing
from training.distributed import Distributed, QuietVisualizer
from training.guards import NonFiniteGuard, TrainingStopped, UnreadableItems, non_finite
from training.interrupts import StopRequests
from training.optimizers import build_generator_optimizer, build_optimizers, set_learning_rate
from training.schedule import ScheduleEvents, TrainingSchedule
from util.placement import DevicePlan
from util.precision import Precision
from util.runtime import rng_state, seed_everything, set_rng_state
from util.visualizer import Visualizer


def backward(optimizer: torch.optim.Optimizer, loss: torch.Tensor | None,
             scaler: torch.amp.GradScaler | None = None) -> None:
    """zero_grad, then backward into the optimizer's own parameters only (no backward for a None loss).

    The losses of all networks share their discriminator forwards (models/vid2vid/losses.py), so each
    backward is restricted to the parameters this optimizer updates, and keeps the graph for the next
    network's. Gradients are zeroed, not set to None, as in PyTorch 0.4: Adam then keeps moving a parameter
    that got no gradient this step (e.g. the face D on a chunk without a face). With a GradScaler (--fp16)
    the loss is scaled before the backward.
    """
    optimizer.zero_grad(set_to_none=False)
    if loss is not None:
        (loss if scaler is None else scaler.scale(loss)).backward(inputs=parameters(optimizer), retain_graph=True)


def optimizer_step(optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None = None) -> None:
    """optimizer.step(); with a GradScaler (--fp16) through the scaler: a step whose gradients overflowed is
    skipped and the scale lowered, as apex's dynamic loss scaling did."""
    if scaler is None:
        optimizer.step()
        return
    scaler.step(optimizer)
    scaler.update()


def parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def check_data_or_stop(opt: argparse.Namespace) -> None:
    """The data check before training: prints every problem and raises ValueError when there is one."""
    report = check_dataset(opt)
    print(report.summary())
    if report.problems:
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        raise ValueError(f"the data check found {len(report.problems)} problem(s) under --dataroot {opt.dataroot} "
                         f"(listed above; first: {report.problems[0]}); fix them or pass --skip_data_check")


class Trainer:
    """Builds everything from the training options and runs `train()`."""

    def __init__(self, opt: argparse.Namespace):
        self.opt = opt
        self.dist = Distributed(opt)  # a torchrun launch: this process's GPU, rank and process group
        # where every network and tensor goes (util/placement.py); the data and the losses on its main device
        self.plan = DevicePlan.from_options(opt)
        self.device = self.plan.main_device
        self.precision = Precision.from_options(opt, self.device)
        self.save_dir = os.path.join(opt.checkpoints_dir, opt.name)
        if opt.seed is not None:
            seed_everything(opt.seed)
        if opt.debug:
            opt.display_freq = opt.print_freq = 1

        # everything that can fail on bad input is checked before anything is trained or saved
        if not opt.skip_data_check:
            self.dist.main_checks(check_data_or_stop, opt)
        self.loader = create_dataloader(opt, self.dist.shard)
        self.dataset = self.loader.dataset
        self.dist.check_work(int(min(len(self.dataset), opt.max_dataset_size)), opt.batchSize)
        self.model = create_training_model(opt).place(self.plan)
        self.networks = self.model.networks()
        self.dist.start(self.networks)
        self.schedule = TrainingSchedule(opt, self.dataset.longest_sequence)
        messages = self.load_start_point()
        if self.dist.is_main:  # only rank 0 writes
            checkpointing.remove_stale_temporaries(self.save_dir)
            write_options(opt)
        self.visualizer = Visualizer(opt) if self.dist.is_main else QuietVisualizer()
        for message in messages:
            self.visualizer.log(message)
        self.non_finite = NonFiniteGuard(opt.max_nan_steps)
        self.unreadable = UnreadableItems(opt.max_unreadable_items)
        self.last_save = time.time()

    def load_start_point(self) -> list[str]:
        """Networks, position, optimizers, schedule and RNGs of a resumed run (or the pretrained networks);
        returns messages for the log."""
        opt, train_state, messages = self.opt, None, []
        self.start_epoch, self.epoch_iter = 1, 0
        self.rng_after_iterator: dict | None = None
        if opt.continue_train:
            point = checkpointing.find_resume_point(self.save_dir, opt.which_epoch, self.networks)
            checkpointing.apply_resume_point(point, self.networks)
            self.start_epoch, self.epoch_iter, train_state = point.epoch, point.epoch_iter, point.train_state
            messages = [*point.messages, f"Resuming from epoch {self.start_epoch} at iteration {self.epoch_iter} "
                                         f"(checkpoint '{point.label}')"]
        elif opt.load_pretrain:
            messages = checkpointing.load_pretrained(opt, self.networks)
        if train_state is not None:
            train_state, notes = self.dist.rank_train_state(train_state, self.loader.sampler)
            messages += notes
        events = ScheduleEvents()
        if train_state is not None:
            self.schedule.load_state_dict(train_state["schedule"])
        elif opt.continue_train:  # official checkpoints: replay the schedule instead
            events = self.schedule.replay(self.start_epoch)
        self.optimizers = build_optimizers(opt, self.schedule, self.networks)
        # one loss scaler per optimizer under --fp16; they outlive the G optimizer that --niter_fix_global rebuilds
        self.scalers = {name: self.precision.scaler() for name in self.optimizers}
        if events.lr_changed:
            set_learning_rate(self.optimizers, self.schedule.lr)
        if train_state is not None:
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(train_state["optimizers"][name])
            # train states of other precisions, or from before --fp16, have no scalers: those start afresh
            for name, state in train_state.get("scalers", {}).items():
                if self.scalers.get(name) is not None:
                    self.scalers[name].load_state_dict(state)
            if "sampler" in train_state:
                # mid-epoch: the saved RNG state is that of a run whose epoch iterator already exists, so it
                # is restored once the resumed epoch's iterator has been made (that draws a worker seed)
                self.loader.sampler.load_state_dict(train_state["sampler"])
                self.rng_after_iterator = train_state["rng"]
            else:
                set_rng_state(train_state["rng"])
        self.dataset.set_sequence_length(self.schedule.n_frames_total)
        return messages

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

    def save(self, label: str, epoch: int, epoch_iter: int, also: Sequence[str] = ()) -> None:
        """Writes checkpoint `label` as one set, resuming at (epoch, epoch_iter); for `latest`, iter.txt too.
        `also`: further labels given the same files (copied, not serialised again), e.g. the epoch's.

        A failed write (e.g. a full disk) leaves the previous checkpoint whole and stops training. Only rank 0
        of a distributed run writes.
        """
        if not self.dist.is_main:
            return
        train_state = {"optimizers": {name: o.state_dict() for name, o in self.optimizers.items()},
                       "schedule": self.schedule.state_dict(), "rng": rng_state()}
        scalers = {name: scaler.state_dict() for name, scaler in self.scalers.items() if scaler is not None}
        if scalers:
            train_state["scalers"] = scalers
        if epoch_iter:  # mid-epoch: the rest of this epoch's item order
            train_state["sampler"] = self.loader.sampler.state_dict(epoch_iter)
        if self.dist.active:
            train_state["distributed"] = self.dist.train_state()
        try:
            checkpointing.save_checkpoint(self.save_dir, [label, *also], self.networks, train_state, epoch,
                                          epoch_iter)
            if label == "latest":
                ckpt.write_iter_file(self.save_dir, epoch, epoch_iter)
        except OSError as error:
            labels = " and ".join(f"'{name}'" for name in [label, *also])
            raise TrainingStopped(f"cannot save checkpoint {labels} in {self.save_dir} ({error}); the previous "
                                  "checkpoint is intact", save=False) from error
        self.last_save = time.time()

    # ---- one video --------------------------------------------------------------------------------
    def step_if_finite(self, name: str, total: torch.Tensor | None, losses: dict[str, torch.Tensor]) -> list[str]:
        """Steps optimizer `name` on `total` unless it or one of its terms is non-finite (on any process of a
        distributed run, whose gradients are averaged first); returns the non-finite names (the total is
        `loss_<name>`). total None: nothing for this optimizer here (it is not stepped unless another
        process has something)."""
        bad = [] if total is None else non_finite({**losses, f"loss_{name}": total})
        optimizer, scaler = self.optimizers[name], self.scalers[name]
        backward(optimizer, None if bad else total, scaler)
        bad, update = self.dist.average_gradients(parameters(optimizer), total is not None and not bad, bad)
        if update:
            optimizer_step(optimizer, scaler)
        return bad

    def train_chunk(self, chunk, where: str) -> dict[str, torch.Tensor]:
        """One G step, one D step and one step per active D_T, in this order (official); returns the losses.
        chunk None: this process has no chunk left but others have (distributed); it takes part in their steps.

        The losses are computed under the run's autocast, the backward passes outside it (torch.amp's rule).
        Only non-finite losses count for --max_nan_steps: a float16 step skipped because its gradients
        overflowed is the GradScaler's business, not a bad chunk.
        """
        model, terms = self.model, {}
        totals: dict[str, tuple] = dict.fromkeys(self.optimizers, (None, {}))  # name -> (total, its terms)
        if chunk is not None:
            with self.precision.autocast():
                losses = model.chunk_losses(chunk)
            totals["G"] = (model.generator_total(losses.generator), losses.generator)
            totals["D"] = (model.discriminator_total(losses.discriminator), losses.discriminator)
            terms = {**losses.generator, **losses.discriminator}
            for scale, dt_losses in losses.temporal.items():
                totals[f"D_T{scale}"] = (model.temporal_discriminator_total(dt_losses, scale), dt_losses)
                terms.update(dt_losses)
        bad = []
        for name, (total, name_losses) in totals.items():
            bad += self.step_if_finite(name, total, name_losses)
        warning = self.non_finite.chunk_done(bad, where)
        if warning:
            self.visualizer.log(warning)
        return terms

    def train_video(self, data: dict, where: str = "") -> tuple[dict[str, float], dict | None]:
        """Runs every chunk of one batch of videos; returns the last chunk's losses and display images.

        A process of a distributed run goes on taking part in the others' steps once its own chunks are done,
        or for a batch without a readable item (it then returns {} and None).
        """
        opt, tG, model = self.opt, self.opt.n_frames_G, self.model
        starts = range(0)
        if "A" in data:
            A, B = data["A"].to(self.device), data["B"].to(self.device)
            inst = data["inst"].to(self.device) if "inst" in data else None
            n_loaded = B.shape[1]
            # the chunking the dataset used for its window, from the same function
            L = frames_per_chunk(n_loaded - tG + 1, opt.max_frames_per_gpu, self.plan.frame_gpus)
            starts = range(0, n_loaded - (L + tG - 1) + 1, L)
        video, losses, display = model.new_video(), {}, None
        for k in range(self.dist.most(len(starts))):
            if k >= len(starts):
                self.train_chunk(None, where)
                continue
            window = slice(starts[k], starts[k] + L + tG - 1)
            with self.precision.autocast():
                chunk = model.generate_chunk(A[:, window], B[:, window], None if inst is None else inst[:, window],
                                             video, self.schedule.n_frames_bp, self.schedule.train_all_scales)
            if k == 0:
                fake_first = chunk.generated.fake_B[0, 0].detach()
            losses = self.train_chunk(chunk, f"{where} chunk {k}")
            display = {"chunk": chunk, "fake_first": fake_first}
        return {name: value.item() for name, value in losses.items()}, display

    # ---- the loop -------------------------------------------------------------------------------
    def train(self) -> None:
        """Trains to the last epoch; on SIGINT/SIGTERM or an error in the loop, saves `latest` first."""
        self.position = (self.start_epoch, self.epoch_iter)  # the last video completed
        with StopRequests() as signals:
            try:
                self.run_epochs(signals)
            except TrainingStopped as stop:
                self.stop(str(stop), save=stop.save)
                raise SystemExit(1) from None
            except Exception as error:
                self.stop(f"{type(error).__name__} during training: {str(error).strip().splitlines()[0]}",
                          save=True)
                raise
            finally:
                self.visualizer.close()
        self.dist.close()
        if signals.signal_name:
            self.stop(f"stopped by {signals.signal_name}", save=True)
            raise SystemExit(128 + signals.signal_number)

    def stop(self, reason: str, save: bool) -> None:
        """Saves `latest` at the last completed video (unless `save` is False) and says where a resumed run
        starts."""
        epoch, epoch_iter = self.position
        if save:
            try:
                self.save("latest", epoch, epoch_iter)
            except TrainingStopped as failed:
                reason, save = f"{reason}; {failed}", False
        kept = (f"saved latest at epoch {epoch}, iteration {epoch_iter}" if save
                else "the last saved checkpoint is kept")
        message = f"{reason}: {kept}; resume with --continue_train"
        self.visualizer.log(message)
        print(message, file=sys.stderr)

    def run_epochs(self, signals: StopRequests) -> None:
        opt = self.opt
        # the official loop ends an epoch after --max_dataset_size items (a new random subset each epoch
        # when shuffling); the dataset keeps every sequence
        dataset_size = int(min(len(self.dataset), opt.max_dataset_size))
        step_items = self.items_per_step
        print_freq = math.lcm(opt.print_freq, step_items)
        total_steps = ((self.start_epoch - 1) * dataset_size + self.epoch_iter) // print_freq * print_freq
        epoch_iter = self.epoch_iter
        n_epochs = opt.niter + opt.niter_decay
        for epoch in range(self.start_epoch, n_epochs + 1):
            epoch_start = time.time()
            self.loader.sampler.set_epoch(epoch)
            items = iter(self.loader)
            if self.rng_after_iterator is not None:
                set_rng_state(self.rng_after_iterator)
                self.rng_after_iterator = None
            progress = tqdm(items, desc=f"epoch {epoch}/{n_epochs}", leave=False, dynamic_ncols=True,
                            total=math.ceil((dataset_size - epoch_iter) / step_items), disable=not self.dist.is_main)
            for data in progress:
                if "unreadable" in data and not self.dist.active:  # a distributed run records them below
                    self.record_unreadable(data["unreadable"])
                    if "A" not in data:
                        continue
                if total_steps % print_freq == 0:
                    iter_start = time.time()
                total_steps += step_items
                epoch_iter += step_items
                errors, display = self.train_video(data, f"epoch {epoch} iteration {epoch_iter}")
                self.position = (epoch, epoch_iter)
                if self.dist.active:  # every process's losses (averaged), notes and stop signals
                    errors, notes = self.dist.end_iteration(errors, data.get("unreadable", []), signals)
                    self.record_unreadable(notes)
                if errors:
                    progress.set_postfix(G_GAN=f"{errors['G_GAN']:.3f}", D_real=f"{errors['D_real']:.3f}")
                self.after_video(epoch, epoch_iter, total_steps, errors, display, time.time() - iter_start)
                if signals.signal_name or epoch_iter > dataset_size - step_items:
                    break
            progress.close()
            if signals.signal_name:
                return
            epoch_iter = 0
            self.visualizer.log(f"End of epoch {epoch} / {n_epochs} \t Time Taken: {time.time() - epoch_start:.0f} sec")
            if isinstance(self.model.flow_estimator, CachedFlowEstimator):
                self.visualizer.log(self.model.flow_estimator.report())
            self.end_epoch(epoch, total_steps)

    @property
    def items_per_step(self) -> int:
        """Videos one training step takes: --batchSize on each process of the run."""
        return self.opt.batchSize * self.dist.world_size

    def record_unreadable(self, notes: list[str]) -> None:
        for warning in self.unreadable.record(notes):
            self.visualizer.log(warning)

    def after_video(self, epoch: int, epoch_iter: int, total_steps: int, errors: dict[str, float],
                    display: dict | None, seconds: float) -> None:
        """Prints, displays and saves `latest` on their official step counts (and --save_latest_every_s)."""
        opt = self.opt
        print_freq = math.lcm(opt.print_freq, self.items_per_step)
        if total_steps % print_freq == 0:
            self.visualizer.print_current_errors(epoch, epoch_iter, errors, seconds / print_freq)
            self.visualizer.plot_current_errors(errors, total_steps)
        if total_steps % opt.display_freq == 0 and display is not None and self.dist.is_main:
            self.visualizer.display_current_results(self.model.visuals(**display), epoch, total_steps)
        due = opt.save_latest_every_s and time.time() - self.last_save >= opt.save_latest_every_s
        if (total_steps % opt.save_latest_freq == 0 or due) and self.non_finite.healthy:
            self.visualizer.log(f"saving the latest model (epoch {epoch}, total_steps {total_steps})")
            self.save("latest", epoch, epoch_iter)

    def end_epoch(self, epoch: int, total_steps: int) -> None:
        saving = epoch % self.opt.save_epoch_freq == 0 and self.non_finite.healthy
        if saving:
            self.visualizer.log(f"saving the model at the end of epoch {epoch}, iters {total_steps}")
        # the schedule moves on before saving, so that a resumed run starts where this one goes on
        self.end_of_epoch(epoch)
        self.position = (epoch + 1, 0)
        if saving:
            self.save("latest", epoch + 1, 0, also=[str(epoch)])
