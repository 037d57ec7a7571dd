"""The OpenPose drawing of the pose mode on hand-written keypoints, against values computed by hand from the
official rules (reference §2.7): limb colours, brush and disc footprints, the per-stamp colour averaging where
strokes meet, the uint8 sum of several people, hands and face under --basic_point_only, thresholds, and the
order of random draws."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data.openpose_json import PersonKeypoints, read_openpose_json
from data.pose_drawing import draw_openpose, sample_segment

# The reference's limb table, written out again here so that the code's table is checked against it.
REFERENCE_LIMBS = [
    (17, 15, (153, 0, 153)), (15, 0, (153, 0, 102)), (0, 16, (102, 0, 153)), (16, 18, (51, 0, 153)),
    (0, 1, (153, 0, 51)), (1, 8, (153, 0, 0)),
    (1, 2, (153, 51, 0)), (2, 3, (153, 102, 0)), (3, 4, (153, 153, 0)),
    (1, 5, (102, 153, 0)), (5, 6, (51, 153, 0)), (6, 7, (0, 153, 0)),
    (8, 9, (0, 153, 51)), (9, 10, (0, 153, 102)), (10, 11, (0, 153, 153)), (11, 24, (0, 153, 153)),
    (11, 22, (0, 153, 153)), (22, 23, (0, 153, 153)),
    (8, 12, (0, 102, 153)), (12, 13, (0, 51, 153)), (13, 14, (0, 0, 153)), (14, 21, (0, 0, 153)),
    (14, 19, (0, 0, 153)), (19, 20, (0, 0, 153)),
]
HEAD_LIMBS = 4
SIZE = (64, 64)


def person(body=None, face=None, left=None, right=None, confidence: float = 1.0) -> PersonKeypoints:
    """Keypoints from {index: (x, y)} dicts; listed points get `confidence`, the others are undetected."""
    def part(points, n):
        array = np.zeros((n, 3))
        for i, (x, y) in (points or {}).items():
            array[i] = (x, y, confidence)
        return array
    return PersonKeypoints(part(body, 25), part(face, 70), part(left, 21), part(right, 21))


def colours_in(picture: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in c) for c in picture.reshape(-1, 3) if c.any()}


@pytest.mark.parametrize(("a", "b", "colour"), REFERENCE_LIMBS)
def test_each_limb_has_its_reference_colour(a, b, colour):
    # From (20, 30) to (40, 30): the first stamp of row 30 paints the samples moved 3 left, all in black,
    # so they take the colour exactly; the end discs (radius 6) do not reach x = 30.
    picture = draw_openpose([person(body={a: (20, 30), b: (40, 30)})], SIZE)
    assert tuple(picture[30, 30]) == colour
    assert tuple(picture[27, 22]) == colour  # the top-left stamp of the sample at x = 25
    assert not picture[:25].any() and not picture[36:].any()  # the end discs span rows 30 - 5 .. 30 + 5


def test_basic_point_only_leaves_out_the_head_limbs():
    for index, (a, b, _) in enumerate(REFERENCE_LIMBS):
        picture = draw_openpose([person(body={a: (20, 30), b: (40, 30)})], SIZE, basic_point_only=True)
        assert bool(picture.any()) == (index >= HEAD_LIMBS), (a, b)


def test_segment_sampling():
    # int(20) samples from 20 to 40: 20 + k * 20/19 truncated, so 39 is skipped
    xs, ys = sample_segment(np.array([[40.0, 30.0], [20.0, 30.0]]))  # given right to left
    assert xs.tolist() == [*range(20, 39), 40] and ys.tolist() == [30] * 20
    # steeper than 45 degrees: sampled along y, x from the line
    xs, ys = sample_segment(np.array([[10.0, 10.0], [12.0, 14.0]]))
    assert ys.tolist() == [10, 11, 12, 14] and xs.tolist() == [10, 10, 11, 12]
    # under one pixel long: no sample at all (so not even end discs are drawn)
    assert sample_segment(np.array([[5.0, 5.0], [5.6, 5.3]]))[0].size == 0
    assert sample_segment(np.array([[5.0, 5.0], [5.0, 5.0]]))[0].size == 0
    # truncation towards zero, as astype(int): -1.5 -> -1
    xs, _ = sample_segment(np.array([[-1.5, 0.0], [1.5, 0.0]]))
    assert xs.tolist() == [-1, 0, 1]


def test_body_brush_and_end_disc_footprint():
    # A one-sample limb (x 20 -> 21): the 6x6 brush (offsets -3..2) lies inside the end disc (offsets -6..5
    # with i^2 + j^2 < 36), which has 14 + 18 + 22 + 22 + 22 + 11 = 109 pixels.
    picture = draw_openpose([person(body={2: (20, 30), 3: (21, 30)})], SIZE)
    painted = picture.any(axis=2)
    assert painted.sum() == 109
    assert colours_in(picture) == {(153, 102, 0)}
    assert painted[25, 20] and not painted[24, 20]  # i = -5 is in, -6 is not
    assert painted[30, 25] and not painted[30, 14] and painted[30, 15]  # j = 5 and -5 in, -6 out
    assert painted[34, 24] and not painted[35, 24] and painted[35, 23]  # 16+16 < 36, 25+16 >= 36, 25+9 < 36
    # a zero-length limb draws nothing, not even its discs
    assert not draw_openpose([person(body={2: (20, 30), 3: (20, 30)})], SIZE).any()


def test_a_stamp_that_touches_colour_averages_all_its_pixels():
    # Thumb segment 0-1 from (10, 10) to (12, 10): samples x = 10 and 12 (int(2) points), 2x2 brush, then
    # discs of offsets -1..1 around both ends. Worked by hand, stamp by stamp: the four brush stamps fall on
    # black and paint rows 9-10, columns 9-12; the disc stamps at j = +1 then hold a coloured pixel (x = 11),
    # so their black pixel at x = 13 becomes 204 // 2; row 11's stamps at j = -1 and 0 are black and paint.
    thumb = {0: (10, 10), 1: (12, 10), 2: (12, 10), 3: (12, 10), 4: (12, 10)}  # 1-2, 2-3, 3-4 zero length
    picture = draw_openpose([person(left=thumb)], SIZE)
    expected = np.zeros((64, 64, 3), np.uint8)
    expected[9:12, 9:13] = (204, 0, 0)
    expected[9:12, 13] = (102, 0, 0)
    assert np.array_equal(picture, expected)


def test_where_two_limbs_cross():
    # 2-3 horizontal through y = 30 ((153, 102, 0)), then 5-6 vertical through x = 30 ((51, 153, 0)).
    # Every stamp of 5-6 holds crossing pixels, so each averages: (30, 30) starts at 2-3's colour and is
    # averaged with (51, 153, 0) by the six stamps with j = 0 whose samples y = 33..28 exist:
    # R 153 -> 102 -> 76 -> 63 -> 57 -> 54 -> 52, G 102 -> 127 -> 140 -> 146 -> 149 -> 151 -> 152.
    body = {2: (20, 30), 3: (40, 30), 5: (30, 20), 6: (30, 40)}
    picture = draw_openpose([person(body=body)], SIZE)
    assert tuple(picture[30, 30]) == (52, 152, 0)
    # Far from the crossing the vertical limb is dimmed too: (37, 27) is reached by the j = -3 stamps of the
    # samples y = 40, 38, 37, 36, 35 (39 is not a sample) and by the end disc's (-3, -3) stamp at (40, 30):
    # six averages from black, R 0 -> 25 -> 38 -> 44 -> 47 -> 49 -> 50, G 0 -> 76 -> 114 -> 133 -> 143 -> 148 -> 150.
    assert tuple(picture[37, 27]) == (50, 150, 0)
    # alone, the same pixel has the plain colour
    alone = draw_openpose([person(body={5: (30, 20), 6: (30, 40)})], SIZE)
    assert tuple(alone[37, 27]) == (51, 153, 0)


def test_people_add_up_with_uint8_wrap_around():
    one = person(body={2: (20, 30), 3: (40, 30)})
    picture = draw_openpose([one, one], SIZE)
    assert tuple(picture[30, 30]) == ((2 * 153) % 256, (2 * 102) % 256, 0)  # (50, 204, 0)


def test_hands_and_face_present_unless_basic_point_only():
    thumb = {0: (10, 10), 1: (12, 10), 2: (12, 10), 3: (12, 10), 4: (12, 10)}
    brow = {17: (40, 40), 18: (42, 40), 19: (42, 40), 20: (42, 40), 21: (42, 40)}
    body = {1: (50, 10), 8: (50, 30)}  # neck to mid-hip, (153, 0, 0)
    full = draw_openpose([person(body=body, face=brow, right=thumb)], SIZE)
    assert tuple(full[10, 10]) == (204, 0, 0) and tuple(full[10, 13]) == (102, 0, 0)  # the right thumb
    assert tuple(full[40, 40]) == (255, 255, 255) and tuple(full[40, 43]) == (127, 127, 127)  # the eyebrow
    assert tuple(full[20, 50]) == (153, 0, 0)
    basic = draw_openpose([person(body=body, face=brow, right=thumb)], SIZE, basic_point_only=True)
    assert np.array_equal(basic, draw_openpose([person(body=body)], SIZE))  # the body alone
    assert np.array_equal(basic[:, 44:], full[:, 44:])


def test_validity_thresholds():
    brow = {17: (40, 40), 18: (42, 40), 19: (42, 40), 20: (42, 40), 21: (42, 40)}
    assert not draw_openpose([person(face=brow, confidence=0.1)], SIZE).any()  # face needs > 0.1
    assert draw_openpose([person(face=brow, confidence=0.11)], SIZE).any()
    thumb = {0: (10, 10), 1: (12, 10), 2: (12, 10), 3: (12, 10), 4: (12, 10)}
    assert not draw_openpose([person(left=thumb, confidence=0.01)], SIZE).any()  # hands and body need > 0.01
    assert draw_openpose([person(left=thumb, confidence=0.02)], SIZE).any()
    assert not draw_openpose([person(body={2: (20, 30), 3: (40, 30)}, confidence=0.01)], SIZE).any()
    # one weak point of a chain removes the whole chain (finger or face part)
    weak = person(left=thumb)
    weak.hand_left[3, 2] = 0.0
    assert not draw_openpose([weak], SIZE).any()
    # a segment with an end at x == 0 is not drawn (0 marks an undetected point)
    assert not draw_openpose([person(body={2: (0, 30), 3: (40, 30)})], SIZE).any()


def test_random_draws_come_in_the_official_order():
    one = person(body={2: (20, 30), 3: (40, 30)})
    # one uniform per body limb (24), per hand (2) and for the face (1), drawn or not
    np.random.seed(3)
    draw_openpose([one, one], SIZE, drop_prob=0.5)
    after = np.random.rand()
    np.random.seed(3)
    expected = np.random.rand(2 * 27 + 1)[-1]
    assert after == expected
    # with --remove_face_labels: 10 normals for the head points and 2 for the face shift come first
    np.random.seed(3)
    draw_openpose([one], SIZE, drop_prob=0.5, remove_face_labels=True, basic_point_only=True)
    after = np.random.rand()
    np.random.seed(3)
    np.random.randn(12)
    assert after == np.random.rand(21)[-1]  # 20 body limbs without the head, no hand or face draw
    # drop probability 1 removes everything; 0 keeps everything
    assert not draw_openpose([one], SIZE, drop_prob=1.0).any()
    assert draw_openpose([one], SIZE, drop_prob=0.0).any()


def test_remove_face_labels_moves_the_head_points():
    # The noise is added after the validity test, so undetected head points (0, 0) move off x = 0 and their
    # limbs get drawn near the corner (an official quirk kept on purpose).
    head = person(body={0: (30, 30), 1: (30, 50)})
    np.random.seed(0)
    picture = draw_openpose([head], SIZE, drop_prob=1e-9, remove_face_labels=True)
    np.random.seed(0)
    plain = draw_openpose([head], SIZE, drop_prob=1e-9)
    assert not np.array_equal(picture, plain)
    assert picture[:12, :12].any() and not plain[:12, :12].any()


def test_read_openpose_json(tmp_path):
    path = tmp_path / "000000_keypoints.json"
    entry = {"pose_keypoints_2d": [1.0] * 75, "face_keypoints_2d": [], "hand_left_keypoints_2d": [2.0] * 63,
             "hand_right_keypoints_2d": [0] * 63}
    path.write_text(json.dumps({"version": 1.3, "people": [entry, entry]}))
    people = read_openpose_json(str(path))
    assert len(people) == 2 and people[0].body.shape == (25, 3) and people[0].hand_left[20, 2] == 2.0
    assert not people[0].face.any() and people[0].face.shape == (70, 3)  # [] = not detected
    path.write_text(json.dumps({"people": []}))
    assert read_openpose_json(str(path)) == []
