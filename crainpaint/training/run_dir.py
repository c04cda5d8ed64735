"""The run folder (``MODEL_DIR``): one trainer at a time, no leftovers of a killed save.

* ``RunDirectoryLock``: ``MODEL_DIR/train.lock`` holds an exclusive ``flock`` and the holder's
  PID for as long as the trainer lives. A second trainer on the same folder refuses to start and
  names that PID. The kernel drops the lock when its process dies however it dies (SIGKILL
  included), so a lock file left by a dead trainer is simply taken over.
* ``remove_partial_checkpoints``: a kill in the middle of a save leaves ``ckpt-N_temp/`` (the
  shards TensorFlow writes before the checkpoint is complete); it is never the latest checkpoint
  and nothing else deletes it.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil

from absl import logging

from crainpaint.training.config import TrainingSetupError

LOCK_NAME = "train.lock"
CHECKPOINT_PREFIX = "ckpt"


class RunDirectoryBusyError(TrainingSetupError):
    """Another live process trains in the same ``MODEL_DIR``."""


def _read_pid(path):
    try:
        with open(path) as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class RunDirectoryLock:
    """An exclusive lock on a run folder, shared by the trainers of this process.

    Args:
        model_dir: the run folder (created by ``acquire``).
    """

    # path → [file descriptor, holders]: a process locks a folder once, however many trainers
    # it builds on it (tests build several; the lock is between processes).
    _held = {}

    def __init__(self, model_dir):
        self.path = os.path.join(os.path.abspath(model_dir), LOCK_NAME)
        self._acquired = False

    def _busy_error(self):
        pid = _read_pid(self.path)
        holder = f"process {pid}" if pid is not None else "another process"
        return RunDirectoryBusyError(
            f"{os.path.dirname(self.path)} is in use by {holder}, which is training there (it "
            f"holds {self.path}). Stop it first (kill -TERM {pid if pid else '<pid>'} saves a "
            "checkpoint), or pass another --model_dir.")

    def check_free(self):
        """Raises ``RunDirectoryBusyError`` if another process holds the lock; writes nothing."""
        if self.path in self._held or not os.path.exists(self.path):
            return
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise self._busy_error() from None
        finally:
            os.close(descriptor)  # Closing releases the probe's lock.

    def acquire(self):
        """Takes the lock (creating the folder) and writes this PID into it.

        Raises:
            RunDirectoryBusyError: another live process holds it.
        """
        if self._acquired:
            return
        if self.path in self._held:
            self._held[self.path][1] += 1
            self._acquired = True
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise self._busy_error() from None
        previous = _read_pid(self.path)
        if previous is not None and previous != os.getpid():
            logging.info("Took over the lock of process %d in %s (that process has ended).",
                         previous, os.path.dirname(self.path))
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._held[self.path] = [descriptor, 1]
        self._acquired = True

    def release(self):
        """Gives the lock back (the last holder of this process unlocks the file)."""
        if not self._acquired:
            return
        self._acquired = False
        entry = self._held[self.path]
        entry[1] -= 1
        if entry[1] == 0:
            del self._held[self.path]
            # The file stays: deleting it would let a waiting process lock a stale inode.
            os.close(entry[0])


def remove_partial_checkpoints(model_dir, prefix=CHECKPOINT_PREFIX):
    """Deletes the ``<prefix>-N_temp/`` folders of saves that never finished.

    Call it only while holding the run's lock: a live trainer's save in progress looks the same.

    Returns:
        The removed folders.
    """
    removed = []
    for path in sorted(glob.glob(os.path.join(glob.escape(model_dir), f"{prefix}-*_temp"))):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            logging.warning("Removed %s, the remains of a checkpoint save that was interrupted.",
                            path)
            removed.append(path)
    return removed


def write_text(path, text):
    """Writes ``text`` to ``path`` atomically (a temp file, then a rename)."""
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)
