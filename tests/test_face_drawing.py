"""Face keypoints and drawing on a hand-written face (data/face_keypoints.py, data/face_drawing.py): the 83
points, the crop box, the part labels at known pixels, a known sub-curve's pixels, the distance maps and
the --random_scale_points move, each against values worked out by hand from the official rules."""

from __future__ import annotations

import numpy as np
import pytest

from data.face_drawing import draw_edge, draw_face_edges, interp_points, part_label_map
from data.face_frames import crop
from data.face_keypoints import add_upper_face, face_crop_box, read_keypoints, scale_points

# A frontal face in a 200x200 frame: jaw 0-16 (a U from (40,100) to (160,100)), eyebrows 17-26, nose
# bridge 27-30, nose bottom 31-35 (a straight line at y = 122.5), eyes 36-47, mouth 48-59, inner mouth 60-67.
HAND_FACE = np.array([
    (40, 100), (41, 115), (44, 130), (50, 144), (58, 156), (68, 166), (79, 174), (90, 178), (100, 180),
    (110, 178), (121, 174), (132, 166), (142, 156), (150, 144), (156, 130), (159, 115), (160, 100),
    (55, 80), (62, 74), (70, 72), (78, 73), (85, 76), (115, 76), (122, 73), (130, 72), (138, 74), (145, 80),
    (100, 85), (100, 95), (100, 105), (100, 115),
    (88, 122.5), (94, 122.5), (100, 122.5), (106, 122.5), (112, 122.5),
    (62, 95), (68, 91), (76, 91), (82, 95), (76, 99), (68, 99),
    (118, 95), (124, 91), (132, 91), (138, 95), (132, 99), (124, 99),
    (80, 145), (88, 140), (95, 138), (100, 139), (105, 138), (112, 140), (120, 145), (112, 153), (105, 156),
    (100, 157), (95, 156), (88, 153),
    (86, 145), (95, 143), (100, 144), (105, 143), (114, 145), (105, 149), (100, 150), (95, 149),
], dtype=np.float64)


def write_keypoints(path, points) -> None:
    with open(path, "w") as f:
        f.write("\n".join(f"{x:g},{y:g}" for x, y in points) + "\n")


def test_read_keypoints(tmp_path):
    path = tmp_path / "ok.txt"
    write_keypoints(path, HAND_FACE)
    np.testing.assert_array_equal(read_keypoints(str(path)), HAND_FACE)


@pytest.mark.parametrize(("text", "message"), [
    ("\n".join(["1,2"] * 67), r"short\.txt holds 67 rows of x,y, expected the 68 points"),
    ("\n".join(["1,2"] * 2 + ["a,b"] + ["1,2"] * 65), r"short\.txt: row 3 holds 'a,b', expected two comma"),
    ("\n".join(["1 2"] * 68), r"short\.txt: row 1 holds '1 2'"),
    ("\n".join(["1,2"] * 67 + ["nan,2"]), r"short\.txt holds a value that is not a finite number"),
])
def test_bad_keypoint_files_name_the_file_and_what_it_held(tmp_path, text, message):
    path = tmp_path / "short.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_keypoints(str(path))


def test_the_83_points():
    points = add_upper_face(HAND_FACE)
    assert points.shape == (83, 2)
    np.testing.assert_array_equal(points[:68], HAND_FACE)
    # baseline b = (100 + 100) / 2; y' = b + floor(2 (b - y) / 3), in reverse order from jaw point 15
    assert points[68].tolist() == [159, 90]  # jaw 15 (159, 115): 100 + floor(-10)
    assert points[69].tolist() == [156, 80]  # jaw 14 (156, 130): 100 + floor(-20)
    assert points[75].tolist() == [100, 46]  # jaw 8 (100, 180): 100 + floor(-53.3)
    assert points[82].tolist() == [41, 90]  # jaw 1


def test_upper_face_truncates_like_the_official_int_arrays():
    face = HAND_FACE.copy()
    face[0, 1], face[16, 1], face[1] = 100, 101, (41.7, 150)  # b = 100.5; x and y truncated
    # y' = 100.5 + floor(2 * (100.5 - 150) / 3) = 100.5 - 33 = 67.5 -> 67
    assert add_upper_face(face)[82].tolist() == [41, 67]


@pytest.mark.parametrize(("points", "size", "box"), [
    # width 40 -> side 100; centre x (40 + 80) // 2 = 60, y (3 * 50 + 110) // 4 = 65
    (((40, 50), (80, 110)), (400, 300), (10, 15, 110, 115)),
    (((350, 50), (390, 110)), (400, 300), (300, 15, 400, 115)),  # shifted left to fit the frame
    (((5, 5), (45, 60)), (400, 300), (0, 0, 100, 100)),  # shifted right and down
    (((20, 30), (80, 90)), (100, 100), (-50, -50, 100, 100)),  # side 150 > 100: leaves the frame
])
def test_crop_box(points, size, box):
    keypoints = np.array(points * 34, dtype=np.float64)  # 68 points with those extremes
    assert face_crop_box(keypoints, size) == box


def test_crop_pads_maps_outside_the_frame_and_slices_inside():
    array = np.arange(1, 101, dtype=np.uint8).reshape(10, 10)
    np.testing.assert_array_equal(np.array(crop(array, (2, 3, 7, 9))), array[3:9, 2:7])
    padded = np.array(crop(array, (-2, -1, 8, 9)))
    assert padded.shape == (10, 10)
    assert (padded[0] == 0).all() and (padded[:, :2] == 0).all()
    np.testing.assert_array_equal(padded[1:, 2:], array[:9, :8])


def test_part_labels_at_known_pixels():
    labels = part_label_map(add_upper_face(HAND_FACE), (200, 200))
    assert labels.shape == (200, 200) and labels.dtype == np.uint8
    expected = {(10, 10): 0, (60, 130): 1, (100, 60): 1, (70, 75): 2, (130, 75): 2, (100, 115): 3,
                (72, 95): 4, (128, 95): 4, (100, 154): 5, (100, 146): 6}
    assert {xy: int(labels[xy[1], xy[0]]) for xy in expected} == expected
    assert set(np.unique(labels)) == set(range(7))


def test_a_known_sub_curve():
    # the parabola through (10, 10.5), (20, 12.5), (30, 10.5) is y = 12.5 - 0.02 (x - 20)^2, sampled at
    # int(30 - 10) = 20 points x = 10 + 20 k / 19, then truncated
    xs, ys = interp_points(np.array([10.0, 20, 30]), np.array([10.5, 12.5, 10.5]))
    assert xs.tolist() == list(range(10, 29)) + [30]
    assert ys.tolist() == [10, 10, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 11, 11, 11, 10, 10]
    # a steeper run in y than in x fits x(y) instead: the same curve turned by 90 degrees
    turned = interp_points(np.array([10.5, 12.5, 10.5]), np.array([10.0, 20, 30]))
    assert turned[0].tolist() == ys.tolist() and turned[1].tolist() == xs.tolist()
    # a line through 2 points; |a| > 1 drops a parabola; end points sharing x draw nothing
    assert [v.tolist() for v in interp_points(np.array([0.0, 4]), np.array([0.5, 2.5]))] == [[0, 1, 2, 4],
                                                                                           [0, 1, 1, 2]]
    assert interp_points(np.array([0.0, 0.5, 1]), np.array([0.0, 0.4, 0])) is None
    assert interp_points(np.array([3.0, 3.0]), np.array([1.0, 1.4])) is None


def test_stamp_is_2x2_up_and_left_and_clamped():
    image = np.zeros((5, 6), np.uint8)
    draw_edge(image, np.array([3, 0]), np.array([2, 4]))
    assert sorted(zip(*np.nonzero(image))) == [(1, 2), (1, 3), (2, 2), (2, 3), (3, 0), (4, 0)]


def test_edges_and_distance_maps():
    edges, maps = draw_face_edges(add_upper_face(HAND_FACE), (200, 200), distance_maps=True)
    assert len(maps) == 14 and all(m.shape == (200, 200) and m.dtype == np.uint8 for m in maps)
    # the straight nose bottom (edge 5 of 14, y = 122.5) is stamped on rows 121 and 122 from x = 87 to 111
    nose = maps[4]
    assert (edges[121:123, 87:112] == 255).all() and (nose[121:123, 87:112] == 0).all()
    # clip(L1 distance / 3): 0 up to 2 pixels away, 1 at 3, 10 at 30
    assert nose[124, 100] == 0 and nose[125, 100] == 1 and nose[118, 100] == 1 and nose[152, 100] == 10
    # each map sees its own edge only: the face contour's is far from the nose bottom
    assert all((m == 0).any() for m in maps) and maps[0][122, 100] > 10
    _, none = draw_face_edges(add_upper_face(HAND_FACE), (200, 200), distance_maps=False)
    assert none == []


def test_random_scale_points_moves_the_eyes_edge_after_edge():
    moved = scale_points(add_upper_face(HAND_FACE))
    # eyes: the pair's centre is (100, 95); edge [36..39] (mean x 72) moves to 100 + 0.9 (72 - 100) = 74.8,
    # +2.8; edge [39, 40, 41, 36] then starts from the moved 36 and 39 (mean x 73.4 -> 76.06, +2.66); then the
    # eye is scaled by (1, 1.1) about its mean (y 95)
    np.testing.assert_allclose(moved[37], [68 + 2.8, 95 + (91 - 95) * 1.1])
    np.testing.assert_allclose(moved[36], [62 + 2.8 + 2.66, 95])
    np.testing.assert_allclose(moved[40], [76 + 2.66, 95 + (99 - 95) * 1.1])
    # nose, (0.9, 1) about its mean x, which counts 28, 31 and 35 twice: 900 / 9 = 100
    np.testing.assert_allclose(moved[31], [100 + (88 - 100) * 0.9, 122.5])
    # mouth, (0.9, 0.9) about its mean (48 and 54 counted twice)
    mouth = [*range(48, 55), 54, 55, 56, 57, 58, 59, 48]
    centre = HAND_FACE[mouth].mean(axis=0)
    np.testing.assert_allclose(moved[57], (HAND_FACE[57] - centre) * 0.9 + centre)
