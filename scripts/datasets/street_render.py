"""Ray-casting of a sampled street (from `street_scene.py`) into label, instance and RGB frames, with numpy.

A pinhole camera at `CAMERA_HEIGHT` looks down +Z, the ground is the plane Y = 0, the facades are the planes
X = wall_left and X = wall_right, and cars, poles and signs are unions of axis-aligned boxes. Textures
(windows, lane dashes, sidewalk slabs, foliage) are functions of world coordinates, so they move with their
surfaces and the optical flow between frames is that of a real 3-D scene: facades scroll outwards with
parallax, road dashes come towards the camera, cars move at their own speeds. Colours are a simple function
of the label and of the world position (plus distance shading, haze and a shadow under each car), so a small
model can learn them.

A frame is drawn on a `_Canvas` by `_draw_background`, `_draw_shadows`, `_draw_cars`, `_draw_poles` and
`_add_haze`, in that order; `synthetic_street.render_video` runs them for every frame of a video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scripts.datasets.street_scene import (
    BUILDING,
    CAMERA_HEIGHT,
    CAR,
    CAR_INSTANCE_BASE,
    HAZE_DISTANCE,
    NEAR,
    POLE,
    ROAD,
    SIDEWALK,
    SKY,
    TRAFFIC_SIGN,
    VEGETATION,
    _Camera,
    _Cars,
    _Facades,
    _Street,
)

# Fixed colours of car parts, poles, sign rims and road paint.
GLASS = np.array((40, 50, 65), dtype=np.float32)
TYRE = np.array((25, 25, 28), dtype=np.float32)
POLE_GRAY = np.array((125, 125, 130), dtype=np.float32)
WHITE = np.array((230, 230, 230), dtype=np.float32)


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
