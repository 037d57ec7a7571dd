"""A seeded two-epoch training run and its rendered test frames against numbers recorded earlier
(tests/regression_run.py says what the run covers).

- `baseline_true_prev` was recorded from the code before the house redesign. With --true_prev_frame (the
  behaviour that code had at chunk boundaries) today's code must give the same losses and frames.
- `official` was recorded right after the redesign, with the default official chunk-boundary G_Warp
  (reference §11.20), which changes the numbers on purpose.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests import regression_run


@pytest.fixture(scope="module")
def dataroot(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("regression_data"))
    regression_run.make_dataset(root)
    return root


def assert_same_run(got: dict, expected: dict) -> None:
    assert len(got["losses"]) == len(expected["losses"]) == 4
    for step, (new, old) in enumerate(zip(got["losses"], expected["losses"])):
        assert sorted(new) == sorted(old), step
        for name, value in old.items():
            assert math.isclose(new[name], value, rel_tol=1e-6, abs_tol=1e-9), (step, name, new[name], value)
    assert sorted(got["frames"]) == sorted(expected["frames"]) and len(expected["frames"]) == 8
    for name, frame in expected["frames"].items():
        np.testing.assert_array_equal(got["frames"][name], frame, err_msg=name)


@pytest.mark.parametrize(("recording", "flags"), [("baseline_true_prev", ["--true_prev_frame"]), ("official", [])])
def test_run_repeats_the_recorded_numbers(dataroot, tmp_path, recording, flags):
    assert_same_run(regression_run.run(dataroot, str(tmp_path), *flags), regression_run.load(recording))


def test_the_two_recordings_differ_from_the_first_step():
    """The official chunk-boundary frame changes G_Warp from the second chunk of the first video on."""
    true_prev, official = regression_run.load("baseline_true_prev"), regression_run.load("official")
    first_true, first_official = true_prev["losses"][0], official["losses"][0]
    assert not math.isclose(first_true["G_Warp"], first_official["G_Warp"], rel_tol=1e-3)
