"""The training page and the test results page render in a real browser (headless Chromium via Selenium).

A tiny model is trained and rendered, both pages are served over a local HTTP server, and the test checks
that every <img> loads (complete, naturalWidth > 0), that every <video> reads its metadata to a positive,
finite duration and decodes and plays frames (so the H.264 mp4s really play), and that the server answered
no request with an error.

Needs Debian's `chromium` and `chromium-driver` packages (or $CHROMIUM / $CHROMEDRIVER) and the `selenium`
package; without them the test is skipped, saying what is missing. .ci/run installs all three.
"""

from __future__ import annotations

import functools
import http.server
import os
import pathlib
import shutil
import threading
from collections.abc import Iterator

import pytest

import test as test_script
import train
from tests.conftest import TINY_MODEL, tiny_train_args

PAGE_TIMEOUT_S = 30
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                  "--window-size=1280,1024")


def _find(env: str, names: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    return next((path for path in map(shutil.which, names) if path), None)


def _browser_or_skip() -> tuple[str, str]:
    """(chromium binary, chromedriver), or pytest.skip naming what is missing."""
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium Python package (pip install -r requirements-test.txt)")
    binary = _find("CHROMIUM", ("chromium", "chromium-browser", "google-chrome"))
    driver = _find("CHROMEDRIVER", ("chromedriver",))
    if binary is None:
        missing.append("a Chromium binary (apt-get install chromium, or set $CHROMIUM)")
    if driver is None:
        missing.append("chromedriver (apt-get install chromium-driver, or set $CHROMEDRIVER)")
    if missing:
        pytest.skip("browser test needs " + "; ".join(missing))
    return binary, driver


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request, remembering the requests answered with an error."""

    errors: list[str]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if self.path != "/favicon.ico":  # asked for by the browser itself, not by the pages
            self.errors.append(f"{code} {self.path}")
        super().send_error(code, message, explain)


@pytest.fixture(scope="module")
def site(street_root, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """A trained and rendered tiny experiment under one folder served on 127.0.0.1; yields
    (base URL, training page path, results page path, served folder), the paths relative to the folder."""
    root = tmp_path_factory.mktemp("site")
    checkpoints, results = str(root / "checkpoints"), str(root / "results")
    train.main(tiny_train_args(street_root, checkpoints, "browser", "--niter", "2"))
    save_dir = test_script.render(test_script.TestOptions().parse(
        ["--dataroot", street_root, "--checkpoints_dir", checkpoints, "--results_dir", results, "--name", "browser",
         *TINY_MODEL, "--use_real_img", "--fps", "5"]))
    training_page = os.path.join(checkpoints, "browser", "web", "index.html")
    results_page = os.path.join(save_dir, "index.html")
    assert os.path.isfile(training_page) and os.path.isfile(results_page)

    handler = type("Handler", (_QuietHandler,), {"errors": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield (f"http://127.0.0.1:{server.server_address[1]}/", os.path.relpath(training_page, root),
               os.path.relpath(results_page, root), str(root))
    finally:
        server.shutdown()
        server.server_close()
    assert not handler.errors, f"the pages requested files that the server could not give: {handler.errors}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary, driver_path = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    driver.set_script_timeout(PAGE_TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()


# Resolves, once every image has finished loading (or failing), with one record per image.
_IMAGES_JS = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
Promise.all(images.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r, {once: true});
    img.addEventListener('error', r, {once: true});
}))).then(() => done(images.map(img => ({src: img.currentSrc || img.src, complete: img.complete,
                                          width: img.naturalWidth, height: img.naturalHeight}))));
"""

# Resolves with one record per <video> once each has read its metadata, decoded frames and played a little
# (or failed, or run out of time): duration, size, decoded frames and the media error code, if any.
_VIDEOS_JS = """
const done = arguments[arguments.length - 1];
const timeoutMs = arguments[0];
const videos = Array.from(document.querySelectorAll('video'));
function check(v) {
    return new Promise(resolve => {
        let finished = false;
        const finish = () => {
            if (finished) return;
            finished = true;
            v.pause();
            const quality = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
            resolve({src: v.currentSrc, duration: v.duration, width: v.videoWidth, height: v.videoHeight,
                     readyState: v.readyState, currentTime: v.currentTime,
                     decodedFrames: quality ? quality.totalVideoFrames : null,
                     error: v.error ? v.error.code + ' ' + v.error.message : null});
        };
        v.addEventListener('error', finish, {once: true});
        v.querySelectorAll('source').forEach(s => s.addEventListener('error', finish, {once: true}));
        v.addEventListener('timeupdate', () => { if (v.currentTime > 0) finish(); });
        setTimeout(finish, timeoutMs);
        v.muted = true;
        v.preload = 'auto';
        if (v.readyState === 0) v.load();
        const played = v.play();
        if (played) played.catch(finish);
    });
}
Promise.all(videos.map(check)).then(done);
"""


def _open(browser, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    # get() usually returns after the load event, but not always while media elements are still loading
    WebDriverWait(browser, PAGE_TIMEOUT_S).until(lambda b: b.execute_script("return document.readyState") == "complete")


def _check_images(browser, page: str, minimum: int) -> None:
    images = browser.execute_async_script(_IMAGES_JS)
    assert len(images) >= minimum, f"{page}: expected at least {minimum} images, found {len(images)}"
    broken = [img["src"] for img in images if not (img["complete"] and img["width"] > 0 and img["height"] > 0)]
    assert not broken, f"{page}: images that did not load: {broken}"


def _check_videos(browser, page: str, minimum: int) -> None:
    videos = browser.execute_async_script(_VIDEOS_JS, (PAGE_TIMEOUT_S - 5) * 1000)
    assert len(videos) >= minimum, f"{page}: expected at least {minimum} videos, found {len(videos)}"
    for video in videos:
        assert video["error"] is None, f"{page}: {video['src']} failed: {video['error']}"
        duration = video["duration"]
        assert isinstance(duration, int | float) and 0 < duration < float("inf"), \
            f"{page}: {video['src']} has no positive finite duration: {video}"
        assert video["width"] > 0 and video["height"] > 0, f"{page}: {video['src']} has no picture size: {video}"
        # frames were decoded and playback moved on: the browser can play this mp4's codec
        assert video["currentTime"] > 0, f"{page}: {video['src']} did not play: {video}"
        assert video["decodedFrames"] is None or video["decodedFrames"] > 0, \
            f"{page}: {video['src']} decoded no frames: {video}"


def test_training_page_images_load(browser, site):
    base, training_page, _, _ = site
    _open(browser, base + training_page)
    assert "Experiment name = browser" in browser.title
    # two epochs of the official display images
    _check_images(browser, training_page, minimum=2 * 7)


def test_results_page_images_and_videos_load(browser, site):
    base, _, results_page, _ = site
    _open(browser, base + results_page)
    _check_images(browser, results_page, minimum=1)
    # the fake_B video and the real_A | fake_B video of the one test sequence
    _check_videos(browser, results_page, minimum=2)


def test_results_page_plays_from_file_url(browser, site):
    """Opened straight from the disk, as the demo suggests first, the videos play too."""
    _, _, results_page, root = site
    _open(browser, pathlib.Path(root, results_page).as_uri())
    _check_images(browser, results_page, minimum=1)
    _check_videos(browser, results_page, minimum=2)
