"""End-to-end tests of the app (crainpaint/app): over HTTP, in a real headless browser, and as the
``python -m crainpaint.app`` command.

One server with a tiny random-init generator serves the HTTP and browser tests (tracing the CRA
pipeline is what costs time, and it is shared by every job of one generator). The browser is
Debian's ``chromium`` driven by Playwright (``executable_path``: Playwright's own browser
download is not used). Without chromium or Playwright the browser test is skipped with the
reason, except in CI (``CI`` set), where it fails: CI must install them (``.ci/run``).

Expected pixels come from the arrays the tests wrote, decoded with OpenCV, never from the app.

The README's screenshot (docs/images/app.png) is taken by this file's browser flow with the
bundled generator and the demo photo and mask: ``python tests/test_app.py screenshot PATH``.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

import cv2
import numpy as np
import tensorflow as tf

_REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPOSITORY_ROOT not in sys.path:  # `python tests/test_app.py screenshot PATH`
    sys.path.insert(0, _REPOSITORY_ROOT)

from crainpaint.app import AppConfig, BackgroundServer, create_app  # noqa: E402
from crainpaint.models import Generator, GeneratorConfig  # noqa: E402
from crainpaint.pretrained import save_generator_weights  # noqa: E402

_TINY_CONFIG = GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25)
# 4K UHD fits; the limit test sends a 10-megapixel photo.
_MAX_PIXELS = 9_000_000
_JOB_TIMEOUT_SECONDS = 240
_DEMO_DIR = os.path.join(_REPOSITORY_ROOT, "crainpaint", "pretrained", "demo")

_SHARED = {}


def _tiny_generator():
    if "generator" not in _SHARED:
        _SHARED["generator"] = Generator(_TINY_CONFIG).build_for_size()
    return _SHARED["generator"]


def _shared_server():
    """One app server for the module (its generator is traced once, at its warm-up)."""
    if "server" not in _SHARED:
        _SHARED["server"] = BackgroundServer(
            create_app(_tiny_generator(), AppConfig(max_pixels=_MAX_PIXELS)))
    return _SHARED["server"]


def tearDownModule():  # noqa: N802 (unittest's name)
    if "server" in _SHARED:
        _SHARED.pop("server").stop()


def _request(url, data=None):
    """(status, JSON body) of a GET, or of a POST when ``data`` is given."""
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=_JOB_TIMEOUT_SECONDS) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _fetch(url):
    with urllib.request.urlopen(url, timeout=_JOB_TIMEOUT_SECONDS) as response:
        return response.read()


def _png(rgb):
    return cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))[1].tobytes()


def _decode_rgb(data):
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)[..., ::-1]


def _textured_photo(height, width, seed=0):
    """A smooth colour field with fine noise: neighbouring pixels differ. The noise is a tile of
    odd size repeated, which is cheap at 4K."""
    rows = np.arange(height, dtype=np.float32)[:, np.newaxis, np.newaxis]
    columns = np.arange(width, dtype=np.float32)[np.newaxis, :, np.newaxis]
    phases = np.array([0.0, 2.0, 4.0], np.float32)
    base = 127 + 60 * np.sin(columns / 37.0 + phases) + 40 * np.cos(rows / 23.0 + phases)
    tile = np.random.default_rng(seed).integers(-20, 21, (97, 131, 3))
    noise = np.tile(tile, (height // 97 + 1, width // 131 + 1, 1))[:height, :width]
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _wait_for_job(server, job):
    deadline = _JOB_TIMEOUT_SECONDS / 0.1
    while job["state"] in ("queued", "running") and deadline > 0:
        threading.Event().wait(0.1)
        deadline -= 1
        _, body = _request(f"{server.url}api/jobs/{job['job_id']}")
        job = body["job"]
    return job


def _segment_distance(height, width, start, end):
    """Distance of every pixel centre to the segment start–end ((x, y) in pixels)."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    points = np.stack([columns, rows], axis=-1)
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    direction = end - start
    along = np.clip(((points - start) @ direction) / (direction @ direction), 0.0, 1.0)
    closest = start + along[..., np.newaxis] * direction
    return np.linalg.norm(points - closest, axis=-1)


class AppHttpTest(tf.test.TestCase):

    def test_4k_photo_round_trips_at_full_resolution(self):
        server = _shared_server()
        photo = _textured_photo(2160, 3840)
        status, body = _request(f"{server.url}api/photos?name=street.png", _png(photo))
        self.assertEqual(status, 200, body)
        self.assertEqual((body["photo"]["width"], body["photo"]["height"]), (3840, 2160))
        # Painted on a 2048×1152 view (the page's mask size for 4K); the server scales it ×1.875.
        mask = np.zeros((1152, 2048), np.uint8)
        mask[500:700, 900:1200] = 255
        status, body = _request(
            f"{server.url}api/jobs?photo={body['photo']['photo_id']}",
            cv2.imencode(".png", mask)[1].tobytes())
        self.assertEqual(status, 200, body)
        job = _wait_for_job(server, body["job"])
        self.assertEqual(job["state"], "done", job["error"])
        result = _decode_rgb(_fetch(server.url + job["result"]["download_url"].lstrip("/")))
        self.assertEqual(result.shape, photo.shape)
        self.assertEqual(result.dtype, np.uint8)
        scaled_hole = np.zeros(photo.shape[:2], bool)
        scaled_hole[937:1313, 1687:2250] = True
        near_hole = cv2.dilate(scaled_hole.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        self.assertAllEqual(result[~near_hole], photo[~near_hole])
        inner = np.zeros_like(scaled_hole)
        inner[945:1305, 1695:2242] = True
        changed = np.any(result != photo, axis=-1)
        self.assertGreater(changed[inner].mean(), 0.9)

    def test_bad_input_gets_a_message_never_a_traceback(self):
        server = _shared_server()
        photo = _textured_photo(60, 80)
        encoded = _png(photo)
        huge = cv2.imencode(".png", np.zeros((2500, 4000, 3), np.uint8))[1].tobytes()
        uploads = {
            "notes.txt": (b"not a photo at all", "Cannot open notes.txt: .*not (an image|a PNG, JPEG)"),
            "cut.png": (encoded[:len(encoded) // 2], "Cannot open cut.png: .*truncated"),
            "big.png": (huge, r"4000×2500 = 10\.0 megapixels, over this server's limit of 9\.0"),
            "none.png": (b"", "The upload is empty"),
        }
        for name, (data, message) in uploads.items():
            status, body = _request(f"{server.url}api/photos?name={name}", data)
            self.assertEqual(status, 400, name)
            self.assertRegex(body["error"], message)
            self.assertNotIn("Traceback", body["error"])
        _, body = _request(f"{server.url}api/photos?name=ok.png", encoded)
        photo_id = body["photo"]["photo_id"]
        empty = cv2.imencode(".png", np.zeros((60, 80), np.uint8))[1].tobytes()
        full = cv2.imencode(".png", np.full((60, 80), 255, np.uint8))[1].tobytes()
        for query, data, message in (
                (f"photo={photo_id}", empty, "The mask is empty"),
                (f"photo={photo_id}", b"scribble", "Cannot read the mask"),
                (f"photo={photo_id}&seam=blur", full, "Unknown seam 'blur'"),
                ("photo=gone", full, "no longer on the server")):
            status, body = _request(f"{server.url}api/jobs?{query}", data)
            self.assertEqual(status, 400, query)
            self.assertRegex(body["error"], message)
        status, body = _request(f"{server.url}api/jobs/123-unknown")
        self.assertEqual(status, 404)
        self.assertIn("Unknown job", body["error"])
        # Nothing from these uploads is left in the server's upload folder.
        self.assertEqual(os.listdir(_uploads_root(server)), [])


def _uploads_root(server):
    return server._server.config.app.state.inpainter.store.uploads_root


def _browser_unavailable_reason():
    """Why the browser test cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[test,app]' (make install)."
    if not _chromium_path():
        return "chromium is not installed: apt-get install chromium (.ci/run does it)."
    return None


def _chromium_path():
    return (os.environ.get("CRAINPAINT_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))


class _Browser:
    """A headless chromium page on the app (a context manager)."""

    def __init__(self, url, viewport=(1100, 720)):
        self._url, self._viewport = url, viewport

    def __enter__(self):
        from playwright.sync_api import sync_playwright
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=_chromium_path(),
                                                         headless=True)
        width, height = self._viewport
        page = self._browser.new_page(viewport={"width": width, "height": height},
                                      accept_downloads=True)
        page.set_default_timeout(_JOB_TIMEOUT_SECONDS * 1000)
        page.goto(self._url)
        page.wait_for_function("document.getElementById('limits').textContent.length > 0")
        return page

    def __exit__(self, *exception):
        self._browser.close()
        self._playwright.stop()


_PAGE_ANSWERED = ("document.body.dataset.state === '{}' || "
                  "!document.getElementById('message').hidden")


def _start_waiting(page):
    """Marks the page as waiting and hides its message, so a wait sees only what comes next."""
    page.evaluate("document.body.dataset.state = 'waiting'; "
                  "document.getElementById('message').hidden = true")


def _open_photo(page, path):
    _start_waiting(page)
    page.set_input_files("#photo-input", path)
    page.wait_for_function(_PAGE_ANSWERED.format("ready"))


def _paint_stroke(page, photo_size, start, end):
    """Drags the brush from start to end, given in photo pixels (x, y); returns the brush's
    radius in photo pixels."""
    width, _ = photo_size
    box = page.locator("#mask-canvas").bounding_box()
    scale = box["width"] / width

    def screen(point):
        return box["x"] + point[0] * scale, box["y"] + point[1] * scale

    page.mouse.move(*screen(start))
    page.mouse.down()
    page.mouse.move(*screen(end), steps=12)
    page.mouse.up()
    brush_size = float(page.locator("#brush-size").input_value())
    return brush_size / 2 / scale


def _inpaint_and_download(page, folder, name):
    _start_waiting(page)
    page.click("#inpaint")
    page.wait_for_function(_PAGE_ANSWERED.format("done"))
    message = page.locator("#message")
    if message.is_visible():
        raise AssertionError(f"The page says: {message.inner_text()}")
    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    path = os.path.join(folder, name)
    download.save_as(path)
    return download.suggested_filename, path


class AppBrowserTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        reason = _browser_unavailable_reason()
        if reason and os.environ.get("CI"):
            self.fail(f"The browser test must run in CI: {reason}")
        if reason:
            self.skipTest(reason)

    def test_paints_inpaints_again_and_downloads_in_a_real_browser(self):
        server = _shared_server()
        folder = self.create_tempdir().full_path
        photo = _textured_photo(240, 320, seed=1)
        photo_path = os.path.join(folder, "photo.png")
        cv2.imwrite(photo_path, photo[..., ::-1])
        mask_file = os.path.join(folder, "mask.png")
        loaded_hole = np.zeros((240, 320), bool)
        loaded_hole[20:60, 240:300] = True
        cv2.imwrite(mask_file, loaded_hole.astype(np.uint8) * 255)
        not_a_photo = os.path.join(folder, "notes.txt")
        with open(not_a_photo, "w") as file:
            file.write("shopping list")

        with _Browser(server.url) as page:
            _open_photo(page, not_a_photo)
            self.assertIn("Cannot open notes.txt", page.locator("#message").inner_text())
            _open_photo(page, photo_path)
            self.assertTrue(page.locator("#message").is_hidden())
            _start_waiting(page)
            page.click("#inpaint")
            page.wait_for_function(_PAGE_ANSWERED.format("done"))
            self.assertIn("The mask is empty", page.locator("#message").inner_text())

            page.set_input_files("#mask-input", mask_file)
            page.wait_for_function("document.getElementById('status').textContent"
                                   ".startsWith('Loaded the mask')")
            first_stroke = ((100, 120), (220, 120))
            radius = _paint_stroke(page, (320, 240), *first_stroke)
            name, first_path = _inpaint_and_download(page, folder, "first.png")
            self.assertEqual(name, "photo-inpainted.png")
            self.assertIn("Inpainted 320×240", page.locator("#status").inner_text())

            # Paint more on the result and inpaint again.
            second_stroke = ((60, 40), (60, 200))
            _paint_stroke(page, (320, 240), *second_stroke)
            _, second_path = _inpaint_and_download(page, folder, "second.png")

        first = _decode_rgb(open(first_path, "rb").read())
        second = _decode_rgb(open(second_path, "rb").read())
        self.assertEqual(first.shape, photo.shape)
        self.assertEqual(first.dtype, np.uint8)
        # Linear scaling and anti-aliased brush edges stay within 2 pixels of the radius.
        first_distance = _segment_distance(240, 320, *first_stroke)
        near_loaded = cv2.dilate(loaded_hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        far = (first_distance > radius + 2) & ~near_loaded
        self.assertAllEqual(first[far], photo[far])
        inside_loaded = cv2.erode(loaded_hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        for under in (first_distance < radius - 2, inside_loaded):
            self.assertGreater(np.any(first[under] != photo[under], axis=-1).mean(), 0.9)
        second_distance = _segment_distance(240, 320, *second_stroke)
        self.assertAllEqual(second[second_distance > radius + 2],
                            first[second_distance > radius + 2])
        under_second = second_distance < radius - 2
        self.assertGreater(np.any(second[under_second] != first[under_second], axis=-1).mean(),
                           0.9)


class AppCommandTest(tf.test.TestCase):

    def test_command_serves_the_page_and_removes_its_files_on_ctrl_c(self):
        folder = self.create_tempdir().full_path
        weights = os.path.join(folder, "weights")
        save_generator_weights(_tiny_generator(), weights)
        temporary = os.path.join(folder, "tmp")
        os.makedirs(temporary)
        environment = dict(os.environ, TMPDIR=temporary, TF_CPP_MIN_LOG_LEVEL="2",
                           PYTHONPATH=os.pathsep.join(
                               filter(None, [_REPOSITORY_ROOT, os.environ.get("PYTHONPATH")])))
        process = subprocess.Popen(
            [sys.executable, "-m", "crainpaint.app", "--port", "0", "--weights", weights,
             "--max_pixels", "1234567", "--nowarm_up"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
            cwd=_REPOSITORY_ROOT)
        try:
            line = process.stdout.readline()
            self.assertRegex(line, r"^crainpaint app: open http://127\.0\.0\.1:\d+/ ",
                             process.stderr.read() if not line else line)
            url = line.split()[3]
            page = _fetch(url).decode()
            self.assertIn('id="inpaint"', page)
            _, config = _request(url + "api/config")
            self.assertEqual(config["max_pixels"], 1234567)
            self.assertEqual(config["presets"]["default"], {"geometry": "aspect",
                                                            "seam": "poisson"})
            self.assertIn("app.js", page)
            self.assertIn("canvas", _fetch(url + "static/app.js").decode())
        finally:
            process.send_signal(signal.SIGINT)
            _, errors = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 0, errors)
        self.assertEqual(os.listdir(temporary), [])


def _take_screenshot(path):
    """The README's screenshot: the demo photo and mask inpainted by the bundled generator."""
    from crainpaint.pretrained import load_pretrained
    server = BackgroundServer(create_app(load_pretrained(), AppConfig()))
    try:
        with tempfile.TemporaryDirectory() as folder, \
                _Browser(server.url, viewport=(960, 620)) as page:
            _open_photo(page, os.path.join(_DEMO_DIR, "photo.jpg"))
            page.set_input_files("#mask-input", os.path.join(_DEMO_DIR, "mask.png"))
            page.wait_for_function("document.getElementById('status').textContent"
                                   ".startsWith('Loaded the mask')")
            _inpaint_and_download(page, folder, "result.png")
            # The divider across the removed bird: before on its left, after on its right.
            page.eval_on_selector("#compare-slider", "slider => { slider.value = 47; "
                                  "slider.dispatchEvent(new Event('input')); }")
            screenshot = cv2.imdecode(np.frombuffer(page.screenshot(), np.uint8),
                                      cv2.IMREAD_COLOR)
    finally:
        server.stop()
    # 6 bits per channel keep the README's image under 300 KB and look the same.
    cv2.imwrite(path, (screenshot >> 2 << 2) + 2, [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    if sys.argv[1:2] == ["screenshot"]:
        _take_screenshot(sys.argv[2])
    else:
        tf.test.main()
