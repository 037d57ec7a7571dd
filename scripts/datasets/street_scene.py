"""The world of the synthetic street videos, and its random sampling (no pixels are drawn here).

A street is a straight road with lane lines, sidewalks, a row of building facades and trees on each side,
poles with traffic signs, and cars driving in the lanes at their own speeds (the leftmost lane is oncoming
traffic), seen by a pinhole camera driving forward along +Z. This module holds the Cityscapes label ids
of those classes, the scene geometry, the pinhole camera, the dataclasses describing one video's street,
and the `_sample_*` functions that draw them from a numpy random generator. Everything is deterministic
given that generator. `street_render.py` turns a sampled street into frames; `synthetic_street.py` is the
public interface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Cityscapes label ids (the 35-class `label_nc 35` encoding of the official street models).
ROAD = 7
SIDEWALK = 8
BUILDING = 11
POLE = 17
TRAFFIC_SIGN = 20
VEGETATION = 21
SKY = 23
CAR = 26
LABEL_IDS = (ROAD, SIDEWALK, BUILDING, POLE, TRAFFIC_SIGN, VEGETATION, SKY, CAR)

# Instance value of the first car of a video; stuff pixels hold their label id, which is always smaller.
CAR_INSTANCE_BASE = 100

# Scene geometry in metres; one frame advances the camera by `camera_speed` metres.
CAMERA_HEIGHT = 1.5
NEAR = 0.3  # nearest depth drawn: closer surfaces would be behind the lens
HAZE_DISTANCE = 350.0
FOCAL_PER_WIDTH = 0.85  # focal length in pixels per pixel of image width (about 60 degrees of view)
HORIZON_PER_HEIGHT = 0.45  # image row of the horizon, as a fraction of the height

# Palettes the colours of a street are drawn from.
BUILDING_COLOURS = np.array(
    [(185, 165, 140), (150, 150, 155), (165, 95, 80), (205, 195, 165), (120, 130, 150), (210, 200, 185)],
    dtype=np.float32,
)
CAR_COLOURS = np.array(
    [(235, 235, 235), (180, 182, 188), (35, 35, 40), (175, 30, 30), (30, 60, 150), (40, 95, 60),
     (225, 180, 40)],
    dtype=np.float32,
)
SIGN_COLOURS = np.array([(30, 80, 170), (200, 40, 40), (230, 200, 40)], dtype=np.float32)


@dataclass(frozen=True)
class _Camera:
    """A pinhole camera; `u`, `v` are the ray slopes X/Z and (Y - CAMERA_HEIGHT)/Z of each pixel centre."""

    width: int
    height: int
    focal: float
    cx: int
    cy: int
    u: np.ndarray  # (H, W)
    v: np.ndarray  # (H, W)

    @classmethod
    def create(cls, width: int, height: int) -> _Camera:
        """The camera of a `width` x `height` image, its field of view fixed by FOCAL_PER_WIDTH."""
        # Integer principal point: pixel centres sit at half-integers, so no ray has u = 0 or v = 0.
        focal = FOCAL_PER_WIDTH * width
        cx, cy = width // 2, int(round(HORIZON_PER_HEIGHT * height))
        u = (np.arange(width) + 0.5 - cx) / focal
        v = (cy - (np.arange(height) + 0.5)) / focal
        u, v = np.meshgrid(u, v)
        return cls(width, height, focal, cx, cy, u, v)


@dataclass(frozen=True)
class _Facades:
    """The segments, sorted along Z, of buildings and trees standing on one side of the street."""

    start: np.ndarray  # (N,) world Z where each segment begins
    is_tree: np.ndarray  # (N,) bool: vegetation, else building
    top: np.ndarray  # (N,) height in metres (of the flat roof, or of the lowest crown dip)
    colour: np.ndarray  # (N, 3) wall or foliage colour
    window_colour: np.ndarray  # (N, 3)
    window_pitch: np.ndarray  # (N,) horizontal window spacing
    floor_height: np.ndarray  # (N,)
    crown: np.ndarray  # (N,) length of one tree crown
    bump: np.ndarray  # (N,) height of the crowns above `top`
    brightness: float  # sunlit or shadowed side of the street

    def segment(self, z: np.ndarray) -> np.ndarray:
        """Index of the segment holding each world Z."""
        return np.clip(np.searchsorted(self.start, z, side="right") - 1, 0, len(self.start) - 1)


@dataclass(frozen=True)
class _Cars:
    """Cars, one entry each; car k drives at `speed[k]` metres per frame along +Z (negative: oncoming)."""

    x: np.ndarray  # (N,) lateral centre
    z: np.ndarray  # (N,) world Z of the end nearer the camera, at frame 0
    speed: np.ndarray  # (N,)
    length: np.ndarray  # (N,)
    width: np.ndarray  # (N,)
    colour: np.ndarray  # (N, 3)
    oncoming: np.ndarray  # (N,) bool: shows its front (headlights) to the camera


@dataclass(frozen=True)
class _Poles:
    """Street poles on the sidewalks, some carrying a traffic sign facing the camera."""

    x: np.ndarray  # (N,)
    z: np.ndarray  # (N,)
    top: np.ndarray  # (N,)
    has_sign: np.ndarray  # (N,) bool
    sign_colour: np.ndarray  # (N, 3)


@dataclass(frozen=True)
class _Street:
    """Everything that stays fixed during one video."""

    camera_speed: float
    road_left: float
    road_right: float
    lane_lines: np.ndarray  # X of the dashed lines between lanes
    walls: tuple[_Facades, _Facades]  # left, right
    wall_x: tuple[float, float]
    cars: _Cars
    poles: _Poles
    road_colour: np.ndarray
    sidewalk_colour: np.ndarray
    sky_horizon: np.ndarray
    sky_zenith: np.ndarray


def _jitter(rng: np.random.Generator, colour: np.ndarray, amount: float) -> np.ndarray:
    """`colour` with each channel moved by up to +-amount."""
    return np.clip(colour + rng.uniform(-amount, amount, size=colour.shape), 0, 255).astype(np.float32)


def _sample_facades(rng: np.random.Generator, z_end: float, tree_share: float,
                    brightness: float) -> _Facades:
    """Buildings and trees of random lengths covering world Z from behind the camera to `z_end`."""
    # Segments are at least 8 m long, so this many always reach z_end; the surplus is dropped.
    lengths = rng.uniform(8.0, 24.0, int((z_end + 20.0) / 8.0) + 1)
    start = -20.0 + np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    start = start[start < z_end]
    n = len(start)
    is_tree = rng.random(n) < tree_share
    foliage = np.stack([rng.uniform(45, 80, n), rng.uniform(95, 135, n), rng.uniform(25, 50, n)], axis=1)
    walls = _jitter(rng, BUILDING_COLOURS[rng.integers(0, len(BUILDING_COLOURS), n)], 15)
    return _Facades(
        start=start,
        is_tree=is_tree,
        top=np.where(is_tree, rng.uniform(3.0, 6.0, n), rng.uniform(7.0, 22.0, n)),
        colour=np.where(is_tree[:, None], foliage, walls).astype(np.float32),
        window_colour=np.stack([rng.uniform(35, 60, n)] * 2 + [rng.uniform(60, 85, n)], axis=1),
        window_pitch=rng.uniform(2.5, 4.0, n),
        floor_height=rng.uniform(2.8, 3.5, n),
        crown=rng.uniform(3.0, 6.0, n),
        bump=rng.uniform(0.5, 2.0, n),
        brightness=brightness,
    )


def _lane_traffic(rng: np.random.Generator, lane: int, leftmost: int, camera_speed: float,
                  n_frames: int) -> tuple[float, float, int]:
    """(speed, nearest start Z, car count) of one lane; lane 0 is the camera's, `leftmost` is oncoming."""
    if lane == leftmost:
        return -rng.uniform(0.4, 1.0), rng.uniform(8.0, 20.0), int(rng.integers(1, 4))
    if lane == 0:
        # A car ahead in our lane never falls behind more than ~1 m over the video, so it stays in view.
        return camera_speed * rng.uniform(0.97, 1.2), rng.uniform(9.0, 20.0), int(rng.integers(0, 2))
    parked = lane > 0 and rng.random() < 0.35
    speed = 0.0 if parked else camera_speed * rng.uniform(0.5, 1.5)
    # Faster cars start further behind, so that they overtake the camera during the video.
    start = rng.uniform(-6.0, 10.0) - max(0.0, speed - camera_speed) * (n_frames - 1) * 0.5
    return speed, start, int(rng.integers(1, 4))


def _sample_cars(rng: np.random.Generator, lane_width: float, n_left: int, n_right: int,
                 camera_speed: float, n_frames: int) -> _Cars:
    """A few cars per lane, spaced out; cars of one lane share its speed so they never collide."""
    rows = []
    for lane in range(-n_left, n_right + 1):
        speed, z, count = _lane_traffic(rng, lane, -n_left, camera_speed, n_frames)
        for _ in range(count):
            length = rng.uniform(3.8, 4.6)
            x = lane * lane_width + rng.uniform(-0.25, 0.25)
            rows.append((x, z, speed, length, rng.uniform(1.7, 1.9), lane == -n_left))
            z += length + rng.uniform(5.0, 20.0)
    if len(rows) > 255 - CAR_INSTANCE_BASE:
        raise ValueError(f"{len(rows)} cars do not fit in 8-bit instance values")
    table = np.array(rows, dtype=np.float64).reshape(-1, 6)
    colours = _jitter(rng, CAR_COLOURS[rng.integers(0, len(CAR_COLOURS), len(rows))], 10)
    return _Cars(*table[:, :5].T, colour=colours, oncoming=table[:, 5].astype(bool))


def _sample_poles(rng: np.random.Generator, road_left: float, road_right: float, z_end: float) -> _Poles:
    """Poles every 15-35 m on a random side of the street, each with a sign or not."""
    z = np.cumsum(rng.uniform(15.0, 35.0, int(z_end // 15) + 1))
    z = z[z < z_end]
    n = len(z)
    on_left = rng.random(n) < 0.5
    return _Poles(
        x=np.where(on_left, road_left - 0.6, road_right + 0.6),
        z=z,
        top=rng.uniform(3.5, 5.5, n),
        has_sign=rng.random(n) < 0.5,
        sign_colour=SIGN_COLOURS[rng.integers(0, len(SIGN_COLOURS), n)],
    )


def _sample_street(rng: np.random.Generator, n_frames: int, camera: _Camera) -> _Street:
    """Draws the street layout, colours and traffic of one video."""
    camera_speed = rng.uniform(0.5, 1.0)
    lane_width = rng.uniform(3.0, 3.6)
    n_left, n_right = int(rng.integers(1, 3)), int(rng.integers(0, 2))
    road_left, road_right = -lane_width * (n_left + 0.5), lane_width * (n_right + 0.5)
    wall_x = (road_left - rng.uniform(2.0, 4.0), road_right + rng.uniform(2.0, 4.0))
    # The facades must reach as far as the most central pixel column can see them.
    travel = camera_speed * (n_frames - 1)
    z_end = travel + max(-wall_x[0], wall_x[1]) * 2 * camera.focal + 1.0
    tree_share = rng.uniform(0.15, 0.5)
    shaded = rng.uniform(0.7, 0.85)
    sunny_left = rng.random() < 0.5
    walls = (
        _sample_facades(rng, z_end, tree_share, 1.0 if sunny_left else shaded),
        _sample_facades(rng, z_end, tree_share, shaded if sunny_left else 1.0),
    )
    gray = rng.uniform(85, 115)
    paving = rng.uniform(150, 175)
    return _Street(
        camera_speed=camera_speed,
        road_left=road_left,
        road_right=road_right,
        lane_lines=road_left + lane_width * np.arange(1, n_left + n_right + 1),
        walls=walls,
        wall_x=wall_x,
        cars=_sample_cars(rng, lane_width, n_left, n_right, camera_speed, n_frames),
        poles=_sample_poles(rng, road_left, road_right, travel + 200.0),
        road_colour=np.array([gray, gray + rng.uniform(-3, 3), gray + rng.uniform(0, 6)], dtype=np.float32),
        sidewalk_colour=np.array([paving + 6, paving + 2, paving - 4], dtype=np.float32),
        sky_horizon=np.array([rng.uniform(185, 215), rng.uniform(205, 225), rng.uniform(228, 245)],
                             dtype=np.float32),
        sky_zenith=np.array([rng.uniform(60, 100), rng.uniform(120, 150), rng.uniform(190, 230)],
                            dtype=np.float32),
    )
