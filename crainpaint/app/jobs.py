"""One line of inpainting jobs per model: a worker thread runs them one at a time, in order.

A job is a function of its own temporary folder (where its uploaded mask lives) that returns a
result; the queue tells each waiting job its place in line, the running one its stage and how
long it has run, and removes the job's folder when the job ends, however it ends. Failures are
kept as one-line messages for the page; the traceback goes to the server's log only.

Nothing here knows about images or TensorFlow, so the queue is tested with plain functions.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import logging
import os
import shutil
import tempfile
import threading
import time
from typing import Any, Callable, Optional

_LOG = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# Finished jobs whose results are kept for their pages to fetch; older ones are forgotten.
KEPT_FINISHED_JOBS = 64


class UserError(ValueError):
    """A problem with what the user sent (file, mask, option): its message is shown on the page."""


@dataclasses.dataclass
class Job:
    """A job's state as the page sees it.

    Attributes:
        job_id: the job's name in URLs.
        folder: the job's temporary folder (exists from submission until the job ends).
        state: QUEUED, RUNNING, DONE or FAILED.
        stage: what a running job is doing, in words.
        result: what the job's function returned (DONE only).
        error: the one-line reason of a FAILED job.
        submitted / started / finished: `time.monotonic()` seconds (None until they happen).
        estimate_seconds: expected running time, from the jobs before it (None when unknown).
    """

    job_id: str
    folder: str
    work: Callable[["Job"], Any] = dataclasses.field(repr=False)
    size: float = 1.0
    state: str = QUEUED
    stage: str = "waiting"
    result: Any = None
    error: Optional[str] = None
    submitted: float = 0.0
    started: Optional[float] = None
    finished: Optional[float] = None
    estimate_seconds: Optional[float] = None

    def set_stage(self, stage: str) -> None:
        """Called by the job's function to say what it is doing."""
        self.stage = stage


def describe_failure(error: BaseException) -> str:
    """The message a failed job shows: the user's mistake as it is, anything else by kind."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, MemoryError):
        return ("Out of memory while inpainting: try a smaller photo or lower the pixel limit "
                "(--max_pixels).")
    return f"Inpainting failed ({type(error).__name__}: {error}). The server log has details."


class JobQueue:
    """Runs submitted jobs one at a time on a worker thread, first come first served.

    Args:
        root: folder under which each job gets its temporary folder (created if missing).
        clock: seconds (tests pass a fake).
    """

    def __init__(self, root: str, clock: Callable[[], float] = time.monotonic):
        self._root = root
        os.makedirs(root, exist_ok=True)
        self._clock = clock
        self._condition = threading.Condition()
        self._waiting: collections.deque[Job] = collections.deque()
        self._jobs: dict[str, Job] = {}
        self._finished: collections.deque[str] = collections.deque()
        self._running: Optional[Job] = None
        self._counter = itertools.count(1)
        # Seconds per unit of job size (e.g. megapixels), from the last finished job.
        self._seconds_per_size: Optional[float] = None
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="crainpaint-app-jobs",
                                        daemon=True)
        self._worker.start()

    def submit(self, work: Callable[[Job], Any], size: float = 1.0,
               prepare: Optional[Callable[[str], None]] = None) -> Job:
        """Queues ``work(job)``; returns the job at once.

        Args:
            work: runs on the worker thread; may call ``job.set_stage``; its return value
                becomes ``job.result``; a ``UserError`` becomes ``job.error`` as it is.
            size: how big the job is (e.g. megapixels), for the running-time estimate.
            prepare: called with the job's new folder before the job is queued (e.g. to save
                an upload there); if it raises, the folder is removed and nothing is queued.
        """
        folder = tempfile.mkdtemp(prefix="job-", dir=self._root)
        try:
            if prepare is not None:
                prepare(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self._condition:
            if self._closed:
                shutil.rmtree(folder, ignore_errors=True)
                raise RuntimeError("The job queue is closed.")
            job = Job(job_id=f"{next(self._counter)}-{os.path.basename(folder)[4:]}",
                      folder=folder, work=work, size=size, submitted=self._clock())
            self._jobs[job.job_id] = job
            self._waiting.append(job)
            self._condition.notify_all()
        return job

    def get(self, job_id: str) -> Optional[Job]:
        """The job of that name, or None (unknown or forgotten)."""
        with self._condition:
            return self._jobs.get(job_id)

    def position(self, job: Job) -> int:
        """1 for the next job to run, 2 for the one after it, ...; 0 when not waiting."""
        with self._condition:
            for index, waiting in enumerate(self._waiting):
                if waiting is job:
                    return index + 1
        return 0

    def elapsed(self, job: Job) -> float:
        """Seconds the job has run (so far, or in all once finished)."""
        if job.started is None:
            return 0.0
        end = job.finished if job.finished is not None else self._clock()
        return end - job.started

    def close(self, timeout: Optional[float] = None) -> None:
        """Stops taking jobs, drops the waiting ones (their folders removed) and waits for the
        running one to end, at most ``timeout`` seconds."""
        with self._condition:
            self._closed = True
            while self._waiting:
                job = self._waiting.popleft()
                self._end(job, FAILED, error="The server is shutting down.")
            self._condition.notify_all()
        self._worker.join(timeout)

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._waiting and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                self._running = job
                job.state, job.stage, job.started = RUNNING, "starting", self._clock()
                if self._seconds_per_size is not None:
                    job.estimate_seconds = self._seconds_per_size * job.size
            try:
                result = job.work(job)
            except BaseException as error:  # noqa: BLE001 (every failure is reported, none kills the worker)
                if not isinstance(error, UserError):
                    _LOG.exception("Job %s failed", job.job_id)
                with self._condition:
                    self._end(job, FAILED, error=describe_failure(error))
            else:
                with self._condition:
                    self._end(job, DONE, result=result)
                    if job.size > 0:
                        self._seconds_per_size = self.elapsed(job) / job.size

    def _end(self, job: Job, state: str, result: Any = None, error: Optional[str] = None) -> None:
        """Marks a job finished and removes its folder; the caller holds the lock."""
        shutil.rmtree(job.folder, ignore_errors=True)
        job.state, job.result, job.error = state, result, error
        job.stage = "done" if state == DONE else "failed"
        job.finished = self._clock()
        if job.started is None:
            job.started = job.finished
        if self._running is job:
            self._running = None
        self._finished.append(job.job_id)
        while len(self._finished) > KEPT_FINISHED_JOBS:
            self._jobs.pop(self._finished.popleft(), None)
