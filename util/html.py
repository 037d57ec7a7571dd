"""A small HTML page of image and video tables, written with dominate.

The layout follows the official helper: a titled page in `<web_dir>/index.html`, `h3` headers, and tables
of one row each. Every path written into the page is relative to `web_dir`, so the folder can be moved or
served as it is.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from urllib.parse import quote

import dominate
from dominate import tags

_CELL_STYLE = "word-wrap: break-word; text-align: center; vertical-align: top;"


class HTML:
    """A page being built; call `save()` to write it.

    Args:
        web_dir: folder of `index.html`; created if missing.
        title: the page title.
        image_subdir: folder, relative to `web_dir`, that the names given to `add_images` live in: the
            official `images/` by default (created), or "" for paths relative to `web_dir` itself.
    """

    def __init__(self, web_dir: str, title: str, image_subdir: str = "images") -> None:
        self.web_dir = web_dir
        self.image_subdir = image_subdir
        os.makedirs(self.get_image_dir(), exist_ok=True)
        self.doc = dominate.document(title=title)

    def get_image_dir(self) -> str:
        """The folder that image names passed to `add_images` are relative to."""
        return os.path.join(self.web_dir, self.image_subdir)

    def add_header(self, text: str) -> None:
        """Adds an `h3` header."""
        self.doc.add(tags.h3(text))

    def add_images(
        self, ims: Sequence[str], txts: Sequence[str], links: Sequence[str], width: int = 512
    ) -> None:
        """Adds a one-row table of images, each linked to a file and captioned.

        Args:
            ims: image files, relative to `get_image_dir()`.
            txts: one caption per image.
            links: what each image links to (usually the image itself), relative to `get_image_dir()`.
            width: display width of each image in pixels.
        """
        row = self._add_row()
        for im, txt, link in zip(ims, txts, links):
            cell = row.add(tags.td(style=_CELL_STYLE))
            cell.add(tags.p(tags.a(tags.img(style=f"width:{width}px", src=self._image_url(im)),
                                   href=self._image_url(link))))
            cell.add(tags.br())
            cell.add(tags.p(txt))

    def add_videos(self, videos: Sequence[str], captions: Sequence[str], width: int = 512) -> None:
        """Adds a one-row table of looping, muted mp4 players, each captioned.

        Args:
            videos: mp4 files, relative to `web_dir`.
            captions: one caption per video.
            width: display width of each player in pixels.
        """
        row = self._add_row()
        for video, caption in zip(videos, captions):
            cell = row.add(tags.td(style=_CELL_STYLE))
            # muted + playsinline let browsers (mobile ones too) play the clip without a user gesture
            player = tags.video(controls=True, loop=True, muted=True, playsinline=True, width=width)
            player.add(tags.source(src=_url(video), type="video/mp4"))
            cell.add(player)
            cell.add(tags.br())
            cell.add(tags.p(caption))

    def save(self) -> str:
        """Writes `<web_dir>/index.html` and returns its path."""
        path = os.path.join(self.web_dir, "index.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.doc.render())
        return path

    def _add_row(self) -> tags.tr:
        table = self.doc.add(tags.table(border=1, style="table-layout: fixed;"))
        return table.add(tags.tr())

    def _image_url(self, name: str) -> str:
        return _url(posixpath.join(self.image_subdir, name) if self.image_subdir else name)


def _url(path: str) -> str:
    """A relative file path as a URL path: forward slashes on every OS, odd characters (space, #) escaped."""
    return quote(path.replace(os.sep, "/"))
