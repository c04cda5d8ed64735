"""The web app: a Starlette application around one warm generator, one job line and a photo store.

HTTP interface (the page in ``static/`` is its only client; every error is JSON ``{"error":
message}`` with status 400 for the user's mistakes, never a traceback):

* ``GET /api/config``: the pixel limit, the CRA option choices and their defaults.
* ``POST /api/photos?name=FILE`` with the file as the body: decodes it upright at full
  resolution; returns the photo (id, size, view and download URLs).
* ``POST /api/jobs?photo=ID&preset=&geometry=&seam=&dilate_px=`` with the painted mask (PNG,
  white = hole, the photo's aspect ratio at any size) as the body: queues an inpainting job.
* ``GET /api/jobs/ID``: the job's place in line, stage, elapsed seconds, and its result photo.
* ``GET /api/photos/ID/view`` (JPEG for the page) and ``GET /api/photos/ID/png`` (the lossless
  full-resolution download).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import time
from typing import Optional

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import crainpaint
from crainpaint import cra
from crainpaint.app import jobs
from crainpaint.app.jobs import UserError
from crainpaint.app.photos import (Photo, PhotoStore, describe_pixel_limit, full_resolution_hole,
                                   read_painted_mask)
from crainpaint.cra_flags import PRESETS, preset_config

_LOG = logging.getLogger(__name__)
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
# 8K UHD is 33.2 megapixels and 45-megapixel cameras are common. Lower than the library's budget
# (crainpaint.image_header.DEFAULT_MAX_PIXELS) because the browser holds the photo too and the
# server keeps several photos and results; --max_pixels raises it. Checked from the header.
DEFAULT_MAX_PIXELS = 50_000_000
# Bytes per pixel of the largest raw upload (16-bit RGBA, uncompressed) plus headers.
_UPLOAD_BYTES_PER_PIXEL = 8
_UPLOAD_SLACK_BYTES = 16 << 20
# Added to the photo's name for its results' downloads (once, however often it is inpainted).
RESULT_SUFFIX = "-inpainted"


@dataclasses.dataclass(frozen=True)
class AppConfig:
    """Options of the app server.

    Attributes:
        max_pixels: photos with more pixels (width × height) are refused with a message.
        kept_photos: uploads and results kept on the server for the page (least recently used
            removed first).
        mask_max_side: longest side of the mask the page paints; the server scales the mask
            to the photo's full resolution.
        max_dilate_px: largest hole growth the page may ask for, in photo pixels.
        warm_up: trace the default pipeline once at start, so the first job is not slower.
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    kept_photos: int = 8
    mask_max_side: int = 2048
    max_dilate_px: int = 256
    warm_up: bool = True

    def __post_init__(self):
        for field in ("max_pixels", "mask_max_side"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be >= 1, got {getattr(self, field)}.")
        if self.max_dilate_px < 0:
            raise ValueError(f"max_dilate_px must be >= 0, got {self.max_dilate_px}.")


@dataclasses.dataclass(frozen=True)
class JobOptions:
    """What the page asks of one job: the CRA options and the hole's growth."""

    cra_config: cra.CRAConfig
    dilate_px: int = 0


def parse_job_options(query, max_dilate_px: int) -> JobOptions:
    """The job options of a request's query (absent = the command line's defaults).

    Raises:
        UserError: an unknown choice or an invalid number, named with what is allowed.
    """
    preset = query.get("preset") or "default"
    if preset not in PRESETS:
        raise UserError(f"Unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    overrides = {}
    for field, choices in (("geometry", cra.GEOMETRIES), ("seam", cra.SEAMS)):
        value = query.get(field)
        if value:
            if value not in choices:
                raise UserError(f"Unknown {field} {value!r}; choose one of {', '.join(choices)}.")
            overrides[field] = value
    dilate_text = query.get("dilate_px") or "0"
    try:
        dilate_px = int(dilate_text)
    except ValueError:
        raise UserError(f"Dilation must be a whole number of pixels, got {dilate_text!r}.") from None
    if not 0 <= dilate_px <= max_dilate_px:
        raise UserError(f"Dilation must be between 0 and {max_dilate_px} pixels, got {dilate_px}.")
    try:
        config = dataclasses.replace(preset_config(preset), **overrides)
    except ValueError as error:
        raise UserError(str(error)) from None
    return JobOptions(cra_config=config, dilate_px=dilate_px)


def photo_json(photo: Photo) -> dict:
    """A photo as the page sees it."""
    return {"photo_id": photo.photo_id, "width": photo.width, "height": photo.height,
            "bit_depth": photo.bit_depth, "megapixels": round(photo.megapixels, 2),
            "view_url": f"/api/photos/{photo.photo_id}/view",
            "download_url": f"/api/photos/{photo.photo_id}/png",
            "download_name": f"{photo.stem}.png"}


class Inpainter:
    """The app's state: the generator, the photo store and the job line (one job at a time).

    Args:
        model: a built ``crainpaint.models.Generator``, shared by every job.
        config: an ``AppConfig``.
    """

    def __init__(self, model, config: AppConfig = AppConfig()):
        self.model = model
        self.config = config
        self.store = PhotoStore(config.max_pixels, config.kept_photos)
        self.queue = jobs.JobQueue(os.path.join(self.store.root, "jobs"))

    def warm_up(self) -> jobs.Job:
        """Queues one small inpainting so the default pipeline is traced before the first user."""
        image = np.zeros((64, 64, 3), np.uint8)
        hole = np.zeros((64, 64, 1), bool)
        hole[24:40, 24:40] = True

        def work(job):
            job.set_stage("warming up the model")
            crainpaint.inpaint(image, hole, self.model, config=cra.CRAConfig())

        return self.queue.submit(work, size=0)

    def submit(self, photo_id: str, mask_bytes: bytes, options: JobOptions) -> jobs.Job:
        """Checks the mask against the photo and queues the job.

        Raises:
            UserError: unknown photo, unreadable, misshapen or empty mask.
        """
        photo = self.store.get(photo_id)
        painted = {}

        def prepare(folder):
            mask_path = os.path.join(folder, "mask.png")
            with open(mask_path, "wb") as file:
                file.write(mask_bytes)
            painted["hole"] = read_painted_mask(mask_path, photo)

        def work(job):
            job.set_stage("reading the photo")
            # Still stored? Many uploads while this job waited may have pushed it out.
            self.store.get(photo.photo_id)
            pixels, alpha = self.store.load(photo)
            job.set_stage(f"scaling the mask to {photo.width}×{photo.height}")
            hole = full_resolution_hole(painted["hole"], photo, options.dilate_px)
            job.set_stage("inpainting")
            filled = crainpaint.inpaint(pixels, hole, self.model, config=options.cra_config)
            job.set_stage("saving the result")
            stem = photo.stem if photo.stem.endswith(RESULT_SUFFIX) else photo.stem + RESULT_SUFFIX
            return self.store.add(filled, alpha, stem)

        return self.queue.submit(work, size=photo.megapixels, prepare=prepare)

    def job_json(self, job: jobs.Job) -> dict:
        """A job's state as the page sees it."""
        return {"job_id": job.job_id, "state": job.state, "stage": job.stage,
                "position": self.queue.position(job),
                "elapsed_seconds": round(self.queue.elapsed(job), 2),
                "estimate_seconds": (None if job.estimate_seconds is None
                                     else round(job.estimate_seconds, 2)),
                "error": job.error,
                "result": photo_json(job.result) if job.state == jobs.DONE else None}

    def close(self) -> None:
        """Stops the job line and removes every stored file."""
        self.queue.close(timeout=60)
        self.store.close()


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_body(request: Request, path: str, max_bytes: int) -> None:
    """Streams the request body into ``path``, refusing more than ``max_bytes``."""
    received = 0
    with open(path, "wb") as file:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise UserError(f"The upload is larger than {max_bytes / 2**20:.0f} MiB, more "
                                "than a photo within this server's pixel limit can be.")
            file.write(chunk)
    if received == 0:
        raise UserError("The upload is empty: choose a photo file.")


def create_app(model, config: AppConfig = AppConfig()) -> Starlette:
    """The Starlette application serving the page and its API for ``model``.

    The photo store and the job line are created here and removed when the application shuts
    down (uvicorn's lifespan); ``app.state.inpainter`` holds them.
    """
    inpainter = Inpainter(model, config)
    max_upload_bytes = config.max_pixels * _UPLOAD_BYTES_PER_PIXEL + _UPLOAD_SLACK_BYTES

    async def index(request):
        return FileResponse(os.path.join(STATIC_DIR, "index.html"))

    async def app_config(request):
        default, paper = cra.CRAConfig(), cra.CRAConfig.paper()
        return JSONResponse({
            "max_pixels": config.max_pixels,
            "max_pixels_text": describe_pixel_limit(config.max_pixels),
            "mask_max_side": config.mask_max_side,
            "max_dilate_px": config.max_dilate_px,
            "presets": {name: {"geometry": preset.geometry, "seam": preset.seam}
                        for name, preset in (("default", default), ("paper", paper))},
            "geometries": list(cra.GEOMETRIES), "seams": list(cra.SEAMS),
            "dilate_px": 0})

    async def upload_photo(request):
        name = request.query_params.get("name", "photo")
        with inpainter.store.upload_folder() as folder:
            path = os.path.join(folder, "upload")
            await _read_body(request, path, max_upload_bytes)
            photo = await run_in_threadpool(inpainter.store.add_file, path, name)
        return JSONResponse({"photo": photo_json(photo)})

    async def photo_file(request):
        kind = request.path_params["kind"]
        if kind not in ("view", "png"):
            return _error(f"Unknown photo file {kind!r}; ask for view or png.", 404)
        photo = inpainter.store.get(request.path_params["photo_id"])
        if kind == "view":
            return FileResponse(inpainter.store.view_path(photo), media_type="image/jpeg")
        path = await run_in_threadpool(inpainter.store.png_path, photo)
        return FileResponse(path, media_type="image/png", filename=os.path.basename(path))

    async def submit_job(request):
        options = parse_job_options(request.query_params, config.max_dilate_px)
        mask_limit = 4 * config.mask_max_side ** 2 * _UPLOAD_BYTES_PER_PIXEL + _UPLOAD_SLACK_BYTES
        mask_bytes = await request.body()
        if len(mask_bytes) > mask_limit:
            raise UserError("The mask upload is too large; the page sends at most "
                            f"{config.mask_max_side} pixels a side.")
        if not mask_bytes:
            raise UserError("No mask was sent: paint over what to remove first.")
        job = await run_in_threadpool(inpainter.submit, request.query_params.get("photo", ""),
                                      mask_bytes, options)
        return JSONResponse({"job": inpainter.job_json(job)})

    async def job_status(request):
        job = inpainter.queue.get(request.path_params["job_id"])
        if job is None:
            return _error("Unknown job: it finished long ago or the server restarted; "
                          "inpaint again.", 404)
        return JSONResponse({"job": inpainter.job_json(job)})

    async def user_error(request, error):
        return _error(str(error))

    async def server_error(request, error):
        _LOG.error("Request %s failed", request.url.path, exc_info=error)
        return _error(f"Unexpected server error ({type(error).__name__}: {error}); the server "
                      "log has details.", 500)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if config.warm_up:
            inpainter.warm_up()
        try:
            yield
        finally:
            await run_in_threadpool(inpainter.close)

    app = Starlette(
        routes=[Route("/", index),
                Route("/api/config", app_config),
                Route("/api/photos", upload_photo, methods=["POST"]),
                Route("/api/photos/{photo_id}/{kind:str}", photo_file),
                Route("/api/jobs", submit_job, methods=["POST"]),
                Route("/api/jobs/{job_id}", job_status),
                Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")],
        exception_handlers={UserError: user_error, Exception: server_error},
        lifespan=lifespan)
    app.state.inpainter = inpainter
    return app


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0 = any free one), for uvicorn to serve on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise OSError(f"Cannot listen on {host}:{port}: {error.strerror or error}; choose "
                      "another --port (0 = any free one).") from None
    listener.listen(128)
    return listener


def server_url(listener: socket.socket) -> str:
    """The address to open in a browser for a socket from ``bind_socket``."""
    host, port = listener.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class BackgroundServer:
    """Serves an application on a thread (for tests and notebooks); ``stop()`` shuts it down.

    Args:
        app: from ``create_app``.
        host / port: where to listen (port 0 = any free one; ``url`` tells which).
        startup_timeout: seconds to wait for the server to accept connections.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0,
                 startup_timeout: float = 60.0):
        listener = bind_socket(host, port)
        self.url = server_url(listener)
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listener]},
                                        name="crainpaint-app-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The app server did not start on {self.url}.")
            time.sleep(0.02)

    def stop(self, timeout: Optional[float] = 60.0) -> None:
        """Asks the server to shut down (which closes the app) and waits for it."""
        self._server.should_exit = True
        self._thread.join(timeout)
