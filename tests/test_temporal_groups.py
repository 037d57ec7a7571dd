"""Temporal-discriminator frame groups against the examples of reference §4.6."""

import torch

from models.vid2vid.temporal_groups import dense_groups, sparse_groups


def frames(indices):
    """A (1, n, 1) tensor whose entries are the frame numbers."""
    return torch.tensor(indices, dtype=torch.float32).reshape(1, -1, 1)


def numbers(group):
    return None if group is None else group.reshape(group.shape[0], -1).long().tolist()


def run_dense(n_frames, chunk, t_scales=2, tD=3):
    history, fired = None, []
    for start in range(0, n_frames, chunk):
        history, groups = dense_groups(history, frames(range(start, start + chunk)), t_scales, tD)
        fired.append([numbers(g) for g in groups])
    return fired


def test_dense_one_frame_per_chunk():
    fired = run_dense(9, 1)
    assert fired[1] == [None, None]
    assert fired[2] == [[[0, 1, 2]], None]  # scale 0 fires from the 3rd frame on
    assert fired[3][0] == [[1, 2, 3]]
    assert fired[5][1] is None
    assert fired[6][1] == [[0, 3, 6]]  # scale 1 from the 7th frame on
    assert fired[7][1] == [[1, 4, 7]]


def test_dense_four_frames_per_chunk():
    fired = run_dense(8, 4)
    assert fired[1][0] == [[5, 6, 7], [2, 3, 4]]
    assert fired[1][1] == [[1, 4, 7]]


def test_dense_history_is_trimmed_and_detached():
    new = frames(range(10)).requires_grad_()
    history, _ = dense_groups(None, new, 2, 3)
    assert history.shape[1] == 3 ** 1 * 2
    history, groups = dense_groups(history, frames([10]).requires_grad_(), 2, 3)
    assert groups[0].requires_grad  # the new frame keeps its graph


def test_sparse_scale_one_uses_every_third_frame():
    histories, fired = [None, None], []
    for start in range(10):
        histories, groups = sparse_groups(histories, frames([start]), 2, 3, start)
        fired.append(numbers(groups[1]))
    assert fired[6] == [[0, 3, 6]]
    assert fired[9] == [[3, 6, 9]]
    assert fired[7] is None  # the completed group was trimmed to its last tD-1 frames


def test_sparse_flows_keep_the_last_tD_minus_one():
    _, groups = sparse_groups([None], frames([0, 1, 2]), 1, 3, 0, is_flow=True)
    assert numbers(groups[0]) == [[1, 2]]
