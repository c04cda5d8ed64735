"""The trainer on the smoke config: finite losses, parameters that move, exact resumption, NaN
detection, exported weights, config files, several steps per loop at an exact cadence, the errors
before any write, and the TrainConfig itself.

Every Trainer traces its own step functions (several seconds each on 2 CPUs), so each test
class builds the few trainers it needs once, in setUpClass, and its tests only read the results.
"""

import dataclasses
import json
import os
import shutil
import tempfile

import cv2
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow.core.util import event_pb2

from crainpaint.models import CriticConfig, GeneratorConfig
from crainpaint.training import (NonFiniteLossError, TrainConfig, Trainer, TrainingSetupError,
                                 restore_generator)
from crainpaint.weights import load_generator_weights, save_generator_weights
from data_pipelines import DataConfig, make_dataset


def smoke_config(data, stage, **overrides):
    """The smoke geometry of experiments/common.py: 64², 4×4 grid (16-px cells), width 0.25."""
    values = dict(
        generator=GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25),
        critic=CriticConfig(input_size=64, width_multiplier=0.25), data=data, stage=stage,
        critic_steps=2, total_steps=2, checkpoint_every_steps=1, checkpoint_every_seconds=0.0,
        summary_every_steps=1, image_summary_every_steps=1, export_generator_every_steps=0,
        mixed_precision="float32", seed=5)
    values.update(overrides)
    return TrainConfig(**values)


def write_image_folder(directory, count=6):
    """Small smooth colour images of different sizes (the pipeline crops and resizes them)."""
    os.makedirs(directory, exist_ok=True)
    random = np.random.default_rng(0)
    for index in range(count):
        height, width = random.integers(70, 140, size=2)
        rows, cols = np.mgrid[0:height, 0:width]
        image = np.stack([(cols * 3 + index * 20) % 256, (rows * 2 + index * 40) % 256,
                          ((rows + cols) * (index + 1)) % 256], axis=-1).astype(np.uint8)
        cv2.imwrite(os.path.join(directory, f"image{index}.png"), image)


def weights_of(model):
    return [np.array(variable.numpy()) for variable in model.weights]


class ResumeTestMixin:
    """(a) one uninterrupted run 0 → 2 (it keeps ckpt-1 and ckpt-2); (b) a NEW Trainer in a
    directory holding only ckpt-1, which resumes 1 → 2. Two trainers, two traces per stage."""

    stage = None

    @classmethod
    def make_config(cls):
        raise NotImplementedError

    @classmethod
    def data_context(cls):
        return _null_context()

    @classmethod
    def after_training(cls):
        """Hook for extra checks that reuse the resumed trainer's traced functions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix=f"crainpaint-{cls.stage}-")
        cls.straight_dir = os.path.join(cls.root, "straight")
        cls.resumed_dir = os.path.join(cls.root, "resumed")
        config = cls.make_config()
        with cls.data_context():
            straight = Trainer(config, cls.straight_dir)
            cls.initial_weights = weights_of(straight.generator)
            cls.straight_result = straight.train(total_steps=2)
            cls.straight_checkpoints = [os.path.basename(path)
                                        for path in straight.checkpoint_manager.checkpoints]
            _copy_checkpoint(cls.straight_dir, "ckpt-1", cls.resumed_dir)
            resumed = Trainer(config, cls.resumed_dir)
            cls.restored_step = int(resumed.step.numpy())
            cls.resumed_result = resumed.train(total_steps=2)
            cls.preview = resumed.preview_grid().numpy()
            cls.straight, cls.resumed = straight, resumed
            cls.straight_weights = weights_of(straight.generator)
            cls.resumed_weights = weights_of(resumed.generator)
            cls.straight_average, cls.resumed_average = (
                None if trainer.generator_average is None
                else list(trainer.generator_average.arrays().values())
                for trainer in (straight, resumed))
            cls.after_training()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def test_losses_are_finite(self):
        for result in (self.straight_result, self.resumed_result):
            self.assertEqual(result["status"], "completed")
            self.assertTrue(result["metrics"])
            for name, value in result["metrics"].items():
                self.assertTrue(np.isfinite(value), f"{name} = {value}")

    def test_parameters_changed(self):
        # Not all in two steps: at initialisation (truncated normal σ 0.05, as the author's) the
        # coarse network's activations halve at every layer, so its early kernels get gradients
        # too small to move a float32 weight in two Adam steps; every bias does move.
        paths = [variable.path for variable in self.straight.generator.weights]
        changed = {path: not np.array_equal(before, after) for path, before, after in
                   zip(paths, self.initial_weights, self.straight_weights)}
        self.assertGreater(np.mean(list(changed.values())), 0.5)
        biases = [name for name in changed if name.endswith("/bias")]
        self.assertTrue(all(changed[name] for name in biases),
                        [name for name in biases if not changed[name]])

    def test_resumes_step_counter_and_data_position(self):
        self.assertEqual(self.straight_checkpoints, ["ckpt-1", "ckpt-2"])
        self.assertEqual(self.restored_step, 1)
        self.assertEqual(self.resumed_result["step"], 2)
        examples = tf.train.load_variable(os.path.join(self.resumed_dir, "ckpt-2"),
                                          "examples_seen/.ATTRIBUTES/VARIABLE_VALUE")
        # 2 steps × batches per step × global batch 2.
        self.assertEqual(int(examples), 2 * self.straight.config.batches_per_step * 2)

    def test_resumed_run_equals_uninterrupted_run_exactly(self):
        for resumed, straight in zip(self.resumed_weights, self.straight_weights):
            self.assertAllEqual(resumed, straight)
        reader_straight = tf.train.load_checkpoint(os.path.join(self.straight_dir, "ckpt-2"))
        reader_resumed = tf.train.load_checkpoint(os.path.join(self.resumed_dir, "ckpt-2"))
        names = reader_straight.get_variable_to_shape_map()
        self.assertEqual(set(names), set(reader_resumed.get_variable_to_shape_map()))
        for name in names:  # Both models, both optimizers' slots, the counters.
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH":
                self.assertAllEqual(reader_straight.get_tensor(name),
                                    reader_resumed.get_tensor(name), msg=name)
        self.assertEqual(self.resumed_result["metrics"], self.straight_result["metrics"])

    def test_writes_configs_summaries_and_log(self):
        with open(os.path.join(self.resumed_dir, "config.json")) as handle:
            self.assertEqual(TrainConfig.from_dict(json.load(handle)), self.make_config())
        with open(os.path.join(self.resumed_dir, "generator_config.json")) as handle:
            self.assertEqual(GeneratorConfig.from_dict(json.load(handle)),
                             self.make_config().generator)
        self.assertTrue(os.listdir(os.path.join(self.straight_dir, "train")))
        with open(os.path.join(self.resumed_dir, "train_log.jsonl")) as handle:
            session = json.loads(handle.readline())
        self.assertEqual((session["start_step"], session["end_step"], session["status"]),
                         (1, 2, "completed"))

    def test_logs_attention_statistics_with_the_other_scalars_every_summary_step(self):
        cells = self.make_config().generator.attention_grid ** 2
        for result in (self.straight_result, self.resumed_result):
            metrics = result["metrics"]
            self.assertBetween(metrics["attention/effective_sources"], 1.0, cells)
            self.assertBetween(metrics["attention/top_weight"], 1.0 / cells, 1.0)
        scalars = _read_scalars(os.path.join(self.straight_dir, "train"))
        for name in ("attention/effective_sources", "attention/top_weight", "reconstruction"):
            self.assertEqual(sorted(scalars[name]), [1, 2], name)  # summary_every_steps = 1.
        self.assertAllClose(scalars["attention/top_weight"][2],
                            self.straight_result["metrics"]["attention/top_weight"])

    def test_exports_generator_weights(self):
        metadata_path = os.path.join(self.straight_dir, "generator_weights", "generator.json")
        with open(metadata_path) as handle:
            metadata = json.load(handle)
        self.assertEqual((metadata["step"], metadata["stage"]), (2, self.stage))

    def test_preview_grid_has_five_panels(self):
        self.assertEqual(self.preview.shape[1:], (64, 5 * 64, 3))
        self.assertAllInRange(self.preview, 0.0, 1.0)


class RestoreTestMixin:
    """Restoring only the generator (the export tool's path); one stage is enough."""

    def test_restore_generator_and_exported_weights_match_training(self):
        restored = restore_generator(self.straight_dir)
        self.assertEqual(restored.restored_step, 2)
        for restored_weight, trained in zip(weights_of(restored), self.straight_weights):
            self.assertAllEqual(restored_weight, trained)
        exported = load_generator_weights(os.path.join(self.straight_dir, "generator_weights"))
        self.assertEqual(exported.pretrained_metadata["step"], 2)
        for exported_weight, trained in zip(weights_of(exported), self.straight_weights):
            self.assertAllClose(exported_weight, trained, atol=1e-3, rtol=1e-3)  # float16.


def _read_scalars(directory):
    """{tag: {step: value}} of the scalar summaries in the event files of ``directory``."""
    scalars = {}
    for path in tf.io.gfile.glob(os.path.join(directory, "events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(path):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                if tensor.ndim == 0 and tensor.dtype.kind == "f":  # Not the image grids.
                    scalars.setdefault(value.tag, {})[event.step] = float(tensor)
    return scalars


def _copy_checkpoint(source, name, destination):
    """A model_dir holding only checkpoint ``name`` of ``source`` (a run stopped there)."""
    os.makedirs(destination)
    for file_name in os.listdir(source):
        if file_name.startswith(name + "."):
            shutil.copy(os.path.join(source, file_name), destination)
    with open(os.path.join(destination, "checkpoint"), "w") as handle:
        handle.write(f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n')


class _null_context:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class ReconstructionStageOnMockTfdsTest(ResumeTestMixin, tf.test.TestCase):
    """Stage "reconstruction" (β = 0, no critic) on tfds.testing.mock_data for div2k."""

    stage = "reconstruction"

    @classmethod
    def make_config(cls):
        data = DataConfig(dataset="div2k", image_size=64, global_batch_size=2, seed=3,
                          shuffle_buffer_size=4)
        return smoke_config(data, "reconstruction", generator_ema_decay=0.5)

    @classmethod
    def data_context(cls):
        return tfds.testing.mock_data(num_examples=6)

    @classmethod
    def after_training(cls):
        # NaN detection, with the resumed trainer's traced functions: from step 2, the second
        # batch of the stream is NaN, so the update to step 4 fails after ckpt-3 was saved.
        def poisoned_dataset(data_config, start_example):
            def poison(index, batch):
                image = tf.where(index == 1, tf.fill(tf.shape(batch["image"]), np.nan),
                                 batch["image"])
                return {"image": image, "mask": batch["mask"]}

            return make_dataset(data_config, start_example).enumerate().map(poison)

        cls.resumed.dataset_factory = poisoned_dataset
        try:
            cls.resumed.train(total_steps=6)
            cls.non_finite_error = None
        except NonFiniteLossError as error:
            cls.non_finite_error = error
        # Up to 4 steps per loop, a checkpoint every 2 steps, 5 steps: loops 0→2, 2→4, 4→5.
        cls.looped_dir = os.path.join(cls.root, "looped")
        looped_config = dataclasses.replace(
            cls.make_config(), steps_per_loop=4, checkpoint_every_steps=2, total_steps=5,
            summary_every_steps=5, image_summary_every_steps=0, keep_checkpoints=5)
        looped = Trainer(looped_config, cls.looped_dir)
        cls.loop_lengths = []
        loop = looped.train_loop

        def counting_loop(iterator, num_steps):
            cls.loop_lengths.append(num_steps)
            return loop(iterator, num_steps)

        looped.train_loop = counting_loop
        cls.looped_result = looped.train()
        cls.looped_checkpoints = [os.path.basename(path)
                                  for path in looped.checkpoint_manager.checkpoints]

    def test_loop_of_two_steps_equals_two_loops_of_one_step(self):
        self.assertEqual(self.loop_lengths[0], 2)
        reader_looped = tf.train.load_checkpoint(os.path.join(self.looped_dir, "ckpt-2"))
        reader_single = tf.train.load_checkpoint(os.path.join(self.straight_dir, "ckpt-2"))
        names = reader_single.get_variable_to_shape_map()
        self.assertEqual(set(names), set(reader_looped.get_variable_to_shape_map()))
        compared = 0
        for name in names:  # Both models' weights, the optimizer's slots, the average, counters.
            # save_counter counts saves (one here, two in the run of one-step loops).
            if name not in ("_CHECKPOINTABLE_OBJECT_GRAPH",
                            "save_counter/.ATTRIBUTES/VARIABLE_VALUE"):
                self.assertAllClose(reader_looped.get_tensor(name), reader_single.get_tensor(name),
                                    rtol=1e-6, atol=1e-7, msg=name)
                compared += 1
        self.assertGreater(compared, 100)

    def test_loops_end_at_every_checkpoint_step_and_at_the_end(self):
        self.assertEqual(self.loop_lengths, [2, 2, 1])
        self.assertEqual(self.looped_checkpoints, ["ckpt-2", "ckpt-4", "ckpt-5"])
        self.assertEqual(self.looped_result["step"], 5)
        scalars = _read_scalars(os.path.join(self.looped_dir, "train"))
        self.assertEqual(sorted(scalars["reconstruction"]), [5])  # summary_every_steps = 5.

    def test_refuses_a_data_folder_without_images_before_writing_anything(self):
        empty = os.path.join(self.root, "no_images")
        os.makedirs(empty)
        model_dir = os.path.join(self.root, "empty_data_run")
        data = DataConfig(dataset="folder", data_dir=empty, image_size=64, global_batch_size=2)
        with self.assertRaisesRegex(TrainingSetupError, "no_images.*contains no"):
            Trainer(smoke_config(data, "reconstruction"), model_dir)
        missing = dataclasses.replace(data, data_dir=os.path.join(self.root, "not_there"))
        with self.assertRaisesRegex(TrainingSetupError, "not_there.*does not exist"):
            Trainer(smoke_config(missing, "reconstruction"), model_dir)
        self.assertFalse(os.path.exists(model_dir))

    def test_non_finite_loss_stops_naming_the_step_and_keeps_last_good_checkpoint(self):
        self.assertIsNotNone(self.non_finite_error)
        self.assertIn("at step 4", str(self.non_finite_error))
        self.assertEqual(os.path.basename(tf.train.latest_checkpoint(self.resumed_dir)),
                         "ckpt-3")
        with open(os.path.join(self.resumed_dir, "train_log.jsonl")) as handle:
            self.assertEqual(json.loads(handle.readlines()[-1])["status"], "failed")

    def test_weight_average_follows_its_recurrence(self):
        # ā1 = d·w0 + (1 − d)·w1 and ā2 = d·ā1 + (1 − d)·w2, d = 0.5, w0 the initial weights.
        checkpoint_1 = os.path.join(self.straight_dir, "ckpt-1")
        weights_1 = weights_of(restore_generator(self.straight_dir, checkpoint_1))
        average_1 = weights_of(restore_generator(self.straight_dir, checkpoint_1, average=True))
        average_2 = self.straight_average
        moved = 0
        for w0, w1, a1, w2, a2 in zip(self.initial_weights, weights_1, average_1,
                                      self.straight_weights, average_2):
            self.assertAllClose(a1, 0.5 * w0 + 0.5 * w1, atol=1e-6)
            self.assertAllClose(a2, 0.5 * a1 + 0.5 * w2, atol=1e-6)
            moved += not np.allclose(a2, w2)
        self.assertGreater(moved, 10)

    def test_resumed_weight_average_equals_uninterrupted_run(self):
        for resumed, straight in zip(self.resumed_average, self.straight_average):
            self.assertAllEqual(resumed, straight)

    def test_exports_weight_average_next_to_the_weights(self):
        exported = load_generator_weights(os.path.join(self.straight_dir,
                                                       "generator_weights_average"))
        self.assertEqual(exported.pretrained_metadata["step"], 2)
        self.assertEqual(exported.pretrained_metadata["weight_average_decay"], 0.5)
        for exported_weight, average in zip(weights_of(exported), self.straight_average):
            self.assertAllClose(exported_weight, average, atol=1e-3, rtol=1e-3)  # float16.

    def test_checkpoint_without_average_starts_it_at_the_restored_weights(self):
        directory = os.path.join(self.root, "no_average")
        without = dataclasses.replace(self.make_config(), generator_ema_decay=0.0)
        with self.data_context():
            first = Trainer(without, directory)
            for variable in first.generator.weights:  # Weights the new average must copy.
                variable.assign(variable + 0.25)
            first.save()
            self.assertIsNone(first.generator_average)
            second = Trainer(self.make_config(), directory)
        for average, weight in zip(second.generator_average.arrays().values(),
                                   weights_of(first.generator)):
            self.assertAllEqual(average, weight)
        with self.assertRaisesRegex(ValueError, "holds no weight average"):
            restore_generator(directory, average=True)

    def test_has_no_critic(self):
        self.assertIsNone(self.straight.critic)
        self.assertNotIn("critic_loss", self.straight_result["metrics"])

    def _saved_weights(self, step, examples_seen):
        """A weights folder as bundle_weights.py writes it, with a recognisable step."""
        directory = os.path.join(self.root, f"weights_step{step}")
        save_generator_weights(self.straight.generator, directory, step=step,
                               extra={"examples_seen": examples_seen})
        return directory

    def test_warm_start_loads_weights_step_and_data_position_into_a_new_run(self):
        weights = self._saved_weights(7, 11)
        with self.data_context():
            warm = Trainer(self.make_config(), os.path.join(self.root, "warm"),
                           init_weights=weights)
        self.assertEqual((int(warm.step.numpy()), int(warm.examples_seen.numpy())), (7, 11))
        for loaded, trained in zip(weights_of(warm.generator), self.straight_weights):
            self.assertAllClose(loaded, trained, atol=1e-3, rtol=1e-3)  # float16.
        # Not the fresh initialisation of the same seed.
        self.assertGreater(max(np.max(np.abs(loaded - initial)) for loaded, initial
                               in zip(weights_of(warm.generator), self.initial_weights)), 1e-4)

    def test_warm_start_is_ignored_when_a_checkpoint_exists(self):
        weights = self._saved_weights(9, 13)
        with self.data_context():
            resumed = Trainer(self.make_config(), self.straight_dir, init_weights=weights)
        self.assertEqual(int(resumed.step.numpy()), 2)
        for loaded, trained in zip(weights_of(resumed.generator), self.straight_weights):
            self.assertAllEqual(loaded, trained)

    def test_warm_start_rejects_weights_of_another_generator(self):
        weights = self._saved_weights(3, 6)
        config = self.make_config()
        wider = dataclasses.replace(config, generator=dataclasses.replace(
            config.generator, width_multiplier=0.5))
        with self.assertRaisesRegex(TrainingSetupError, "same generator"):
            Trainer(wider, os.path.join(self.root, "wider"), init_weights=weights)
        self.assertFalse(os.path.exists(os.path.join(self.root, "wider")))  # Nothing written.

    def test_warm_start_from_a_folder_without_weights_names_the_files(self):
        with self.assertRaisesRegex(TrainingSetupError, "generator.json and generator.npz"):
            Trainer(self.make_config(), os.path.join(self.root, "nowhere"),
                    init_weights=os.path.join(self.root, "no_weights_here"))
        self.assertFalse(os.path.exists(os.path.join(self.root, "nowhere")))


class AdversarialStageOnImageFolderTest(ResumeTestMixin, RestoreTestMixin, tf.test.TestCase):
    """Stage "adversarial" (Algorithm 1, 2 critic updates per step here) on a folder of PNGs."""

    stage = "adversarial"

    @classmethod
    def make_config(cls):
        folder = os.path.join(tempfile.gettempdir(), "crainpaint-test-trainer-images")
        if not os.path.isdir(folder):
            write_image_folder(folder)
        data = DataConfig(dataset="folder", data_dir=folder, image_size=64, global_batch_size=2,
                          seed=4)
        return smoke_config(data, "adversarial")

    def test_reports_critic_and_adversarial_terms(self):
        metrics = self.straight_result["metrics"]
        for name in ("critic_loss", "gradient_penalty", "wasserstein_estimate",
                     "generator_adversarial", "reconstruction"):
            self.assertIn(name, metrics)
        # L_g = L_rec + β L_adv with β = 1e-4.
        self.assertAllClose(metrics["generator_loss"],
                            metrics["reconstruction"] + 1e-4 * metrics["generator_adversarial"],
                            rtol=1e-5)


class TrainConfigTest(tf.test.TestCase):
    def test_json_round_trip(self):
        config = smoke_config(DataConfig(dataset="folder", data_dir="/data", image_size=64),
                              "adversarial")
        self.assertEqual(TrainConfig.from_json(config.to_json()), config)

    def test_auto_mixed_precision_needs_native_bf16(self):
        directory = self.create_tempdir()
        amx = directory.create_file("amx", "flags\t: fpu avx512_bf16 amx_bf16 amx_tile\n")
        avx512 = directory.create_file("avx512", "flags\t: fpu avx512f avx512_bf16\n")
        plain = directory.create_file("plain", "flags\t: fpu avx2 avx512f\n")
        config = TrainConfig(mixed_precision="auto", stage="reconstruction")
        self.assertEqual(config.resolved_mixed_precision(amx.full_path), "mixed_bfloat16")
        self.assertEqual(config.resolved_mixed_precision(avx512.full_path), "mixed_bfloat16")
        self.assertEqual(config.resolved_mixed_precision(plain.full_path), "float32")

    def test_reconstruction_stage_has_zero_adversarial_weight_and_one_batch(self):
        config = TrainConfig(stage="reconstruction")
        self.assertEqual(config.effective_adversarial_weight, 0.0)
        self.assertEqual(config.batches_per_step, 1)
        self.assertEqual(TrainConfig(stage="adversarial").batches_per_step, 6)

    def test_raises_critic_size_mismatch_error(self):
        with self.assertRaisesRegex(ValueError, "critic.input_size"):
            TrainConfig(data=DataConfig(image_size=256), stage="adversarial")

    def test_raises_image_size_not_multiple_of_cell_error(self):
        with self.assertRaisesRegex(ValueError, "multiple of the generator's attention cell"):
            TrainConfig(data=DataConfig(image_size=200), stage="reconstruction")

    def test_raises_weight_average_decay_out_of_range_error(self):
        with self.assertRaisesRegex(ValueError, r"generator_ema_decay must be in \[0, 1\)"):
            TrainConfig(generator_ema_decay=1.0)

    def test_raises_unknown_stage_error(self):
        with self.assertRaisesRegex(ValueError, "stage"):
            TrainConfig(stage="gan")

    def test_raises_steps_per_loop_below_one_error(self):
        with self.assertRaisesRegex(ValueError, "steps_per_loop must be >= 1"):
            TrainConfig(steps_per_loop=0)

    def test_config_json_of_earlier_runs_without_steps_per_loop_still_loads(self):
        values = TrainConfig(stage="reconstruction").to_dict()
        del values["steps_per_loop"]
        self.assertEqual(TrainConfig.from_dict(values).steps_per_loop, 10)


class ExperimentFilesTest(tf.test.TestCase):
    """Every experiments/*.py builds valid configs; the command-line overrides resolve."""

    def test_every_experiment_has_config_and_smoke_config(self):
        from crainpaint import train as entry_point

        root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "experiments")
        names = ["celeba_hq.py", "places2.py", "div2k.py", "folder.py", "photos.py",
                 "photos_adversarial.py",
                 "ablation_sc_sc.py", "ablation_sc_ds.py", "ablation_sc_pw.py",
                 "ablation_gc_gc.py", "ablation_ds_ds.py", "ablation_pw_pw.py"]
        for name in names:
            path = os.path.join(root, name)
            module = entry_point.load_experiment(path)
            self.assertIn("python -m crainpaint.train --experiment experiments/" + name,
                          " ".join(module.__doc__.split()).replace("\\ ", ""), name)
            config, smoke = module.get_config(), module.get_smoke_config()
            self.assertIsInstance(config, TrainConfig)
            self.assertEqual(smoke.data.image_size, 64)
            self.assertEqual(smoke.data.global_batch_size, 2)
            self.assertEqual(smoke.stage, config.stage)

    def test_photos_config_trains_the_paper_generator_on_512_crops(self):
        from crainpaint import train as entry_point

        config = entry_point.experiment_config("experiments/photos.py")
        # The paper's architecture; only the initialiser differs (see experiments/photos.py).
        self.assertEqual(config.generator, GeneratorConfig(kernel_initializer="gated_he"))
        self.assertEqual((config.data.image_size, config.data.global_batch_size, config.stage),
                         (512, 1, "reconstruction"))
        # Additions for the bundled model (experiments/photos.py says why).
        self.assertEqual((config.data.crop_max_aspect, config.generator_ema_decay), (2.0, 0.999))
        adversarial = entry_point.apply_overrides(config, stage="adversarial", steps=10)
        self.assertEqual(adversarial.critic.input_size, 512)
        self.assertEqual((adversarial.total_steps, adversarial.data.global_batch_size), (10, 1))

    def test_photos_stage_two_is_algorithm_1_on_the_same_run(self):
        from crainpaint import train as entry_point

        first = entry_point.experiment_config("experiments/photos.py")
        second = entry_point.experiment_config("experiments/photos_adversarial.py")
        self.assertEqual((second.stage, second.critic_steps, second.adversarial_weight,
                          second.gp_weight), ("adversarial", 5, 1e-4, 10.0))
        self.assertEqual(second.effective_adversarial_weight, 1e-4)
        # Everything a resumed run depends on is stage 1's.
        for field in ("generator", "data", "generator_ema_decay", "generator_learning_rate",
                      "hole_weight", "context_weight", "reconstruction_normalization",
                      "mixed_precision", "seed"):
            self.assertEqual(getattr(second, field), getattr(first, field), field)
        self.assertEqual(second.critic.input_size, 512)

    def test_bundled_weights_warm_start_the_photos_config(self):
        from crainpaint import train as entry_point
        from crainpaint.pretrained import PRETRAINED_DIR, has_bundled_weights

        self.assertEqual(entry_point.resolve_init_weights("bundled"), PRETRAINED_DIR)
        self.assertIsNone(entry_point.resolve_init_weights(None))
        if not has_bundled_weights():
            self.skipTest("no bundled weights in this checkout")
        # The committed metadata describes exactly the generator experiments/photos.py trains,
        # so `make train DATASET=photos INIT_WEIGHTS=bundled` cannot hit the config check.
        with open(os.path.join(PRETRAINED_DIR, "generator.json")) as handle:
            metadata = json.load(handle)
        config = entry_point.experiment_config("experiments/photos.py")
        self.assertEqual(GeneratorConfig.from_dict(metadata["config"]), config.generator)
        self.assertGreater(metadata["step"], 0)


if __name__ == "__main__":
    tf.test.main()
