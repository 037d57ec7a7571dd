"""Tests of util/: image conversion, the HTML helper, mp4 writing, the Visualizer and the results page."""

from __future__ import annotations

import os
import re
from argparse import Namespace
from html.parser import HTMLParser

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from util.html import HTML
from util.image import label_colormap, save_image, tensor2flow, tensor2im, tensor2label
from util.results_page import write_results_page
from util.video import side_by_side, write_mp4
from util.visualizer import Visualizer

# ---------------------------------------------------------------- HTML parsing

_VOID = {"img", "br", "source", "meta", "link", "input", "hr"}


class _Node:
    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag, self.attrs, self.children, self.text = tag, attrs, [], ""

    def find_all(self, tag: str) -> list[_Node]:
        found = []
        for child in self.children:
            if child.tag == tag:
                found.append(child)
            found.extend(child.find_all(tag))
        return found


class _TreeBuilder(HTMLParser):
    """Just enough of a DOM to check the structure of the pages we write."""

    def __init__(self) -> None:
        super().__init__()
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        while len(self.stack) > 1 and self.stack.pop().tag != tag:
            pass

    def handle_data(self, data):
        self.stack[-1].text += data.strip()


def _parse(path: str) -> _Node:
    builder = _TreeBuilder()
    with open(path, encoding="utf-8") as f:
        builder.feed(f.read())
    return builder.root


def _referenced_files(root: _Node) -> list[str]:
    """Every src / href in the page."""
    refs = [n.attrs["src"] for tag in ("img", "source") for n in root.find_all(tag)]
    return refs + [n.attrs["href"] for n in root.find_all("a")]


# ---------------------------------------------------------------- util.image


def test_tensor2im_takes_batch0_last_frame_and_maps_range():
    video = torch.full((2, 3, 4, 5, 6), -1.0)  # (B, T, C, H, W)
    video[0, -1, 0] = 1.0  # red channel of the displayed frame
    video[0, -1, 1] = 0.0
    video[0, -1, 2] = 2.0  # out of range: clipped
    video[0, -1, 3] = 1.0  # a 4th channel is dropped
    image = tensor2im(video)
    assert image.dtype == np.uint8 and image.shape == (5, 6, 3)
    # 0 -> 127.5, truncated like the official astype(uint8)
    assert (image == np.array([255, 127, 255], dtype=np.uint8)).all()


def test_tensor2im_unnormalized_single_channel_is_2d():
    frames = torch.full((1, 1, 3, 4), 0.5)  # (B, C, H, W)
    image = tensor2im(frames, normalize=False)
    assert image.shape == (3, 4) and (image == 127).all()
    assert tensor2im(torch.zeros(3, 2, 2)).shape == (2, 2, 3)


def test_tensor2label_cityscapes_one_hot():
    one_hot = torch.zeros(1, 2, 35, 2, 3)  # (B, T, C, H, W), a one-hot map per frame
    one_hot[0, -1, 26] = 1  # car everywhere in the shown frame
    one_hot[0, -1, 7, 0, 0] = 2  # road wins the argmax at one pixel
    image = tensor2label(one_hot, 35)
    assert image.shape == (2, 3, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == (128, 64, 128)
    assert tuple(image[1, 2]) == (0, 0, 142)


def test_cityscapes_palettes():
    cmap = label_colormap(35)
    assert cmap.shape == (35, 3)
    assert (cmap[:5] == 0).all()
    expected = {5: (111, 74, 0), 6: (81, 0, 81), 11: (70, 70, 70), 20: (220, 220, 0), 23: (70, 130, 180),
                24: (220, 20, 60), 33: (119, 11, 32)}
    for class_id, color in expected.items():
        assert tuple(cmap[class_id]) == color
    eval_cmap = label_colormap(20)
    assert eval_cmap.shape == (20, 3)
    assert tuple(eval_cmap[0]) == (128, 64, 128)  # train id 0 = road
    assert tuple(eval_cmap[13]) == (0, 0, 142)  # train id 13 = car
    assert tuple(eval_cmap[19]) == (0, 0, 0)  # ignore


def test_tensor2label_voc_palette_from_id_map():
    ids = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 9.0]])[None, None]  # (B, 1, H, W) of class ids
    image = tensor2label(ids, 8)
    assert tuple(image[0, 0]) == (0, 0, 0)
    assert tuple(image[0, 1]) == (128, 0, 0)
    assert tuple(image[0, 2]) == (0, 128, 0)
    assert tuple(image[1, 0]) == (128, 128, 0)
    assert tuple(image[1, 1]) == (0, 0, 128)
    assert tuple(image[1, 2]) == (0, 0, 0)  # id 9 is outside label_nc = 8
    assert tuple(label_colormap(9)[8]) == (64, 0, 0)  # id 8: bit 3 goes to red's second bit


def test_tensor2flow_colours():
    flow = torch.zeros(1, 2, 4, 4)
    image = tensor2flow(flow)
    assert image.shape == (4, 4, 3) and image.dtype == np.uint8
    assert (image == 255).all()  # zero flow is white
    flow[0, 0, :, :2] = 3.0  # right
    flow[0, 0, :, 2:] = -3.0  # left
    image = tensor2flow(flow)
    assert not (image[0, 0] == image[0, 3]).all()
    with pytest.raises(ValueError):
        tensor2flow(torch.zeros(3, 4, 4))


def test_save_image_png_roundtrip_and_jpg(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    png = tmp_path / "a" / "b" / "x.png"
    save_image(image, str(png))
    with Image.open(png) as saved:
        assert (np.asarray(saved) == image).all()
    jpg = tmp_path / "c" / "y.jpg"
    save_image(image[:, :, 0], str(jpg))
    with Image.open(jpg) as saved:
        assert saved.format == "JPEG" and saved.mode == "L"


# ---------------------------------------------------------------- util.html


def test_html_page_structure(tmp_path):
    web_dir = str(tmp_path / "web")
    page = HTML(web_dir, "my title")
    assert os.path.isdir(os.path.join(web_dir, "images"))
    page.add_header("epoch [1]")
    page.add_images(["a.jpg", "b c.jpg"], ["a", "b"], ["a.jpg", "b c.jpg"], width=300)
    page.add_videos(["videos/v.mp4"], ["clip"], width=200)
    path = page.save()
    assert path == os.path.join(web_dir, "index.html")

    root = _parse(path)
    assert root.find_all("title")[0].text == "my title"
    assert root.find_all("h3")[0].text == "epoch [1]"
    tables = root.find_all("table")
    assert len(tables) == 2 and all(t.attrs["border"] == "1" for t in tables)
    assert [len(t.find_all("tr")) for t in tables] == [1, 1]
    cells = tables[0].find_all("td")
    assert len(cells) == 2
    link = cells[0].children[0].children[0]  # td > p > a > img
    assert link.tag == "a" and link.attrs["href"] == "images/a.jpg"
    assert link.children[0].tag == "img" and link.children[0].attrs["src"] == "images/a.jpg"
    assert link.children[0].attrs["style"] == "width:300px"
    assert [p.text for p in cells[1].find_all("p")][-1] == "b"
    assert cells[1].find_all("img")[0].attrs["src"] == "images/b%20c.jpg"

    video = tables[1].find_all("video")[0]
    assert {"controls", "loop", "muted", "playsinline"} <= set(video.attrs)
    source = video.find_all("source")[0]
    assert source.attrs == {"src": "videos/v.mp4", "type": "video/mp4"}


# ---------------------------------------------------------------- util.video


def test_write_mp4_h264_odd_size(tmp_path):
    frames = [np.full((21, 33, 3), 20 * i, dtype=np.uint8) for i in range(7)]
    path = str(tmp_path / "out" / "clip.mp4")
    write_mp4(frames, path, fps=5)
    meta = iio.immeta(path, plugin="FFMPEG")
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    back = iio.imread(path, plugin="FFMPEG", index=None)
    assert back.shape == (7, 22, 34, 3)  # padded to even sizes
    assert abs(float(back[3].mean()) - 60) < 4  # content kept
    with open(path, "rb") as f:
        data = f.read()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart: the index comes first


def test_write_mp4_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError):
        write_mp4([], str(tmp_path / "a.mp4"), fps=5)
    with pytest.raises(ValueError):
        write_mp4([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)], str(tmp_path / "b.mp4"), 5)


def test_side_by_side():
    a = np.zeros((4, 6, 3), np.uint8)
    b = np.full((4, 5), 200, np.uint8)
    both = side_by_side(a, b)
    assert both.shape == (4, 11, 3) and (both[:, 6:] == 200).all()
    tall = np.full((8, 10, 3), 100, np.uint8)
    assert side_by_side(a, tall).shape == (4, 11, 3)


# ---------------------------------------------------------------- util.visualizer


def _opt(tmp_path, **kwargs) -> Namespace:
    values = dict(checkpoints_dir=str(tmp_path / "checkpoints"), name="exp", tf_log=False, no_html=False,
                  display_winsize=256, isTrain=True)
    values.update(kwargs)
    return Namespace(**values)


def _visuals(n: int) -> dict[str, np.ndarray]:
    return {f"image{i}": np.full((8, 12, 3), 10 * i, np.uint8) for i in range(n)}


def test_visualizer_loss_log_format(tmp_path, capsys):
    vis = Visualizer(_opt(tmp_path))
    vis.print_current_errors(3, 40, {"G_GAN": 1.5, "D_fake": 0.25, "G_VGG": 0.0, "D_T_real0": 0.1234}, 0.1236)
    vis.log("saving the latest model (epoch 3, total_steps 100)")
    vis.close()
    expected = "(epoch: 3, iters: 40, time: 0.124) D_T_real0: 0.123 D_fake: 0.250 G_GAN: 1.500 "
    assert capsys.readouterr().out.splitlines()[0] == expected
    lines = (tmp_path / "checkpoints" / "exp" / "loss_log.txt").read_text().splitlines()
    assert re.fullmatch(r"================ Training Loss \(.+\) ================", lines[0])
    assert lines[1:] == [expected, "saving the latest model (epoch 3, total_steps 100)"]


def test_visualizer_web_page(tmp_path):
    vis = Visualizer(_opt(tmp_path))
    vis.display_current_results(_visuals(7), epoch=1, step=10)
    vis.display_current_results(_visuals(3), epoch=2, step=20)
    web_dir = tmp_path / "checkpoints" / "exp" / "web"
    assert (web_dir / "images" / "epoch001_image6.jpg").is_file()
    root = _parse(str(web_dir / "index.html"))
    assert root.find_all("title")[0].text == "Experiment name = exp"
    assert [h.text for h in root.find_all("h3")] == ["epoch [2]", "epoch [1]"]
    # epoch 2: one row of 3; epoch 1: the labels of the current display that exist, 3 of them, one row
    tables = root.find_all("table")
    assert [len(t.find_all("img")) for t in tables] == [3, 3]
    assert tables[0].find_all("img")[0].attrs["style"] == "width:256px"
    for ref in _referenced_files(root):
        assert (web_dir / ref).is_file(), ref


def test_visualizer_splits_six_or_more_images_into_two_rows(tmp_path):
    vis = Visualizer(_opt(tmp_path))
    vis.display_current_results(_visuals(5), epoch=1, step=1)
    web_dir = tmp_path / "checkpoints" / "exp" / "web"
    assert [len(t.find_all("img")) for t in _parse(str(web_dir / "index.html")).find_all("table")] == [5]
    vis.display_current_results(_visuals(7), epoch=1, step=2)
    root = _parse(str(web_dir / "index.html"))
    assert [len(t.find_all("img")) for t in root.find_all("table")] == [4, 3]
    assert [p.text for p in root.find_all("p") if p.text][:4] == ["image0", "image1", "image2", "image3"]


def test_visualizer_without_html_and_at_test_time(tmp_path):
    Visualizer(_opt(tmp_path, no_html=True)).display_current_results(_visuals(2), 1, 1)
    assert not (tmp_path / "checkpoints" / "exp" / "web").exists()
    # test options have no --no_html; the test-time visualizer must not need it
    test_opt = _opt(tmp_path, isTrain=False)
    del test_opt.no_html
    Visualizer(test_opt).display_current_results(_visuals(2), 1, 1)
    assert not (tmp_path / "checkpoints" / "exp" / "web").exists()


def test_visualizer_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    vis = Visualizer(_opt(tmp_path, tf_log=True, no_html=True))
    vis.plot_current_errors({"G_GAN": 1.5, "D_real": 0.5}, step=7)
    vis.plot_current_errors({"G_GAN": 1.0, "D_real": 0.25}, step=8)
    vis.display_current_results({"fake_image": np.zeros((8, 12, 3), np.uint8),
                                 "conf_ref": np.zeros((8, 12), np.uint8)}, epoch=1, step=8)
    vis.close()
    events = EventAccumulator(str(tmp_path / "checkpoints" / "exp" / "logs"))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"G_GAN", "D_real"}
    g_gan = events.Scalars("G_GAN")
    assert [(e.step, e.value) for e in g_gan] == [(7, 1.5), (8, 1.0)]
    assert set(events.Tags()["images"]) == {"fake_image", "conf_ref"}
    image = events.Images("fake_image")[0]
    assert (image.step, image.width, image.height) == (8, 12, 8)


# ---------------------------------------------------------------- results page


def test_results_page_references_existing_files(tmp_path):
    results_dir = tmp_path / "results" / "exp" / "test_latest"
    sequences = []
    for name in ("seq_a", "seq b"):
        seq_dir = results_dir / name
        frames = [np.full((6, 8, 3), 30 * i, np.uint8) for i in range(9)]
        paths = []
        for i, frame in enumerate(frames):
            paths.append(str(seq_dir / f"fake_B_{i:04d}.jpg"))
            save_image(frame, paths[-1])
        write_mp4(frames, str(seq_dir / "fake_B.mp4"), fps=5)
        write_mp4([side_by_side(f, f) for f in frames], str(seq_dir / "real_A_fake_B.mp4"), fps=5)
        sequences.append({"name": name, "video": str(seq_dir / "fake_B.mp4"),
                          "side_by_side": str(seq_dir / "real_A_fake_B.mp4"), "frames": paths})

    page = write_results_page(str(results_dir), sequences)
    assert page == str(results_dir / "index.html")
    root = _parse(page)
    assert [h.text for h in root.find_all("h3")] == ["seq_a", "seq b"]
    assert len(root.find_all("video")) == 4
    assert len(root.find_all("img")) == 2 * 6  # a strip of 6 of the 9 frames per sequence
    refs = _referenced_files(root)
    assert refs and all(not os.path.isabs(ref) for ref in refs)
    for ref in refs:
        assert (results_dir / ref.replace("%20", " ")).is_file(), ref


def test_input_picture_rules():
    from util.image import input_picture

    # 15 channels (face): the training page shows 3 channels, the test output only the first (official)
    face = torch.zeros(15, 2, 2)
    face[0, 0, 0] = 1.0
    assert input_picture(face, 0, 15).shape == (2, 2, 3)
    assert input_picture(face, 0, 15, for_test=True).shape == (2, 2)
    # pose: DensePose normalised, the non-zero OpenPose pixels on top
    pose = torch.full((6, 2, 2), -1.0)
    pose[:3, 1, 1] = 1.0  # white DensePose pixel
    pose[3:, 0, 1] = torch.tensor([153.5, 0.0, 51.5]) / 127.5 - 1  # an OpenPose limb colour, normalised
    picture = input_picture(pose, 0, 6, pose=True)
    assert picture[1, 1].tolist() == [255, 255, 255] and picture[0, 0].tolist() == [0, 0, 0]
    assert picture[0, 1].tolist() == [153, 0, 51]
    # labels with instance edges drawn white on top
    labels = torch.zeros(4, 2, 2)
    labels[1] = 1.0
    edges = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    picture = input_picture(torch.cat([labels, edges[None]]), 4, 3, instance_edges=True)
    assert picture[0, 0].tolist() == [255, 255, 255] and picture[1, 1].tolist() == label_colormap(4)[1].tolist()
