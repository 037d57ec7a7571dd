"""TrainingSchedule against the official update_models rules (reference §5), and its state round trip."""

from __future__ import annotations

import argparse

import pytest

from training.schedule import MAX_SEQUENCE_LENGTH, TrainingSchedule


def schedule_opt(**changes) -> argparse.Namespace:
    values = dict(lr=0.0002, niter=10, niter_decay=10, niter_step=5, niter_fix_global=0, n_scales_spatial=1,
                  n_frames_total=30, n_frames_G=3, max_frames_per_gpu=1, max_frames_backpropagate=1,
                  n_gpus_gen=1, batchSize=1)
    values.update(changes)
    return argparse.Namespace(**values)


def test_linear_decay_reaches_zero_at_the_last_epoch():
    schedule = TrainingSchedule(schedule_opt(niter=2, niter_decay=4), longest_sequence=100)
    lrs = []
    for epoch in range(1, 7):
        events = schedule.end_of_epoch(epoch)
        assert events.lr_changed == (epoch > 2)
        lrs.append(schedule.lr)
    assert lrs == pytest.approx([0.0002, 0.0002, 0.00015, 0.0001, 0.00005, 0.0])


def test_sequence_length_doubles_up_to_the_longest_sequence_minus_tg():
    # the official cap: min(128, longest) - (tG - 1)
    schedule = TrainingSchedule(schedule_opt(n_frames_total=4, niter_step=1, niter=20), longest_sequence=30)
    lengths = []
    for epoch in range(1, 5):
        schedule.end_of_epoch(epoch)
        lengths.append(schedule.n_frames_total)
    assert lengths == [8, 16, 28, 28]
    capped = TrainingSchedule(schedule_opt(n_frames_total=100, niter_step=1), longest_sequence=1000)
    capped.end_of_epoch(1)
    assert capped.n_frames_total == MAX_SEQUENCE_LENGTH - 2


def test_growth_happens_only_every_niter_step_epochs():
    schedule = TrainingSchedule(schedule_opt(n_frames_total=2, niter_step=3), longest_sequence=100)
    changed = [schedule.end_of_epoch(epoch).sequence_length_changed for epoch in range(1, 7)]
    assert changed == [False, False, True, False, False, True]
    assert schedule.n_frames_total == 2 * 2**2  # ratio = epoch // niter_step = 2 at epoch 6


def test_frames_backpropagated_and_per_gpu_follow_the_official_bookkeeping():
    # 2 G GPUs, max 4 frames per GPU, n_frames_total 4: n_frames_per_gpu starts at min(4, 4 // 2) = 2
    opt = schedule_opt(n_gpus_gen=2, max_frames_per_gpu=4, n_frames_total=4, max_frames_backpropagate=3,
                       niter_step=1)
    schedule = TrainingSchedule(opt, longest_sequence=100)
    assert (schedule.n_frames_per_gpu, schedule.n_frames_bp) == (2, 1)
    schedule.end_of_epoch(1)  # ratio 1: n_bp = min(3, 2) = 2 over n_frames_load 4 -> 4 // ceil(4 / 2) = 2
    assert (schedule.n_frames_per_gpu, schedule.n_frames_bp) == (4, 2)
    schedule.end_of_epoch(2)  # ratio 2: n_bp = min(3, 4) = 3 over n_frames_load 8 -> 8 // ceil(8 / 3) = 2
    assert (schedule.n_frames_per_gpu, schedule.n_frames_bp) == (4, 2)
    # with batchSize > 1 each sequence stays on one GPU
    assert TrainingSchedule(schedule_opt(n_gpus_gen=2, batchSize=2, max_frames_per_gpu=4, n_frames_total=4),
                            100).n_frames_per_gpu == 4


def test_fixed_global_phase_ends_after_niter_fix_global_epochs():
    schedule = TrainingSchedule(schedule_opt(n_scales_spatial=2, niter_fix_global=2), longest_sequence=100)
    assert not schedule.train_all_scales
    switched = [schedule.end_of_epoch(epoch).switched_to_all_scales for epoch in (1, 2, 3)]
    assert switched == [False, True, False] and schedule.train_all_scales
    # one scale: the flag does not switch anything (official), and without the flag every scale trains
    one_scale = TrainingSchedule(schedule_opt(n_scales_spatial=1, niter_fix_global=2), longest_sequence=100)
    assert not any(one_scale.end_of_epoch(e).switched_to_all_scales for e in (1, 2, 3))
    assert TrainingSchedule(schedule_opt(n_scales_spatial=2), 100).train_all_scales


def test_replay_equals_running_the_epochs():
    opt = schedule_opt(n_scales_spatial=2, niter_fix_global=3, niter=2, niter_decay=4, niter_step=2,
                       n_frames_total=4, max_frames_per_gpu=2)
    replayed = TrainingSchedule(opt, longest_sequence=40)
    events = replayed.replay(start_epoch=5)
    run = TrainingSchedule(opt, longest_sequence=40)
    for epoch in range(1, 5):
        run.end_of_epoch(epoch)
    assert events.lr_changed and events.switched_to_all_scales and events.sequence_length_changed
    assert replayed.state_dict() == run.state_dict()


def test_state_dict_round_trip():
    opt = schedule_opt(n_scales_spatial=2, niter_fix_global=1, niter=1, niter_step=1, n_frames_total=4)
    schedule = TrainingSchedule(opt, longest_sequence=40)
    for epoch in (1, 2):
        schedule.end_of_epoch(epoch)
    fresh = TrainingSchedule(opt, longest_sequence=40)
    fresh.load_state_dict(schedule.state_dict())
    assert fresh.state_dict() == schedule.state_dict()
    assert fresh.state_dict() != TrainingSchedule(opt, longest_sequence=40).state_dict()
