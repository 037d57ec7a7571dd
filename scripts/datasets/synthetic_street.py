"""A synthetic street-scene video dataset in the Cityscapes layout used by vid2vid.

Each video is a camera driving forward along a straight street: a road with lane markings, sidewalks,
a row of building facades and trees on both sides, poles with traffic signs, and cars driving in the
lanes at their own speeds (the leftmost lane is oncoming traffic). Everything is deterministic given the
random generator passed in, so a seed fixes the whole dataset.

The scene is ray-cast per pixel with numpy: a pinhole camera at `CAMERA_HEIGHT` looks down +Z, the ground
is the plane Y = 0, the facades are the planes X = wall_left and X = wall_right, and cars, poles and
signs are unions of axis-aligned boxes. Textures (windows, lane dashes, sidewalk slabs, foliage) are
functions of world coordinates, so they move with their surfaces and the optical flow between frames is
that of a real 3-D scene: facades scroll outwards with parallax, road dashes come towards the camera,
cars move at their own speeds. Colours are a simple function of the label and of the world position
(plus distance shading, haze and a shadow under each car), so a small model can learn them.

On-disk layout (as the official `temporal` dataset mode reads it), for phase in {train, test}:
    <root>/<phase>_A/seq_000/frame_0000.png     8-bit grayscale, Cityscapes label ids
    <root>/<phase>_B/seq_000/frame_0000.png     RGB frame
    <root>/<phase>_inst/seq_000/frame_0000.png  8-bit grayscale instance map
    <root>/synthetic_street.json                the generation parameters (written last)

Instance encoding: vid2vid reads the instance map with a NEAREST transform and only uses the inequality
of neighbouring values (to draw an edge map), so it is stored in 8 bits: every pixel of a stuff class
holds its label id (< 34), and the pixels of car number k of a video hold `CAR_INSTANCE_BASE + k`
(100, 101, ...). A car keeps its value in every frame of its video.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

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

MANIFEST_NAME = "synthetic_street.json"
# Bumped whenever the renderer changes, so that a stale dataset on disk is regenerated.
GENERATOR_VERSION = 1
PHASES = ("train", "test")
KINDS = ("A", "B", "inst")

# Scene geometry in metres; one frame advances the camera by `camera_speed` metres.
CAMERA_HEIGHT = 1.5
NEAR = 0.3  # nearest depth drawn: closer surfaces would be behind the lens
HAZE_DISTANCE = 350.0
FOCAL_PER_WIDTH = 0.85  # focal length in pixels per pixel of image width (about 60 degrees of view)
HORIZON_PER_HEIGHT = 0.45  # image row of the horizon, as a fraction of the height

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
GLASS = np.array((40, 50, 65), dtype=np.float32)
TYRE = np.array((25, 25, 28), dtype=np.float32)
POLE_GRAY = np.array((125, 125, 130), dtype=np.float32)
WHITE = np.array((230, 230, 230), dtype=np.float32)


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


@dataclass
class _Canvas:
    """One frame being drawn, with a depth buffer so that nearer surfaces win."""

    labels: np.ndarray  # (H, W) uint8
    instances: np.ndarray  # (H, W) uint8
    rgb: np.ndarray  # (H, W, 3) float32
    depth: np.ndarray  # (H, W) float, inf for the sky

    def paint(self, region: tuple[slice, slice], mask: np.ndarray, depth: np.ndarray, rgb: np.ndarray,
              label: int, instance: int) -> None:
        """Draws the `mask` pixels of `region` that are nearer than what is already there."""
        visible = mask & (depth < self.depth[region])
        self.depth[region][visible] = depth[visible]
        self.rgb[region][visible] = rgb[visible]
        self.labels[region][visible] = label
        self.instances[region][visible] = instance

    def put_stuff(self, pixels: np.ndarray, labels: np.ndarray, rgb: np.ndarray, depth: np.ndarray) -> None:
        """Overwrites flat `pixels` with stuff surfaces, whose instance value is their label."""
        self.labels.reshape(-1)[pixels] = labels
        self.instances.reshape(-1)[pixels] = labels
        self.rgb.reshape(-1, 3)[pixels] = rgb
        self.depth.reshape(-1)[pixels] = depth


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


@dataclass(frozen=True)
class _Background:
    """Where each pixel's ray meets the ground or a facade; the same in every frame of a video.

    The camera only translates along Z, so each ray hits the same surface at the same depth in every
    frame; only the world Z of the hit, and so the texture there, changes.
    """

    ground: np.ndarray  # flat pixel indices whose ray meets the ground first
    ground_x: np.ndarray
    ground_t: np.ndarray  # depth of the hit
    walls: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]  # per side: (pixels, depth, height Y)
    sky: np.ndarray  # (H*W, 3) the sky gradient

    @classmethod
    def create(cls, camera: _Camera, street: _Street) -> _Background:
        """Intersects every pixel's ray with the ground and the facade planes of `street`."""
        u, v = camera.u.ravel(), camera.v.ravel()
        with np.errstate(divide="ignore"):
            t_ground = np.where(v < 0, CAMERA_HEIGHT / -v, np.inf)
        t_wall = np.where(u < 0, street.wall_x[0], street.wall_x[1]) / u
        on_ground = t_ground < t_wall
        ground = np.flatnonzero(on_ground)
        walls = []
        for side in (u < 0, u > 0):
            pixels = np.flatnonzero(side & ~on_ground)
            walls.append((pixels, t_wall[pixels], CAMERA_HEIGHT + v[pixels] * t_wall[pixels]))
        # Sky: pale at the horizon, deeper blue towards the top of the image.
        up = np.clip((camera.cy - np.arange(camera.height)) / max(camera.cy, 1), 0.0, 1.0) ** 0.7
        rows = street.sky_horizon + up[:, None] * (street.sky_zenith - street.sky_horizon)
        sky = np.repeat(rows, camera.width, axis=0).astype(np.float32)
        return cls(ground, u[ground] * t_ground[ground], t_ground[ground], tuple(walls), sky)


def _ground_colours(street: _Street, x: np.ndarray, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """Labels and colours of ground points at lateral `x`, world `z`, depth `t`."""
    on_road = (x >= street.road_left) & (x <= street.road_right)
    # Lines 0.2 m wide: dashes 4 m long every 10 m between lanes, solid lines 0.3 m inside the road edges.
    line_gap = np.min(np.abs(x[:, None] - street.lane_lines[None, :]), axis=1, initial=np.inf)
    dash = (line_gap < 0.1) & (np.mod(z, 10.0) < 4.0)
    edge = (np.abs(x - street.road_left - 0.3) < 0.1) | (np.abs(street.road_right - 0.3 - x) < 0.1)
    paint = on_road & (dash | edge)
    # Sidewalk slabs alternate in brightness every 1.5 m; the curb next to the road is lighter.
    slab = np.where(np.mod(np.floor(z / 1.5), 2) == 0, 8.0, -8.0)
    from_road = np.where(x < street.road_left, street.road_left - x, x - street.road_right)
    curb = ~on_road & (from_road < 0.25)
    sidewalk = street.sidewalk_colour[None, :] + np.where(curb, 30.0, slab)[:, None]
    rgb = np.where(on_road[:, None], street.road_colour[None, :], sidewalk)
    rgb = np.where(paint[:, None], WHITE[None, :], rgb)
    # Ground far away is darker, which also gives the model a cue of depth.
    rgb = rgb * (0.65 + 0.35 * np.exp(-t / 40.0))[:, None]
    return np.where(on_road, ROAD, SIDEWALK).astype(np.uint8), rgb


def _wall_colours(facades: _Facades, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """(covered, labels, colours) of facade-plane points at world `z`, height `y`; uncovered means sky."""
    i = facades.segment(z)
    s = z - facades.start[i]
    tree = facades.is_tree[i]
    top = facades.top[i] + np.where(tree, facades.bump[i] * np.abs(np.sin(np.pi * s / facades.crown[i])), 0)
    covered = y < top
    # Windows sit on a grid in facade coordinates, so they scroll with the wall.
    across = np.mod(s, facades.window_pitch[i]) / facades.window_pitch[i]
    storey = np.mod(y, facades.floor_height[i])
    window = (across > 0.35) & (across < 0.8) & (storey > 0.9) & (storey < 2.1) & (y < top - 0.8)
    wall = np.where(window[:, None], facades.window_colour[i], facades.colour[i])
    # A dark joint marks where one building ends and the next begins; walls darken towards the street.
    wall = wall * np.where(s < 0.35, 0.7, 1.0)[:, None] * (0.85 + 0.15 * np.minimum(y / 10.0, 1.0))[:, None]
    # Blotchy foliage, anchored to the world so that it moves with the trees.
    blotches = np.sin(2.1 * z + 1.3 * y) * np.sin(1.7 * y - 0.8 * z)
    leaves = facades.colour[i] * (0.85 + 0.15 * blotches)[:, None]
    rgb = np.where(tree[:, None], leaves, wall) * facades.brightness
    return covered, np.where(tree, VEGETATION, BUILDING).astype(np.uint8), rgb


def _draw_background(canvas: _Canvas, background: _Background, street: _Street, camera_z: float) -> None:
    """Sky, then ground and facades (which never overlap, so no depth test is needed)."""
    canvas.labels[:] = SKY
    canvas.instances[:] = SKY
    canvas.rgb.reshape(-1, 3)[:] = background.sky
    ground_labels, ground_rgb = _ground_colours(
        street, background.ground_x, camera_z + background.ground_t, background.ground_t)
    canvas.put_stuff(background.ground, ground_labels, ground_rgb, background.ground_t)
    for facades, (pixels, t, y) in zip(street.walls, background.walls):
        covered, wall_labels, wall_rgb = _wall_colours(facades, camera_z + t, y)
        canvas.put_stuff(pixels[covered], wall_labels[covered], wall_rgb[covered], t[covered])


def _project_region(camera: _Camera, boxes: np.ndarray) -> tuple[slice, slice] | None:
    """The image rectangle covering `boxes` ((K, 6): x0, x1, y0, y1, z0, z1 relative to the camera)."""
    boxes = boxes[boxes[:, 5] > NEAR]
    if len(boxes) == 0:
        return None
    x = boxes[:, [0, 1]][:, :, None, None]
    y = boxes[:, [2, 3]][:, None, :, None] - CAMERA_HEIGHT
    z = np.maximum(boxes[:, [4, 5]], NEAR)[:, None, None, :]
    px = camera.cx + camera.focal * x / z - 0.5
    py = camera.cy - camera.focal * y / z - 0.5
    x0, x1 = max(0, int(np.floor(px.min()))), min(camera.width, int(np.ceil(px.max())) + 1)
    y0, y1 = max(0, int(np.floor(py.min()))), min(camera.height, int(np.ceil(py.max())) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1)


def _cast_boxes(u: np.ndarray, v: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Nearest hit of each ray with a union of boxes (slab method).

    Args:
        u, v: (h, w) ray slopes; a ray is the points (u t, CAMERA_HEIGHT + v t, t) for depth t.
        boxes: (K, 6) x0, x1, y0, y1, z0, z1 relative to the camera.
    Returns:
        depth (h, w), inf where nothing is hit; index of the hit box (h, w); axis of the face hit
        (h, w): 0 a side face, 1 a top or bottom, 2 a face towards the camera.
    """
    b = boxes[:, :, None, None]
    tx = np.stack([b[:, 0] / u, b[:, 1] / u])
    ty = np.stack([(b[:, 2] - CAMERA_HEIGHT) / v, (b[:, 3] - CAMERA_HEIGHT) / v])
    tz = np.broadcast_to(np.stack([b[:, 4], b[:, 5]]), tx.shape)
    lows = np.stack([tx.min(0), ty.min(0), tz.min(0)])  # (3, K, h, w)
    near = lows.max(0)
    far = np.minimum(np.minimum(tx.max(0), ty.max(0)), tz.max(0))
    near = np.where((near <= far) & (near > NEAR), near, np.inf)
    box = near.argmin(0)
    depth = np.take_along_axis(near, box[None], 0)[0]
    axis = np.take_along_axis(lows.argmax(0), box[None], 0)[0]
    return depth, box, axis


def _car_boxes(cars: _Cars, k: int, z: float) -> np.ndarray:
    """Body, cabin and four wheels of car k whose camera-side end is at relative depth `z`."""
    x, half, length = cars.x[k], cars.width[k] / 2, cars.length[k]
    # The hood is longer than the trunk, so the cabin sits further back on a car that faces us.
    near_gap, far_gap = (1.1, 0.9) if cars.oncoming[k] else (0.9, 1.1)
    boxes = [
        (x - half, x + half, 0.3, 1.0, z, z + length),
        (x - half + 0.12, x + half - 0.12, 1.0, 1.45, z + near_gap, z + length - far_gap),
    ]
    for x0, x1 in ((x - half + 0.02, x - half + 0.3), (x + half - 0.3, x + half - 0.02)):
        for z0, z1 in ((z + 0.45, z + 1.1), (z + length - 1.1, z + length - 0.45)):
            boxes.append((x0, x1, 0.0, 0.35, z0, z1))
    return np.array(boxes)


def _car_colours(cars: _Cars, k: int, box: np.ndarray, axis: np.ndarray, x: np.ndarray,
                 y: np.ndarray) -> np.ndarray:
    """Colours of the hits on car k: body paint, glass, tyres and lights, shaded by face direction."""
    paint = cars.colour[k]
    rgb = np.broadcast_to(paint, box.shape + (3,)).copy()
    glass = (box == 1) & (axis != 1) & (y < 1.38)
    # Two lamps at the outer corners of the face towards the camera: tail lights, or headlights if oncoming.
    corner = np.abs(x - cars.x[k]) > cars.width[k] / 2 - 0.38
    lamp = (box == 0) & (axis == 2) & (y > 0.72) & (y < 0.9) & corner
    lamp_colour = (235, 230, 190) if cars.oncoming[k] else (200, 30, 30)
    rgb[glass] = GLASS
    rgb[lamp] = lamp_colour
    rgb[box >= 2] = TYRE
    return rgb * np.array([0.75, 1.08, 0.92], dtype=np.float32)[axis][..., None]


def _car_depths(street: _Street, frame: int) -> np.ndarray:
    """Depth of the camera-side end of every car, relative to the camera, at `frame`."""
    cars = street.cars
    return cars.z + (cars.speed - street.camera_speed) * frame


def _draw_shadows(canvas: _Canvas, background: _Background, street: _Street, frame: int) -> None:
    """Darkens the ground under each car (a rectangle slightly larger than its footprint).

    Drawn on the bare ground before any car, so that a shadow never darkens a car; the ground keeps its label.
    """
    cars = street.cars
    rgb = canvas.rgb.reshape(-1, 3)
    for k, z in enumerate(_car_depths(street, frame)):
        under = ((np.abs(background.ground_x - cars.x[k]) < cars.width[k] / 2 + 0.25)
                 & (background.ground_t > z - 0.3) & (background.ground_t < z + cars.length[k] + 0.3))
        rgb[background.ground[under]] *= 0.5


def _draw_cars(canvas: _Canvas, camera: _Camera, street: _Street, frame: int) -> None:
    """Cars, each ray-cast as six boxes inside its own image rectangle."""
    cars = street.cars
    for k, z in enumerate(_car_depths(street, frame)):
        boxes = _car_boxes(cars, k, z)
        region = _project_region(camera, boxes)
        if region is None:
            continue
        u, v = camera.u[region], camera.v[region]
        depth, box, axis = _cast_boxes(u, v, boxes)
        rgb = _car_colours(cars, k, box, axis, u * depth, CAMERA_HEIGHT + v * depth)
        canvas.paint(region, np.isfinite(depth), depth, rgb, CAR, CAR_INSTANCE_BASE + k)


def _draw_poles(canvas: _Canvas, camera: _Camera, street: _Street, camera_z: float) -> None:
    """Poles, and the signs on them."""
    poles = street.poles
    for k in range(len(poles.x)):
        z = poles.z[k] - camera_z
        if z < NEAR:
            continue
        # Thicken distant poles to at least ~1.4 px, so that they do not flicker in and out of view.
        r = max(0.1, 0.7 * z / camera.focal)
        x, top = poles.x[k], poles.top[k]
        boxes = np.array([(x - r, x + r, 0.0, top, z - r, z + r)])
        if poles.has_sign[k]:
            boxes = np.vstack([boxes, (x - 0.4, x + 0.4, top - 1.0, top - 0.2, z - r - 0.05, z - r)])
        region = _project_region(camera, boxes)
        if region is None:
            continue
        u, v = camera.u[region], camera.v[region]
        depth, box, axis = _cast_boxes(u, v, boxes)
        hit = np.isfinite(depth)
        shade = np.array([0.8, 1.0, 1.0], dtype=np.float32)[axis][..., None]
        canvas.paint(region, hit & (box == 0), depth, POLE_GRAY * shade, POLE, POLE)
        # A white rim around the coloured face of the sign.
        local_x, local_y = u * depth - x, CAMERA_HEIGHT + v * depth - (top - 0.6)
        rim = (np.abs(local_x) > 0.32) | (np.abs(local_y) > 0.32)
        sign = np.where(rim[..., None], WHITE, poles.sign_colour[k]) * shade
        canvas.paint(region, hit & (box == 1), depth, sign, TRAFFIC_SIGN, TRAFFIC_SIGN)


def _add_haze(canvas: _Canvas, street: _Street) -> None:
    """Fades distant surfaces towards the colour of the sky at the horizon."""
    amount = np.where(np.isfinite(canvas.depth), 1.0 - np.exp(-canvas.depth / HAZE_DISTANCE), 0.0)
    canvas.rgb += amount[..., None].astype(np.float32) * (street.sky_horizon - canvas.rgb)


def render_video(rng: np.random.Generator, n_frames: int, width: int,
                 height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Renders one random street video in memory.

    Args:
        rng: the only source of randomness; the same generator state gives the same video.
        n_frames: number of frames T.
        width, height: frame size in pixels (at least 16 x 8).
    Returns:
        labels (T, H, W) uint8 Cityscapes ids from `LABEL_IDS`; instances (T, H, W) uint8 (label id for
        stuff, `CAR_INSTANCE_BASE + k` for car k); frames (T, H, W, 3) uint8 RGB.
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be at least 1, got {n_frames}")
    if width < 16 or height < 8:
        raise ValueError(f"width x height must be at least 16 x 8, got {width} x {height}")
    camera = _Camera.create(width, height)
    street = _sample_street(rng, n_frames, camera)
    background = _Background.create(camera, street)
    labels = np.empty((n_frames, height, width), np.uint8)
    instances = np.empty((n_frames, height, width), np.uint8)
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    for t in range(n_frames):
        canvas = _Canvas(labels[t], instances[t], np.empty((height, width, 3), np.float32),
                         np.full((height, width), np.inf))
        camera_z = street.camera_speed * t
        _draw_background(canvas, background, street, camera_z)
        _draw_shadows(canvas, background, street, t)
        _draw_cars(canvas, camera, street, t)
        _draw_poles(canvas, camera, street, camera_z)
        _add_haze(canvas, street)
        frames[t] = np.clip(np.rint(canvas.rgb), 0, 255).astype(np.uint8)
    return labels, instances, frames


def _manifest(n_train: int, n_test: int, n_frames: int, width: int, height: int, seed: int) -> dict:
    """The parameters that fully determine a generated dataset."""
    return {"generator_version": GENERATOR_VERSION, "n_train": n_train, "n_test": n_test,
            "n_frames": n_frames, "width": width, "height": height, "seed": seed}


def _sequence_names(count: int) -> list[str]:
    """Folder names of the videos of a phase."""
    return [f"seq_{index:03d}" for index in range(count)]


def _is_complete(root: Path, manifest: dict) -> bool:
    """True if `root` holds a finished dataset generated with exactly these parameters.

    The manifest is written last, so its presence means every frame was written; the folder listing
    additionally catches frames deleted by hand.
    """
    try:
        if json.loads((root / MANIFEST_NAME).read_text()) != manifest:
            return False
    except (OSError, ValueError):
        return False
    for phase in PHASES:
        names = _sequence_names(manifest[f"n_{phase}"])
        for kind in KINDS:
            folder = root / f"{phase}_{kind}"
            on_disk = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            if on_disk != names:
                return False
            if any(len(list((folder / name).glob("*.png"))) != manifest["n_frames"] for name in names):
                return False
    return True


def _clear(root: Path) -> None:
    """Removes a previous dataset: only the manifest and the folders this module writes."""
    (root / MANIFEST_NAME).unlink(missing_ok=True)
    for phase in PHASES:
        for kind in KINDS:
            shutil.rmtree(root / f"{phase}_{kind}", ignore_errors=True)


def _write_video(root: Path, phase: str, name: str, labels: np.ndarray, instances: np.ndarray,
                 frames: np.ndarray) -> None:
    """Writes one video as `<phase>_{A,inst,B}/<name>/frame_%04d.png`."""
    for kind, video in (("A", labels), ("inst", instances), ("B", frames)):
        folder = root / f"{phase}_{kind}" / name
        folder.mkdir(parents=True, exist_ok=True)
        for t, image in enumerate(video):
            # Fast PNG compression: the files are small and written often (tests, demo).
            Image.fromarray(image).save(folder / f"frame_{t:04d}.png", compress_level=1)


def generate_dataset(root: str, n_train: int = 8, n_test: int = 2, n_frames: int = 30, width: int = 256,
                     height: int = 128, seed: int = 0, on_video: Callable[[], object] | None = None) -> None:
    """Writes a synthetic street dataset under `root`, unless an identical one is already there.

    Video i of a phase only depends on (seed, phase, i), so changing `n_train` keeps the test videos.
    A dataset with other parameters (or an incomplete one) is removed and generated again.

    Args:
        root: dataset folder (the `--dataroot` of training); created if missing.
        n_train, n_test: number of videos in train_* and test_*.
        n_frames: frames per video.
        width, height: frame size in pixels.
        seed: non-negative seed of the whole dataset.
        on_video: called after each video is written (e.g. a progress bar's update).
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    path = Path(root)
    manifest = _manifest(n_train, n_test, n_frames, width, height, seed)
    if _is_complete(path, manifest):
        return
    _clear(path)
    path.mkdir(parents=True, exist_ok=True)
    for phase_index, phase in enumerate(PHASES):
        for index, name in enumerate(_sequence_names(manifest[f"n_{phase}"])):
            rng = np.random.default_rng([seed, phase_index, index])
            _write_video(path, phase, name, *render_video(rng, n_frames, width, height))
            if on_video is not None:
                on_video()
    (path / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
