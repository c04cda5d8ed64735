"""The run folder and the cadence, without a model: the lock between trainers (held, released,
taken over from a dead process), the clean-up of interrupted checkpoint saves, and where loops
end (``loop.next_stop``)."""

import os
import subprocess
import sys

import tensorflow as tf

from crainpaint.training.loop import next_stop
from crainpaint.training.run_dir import (LOCK_NAME, RunDirectoryBusyError, RunDirectoryLock,
                                         remove_partial_checkpoints)

# A second trainer as far as the lock goes (without importing TensorFlow): it takes the lock the
# way RunDirectoryLock.acquire does, says so, and holds it until killed.
HOLDER = ("import fcntl, os, sys, time\n"
          f"path = os.path.join(sys.argv[1], {LOCK_NAME!r})\n"
          "descriptor = os.open(path, os.O_RDWR | os.O_CREAT)\n"
          "fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
          "os.ftruncate(descriptor, 0)\n"
          "os.write(descriptor, f'{os.getpid()}\\n'.encode())\n"
          "print('locked', flush=True)\n"
          "time.sleep(120)\n")


class RunDirectoryLockTest(tf.test.TestCase):

    def _start_holder(self, model_dir):
        os.makedirs(model_dir, exist_ok=True)
        process = subprocess.Popen([sys.executable, "-c", HOLDER, model_dir],
                                   stdout=subprocess.PIPE, text=True)
        self.addCleanup(process.wait, 30)
        self.addCleanup(process.kill)
        self.assertEqual(process.stdout.readline().strip(), "locked")
        return process

    def test_second_process_is_refused_with_the_holders_pid(self):
        model_dir = self.create_tempdir().full_path
        holder = self._start_holder(model_dir)
        lock = RunDirectoryLock(model_dir)
        with self.assertRaisesRegex(RunDirectoryBusyError, f"process {holder.pid}"):
            lock.check_free()
        with self.assertRaisesRegex(RunDirectoryBusyError, f"kill -TERM {holder.pid}"):
            lock.acquire()

    def test_trainer_in_a_busy_folder_is_refused_before_building_anything(self):
        from crainpaint.training import TrainConfig, Trainer

        model_dir = self.create_tempdir().full_path
        holder = self._start_holder(model_dir)
        with self.assertRaisesRegex(RunDirectoryBusyError, f"in use by process {holder.pid}"):
            Trainer(TrainConfig(stage="reconstruction"), model_dir)
        self.assertEqual(os.listdir(model_dir), [LOCK_NAME])

    def test_lock_of_a_killed_process_is_taken_over(self):
        model_dir = self.create_tempdir().full_path
        holder = self._start_holder(model_dir)
        holder.kill()  # SIGKILL: no clean-up of its own; the kernel drops its lock.
        holder.wait(30)
        lock = RunDirectoryLock(model_dir)
        lock.check_free()
        lock.acquire()
        self.addCleanup(lock.release)
        with open(os.path.join(model_dir, LOCK_NAME)) as handle:
            self.assertEqual(int(handle.read()), os.getpid())

    def test_released_lock_lets_another_process_in(self):
        model_dir = os.path.join(self.create_tempdir().full_path, "new_run")
        lock = RunDirectoryLock(model_dir)
        lock.acquire()  # Creates the folder.
        other = RunDirectoryLock(model_dir)
        other.acquire()  # A second trainer of the same process shares it.
        lock.release()
        other.release()
        holder = self._start_holder(model_dir)
        self.assertIsNone(holder.poll())

    def test_check_free_writes_nothing(self):
        model_dir = os.path.join(self.create_tempdir().full_path, "not_yet")
        RunDirectoryLock(model_dir).check_free()
        self.assertFalse(os.path.exists(model_dir))


class PartialCheckpointTest(tf.test.TestCase):

    def test_removes_only_the_temp_folders_of_interrupted_saves(self):
        model_dir = self.create_tempdir()
        for name in ("ckpt-7.index", "ckpt-7.data-00000-of-00001", "checkpoint", "ckpt-8_temp",
                     "keep_temp_notes.txt"):
            model_dir.create_file(name if "." in name or name == "checkpoint" else
                                  os.path.join(name, "part-00000-of-00001.data-00000-of-00001"))
        os.makedirs(os.path.join(model_dir.full_path, "generator_weights"))
        removed = remove_partial_checkpoints(model_dir.full_path)
        self.assertEqual([os.path.basename(path) for path in removed], ["ckpt-8_temp"])
        self.assertEqual(sorted(os.listdir(model_dir.full_path)),
                         ["checkpoint", "ckpt-7.data-00000-of-00001", "ckpt-7.index",
                          "generator_weights", "keep_temp_notes.txt"])


class NextStopTest(tf.test.TestCase):

    def test_loop_ends_at_the_next_action_or_the_loop_length(self):
        # Loop length 10; actions every 4 and 6 steps; the run ends at 15.
        stops, step = [], 0
        while step < 15:
            step = next_stop(step, 15, 10, (4, 6, 0))
            stops.append(step)
        self.assertEqual(stops, [4, 6, 8, 12, 15])

    def test_without_actions_loops_run_their_full_length(self):
        self.assertEqual(next_stop(3, 100, 10, (0, 0)), 13)
        self.assertEqual(next_stop(95, 100, 10, ()), 100)


if __name__ == "__main__":
    tf.test.main()
