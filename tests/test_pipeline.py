"""The inpainting pipeline (crainpaint/pipeline.py), and every entry point bit for bit.

``InpaintPipeline`` keeps its ``CRAConfig`` whole, caches per generator and config, and agrees
with ``crainpaint.cra.inpaint_image`` on a tiny generator. Then the golden tests: the API
(``crainpaint.inpaint``), the command (``python -m crainpaint`` on a folder), the
SavedModel's ``serving_default`` signature and one evaluation row run with the bundled weights on
two small seeded photos; their outputs must equal the stored ones (tests/golden.py) bit for bit.
"""

import dataclasses
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import tensorflow as tf

import crainpaint
from crainpaint import cra, pipeline
from crainpaint.cra import CRAConfig
from crainpaint.models import Generator, GeneratorConfig
from tests import golden
from tests.processes import REPOSITORY_ROOT as _REPOSITORY_ROOT, repository_environment

_MODEL = []


def _bundled():
    """The bundled generator, loaded once per test process."""
    if not _MODEL:
        _MODEL.append(crainpaint.load_pretrained())
    return _MODEL[0]


_TINY = []


def _tiny_generator():
    """One tiny generator per test process (building one takes seconds)."""
    if not _TINY:
        _TINY.append(Generator(GeneratorConfig(input_size=64, attention_grid=4,
                                               width_multiplier=0.25)).build_for_size())
    return _TINY[0]


class InpaintPipelineTest(tf.test.TestCase):

    def test_keeps_the_config_object_whole(self):
        config = dataclasses.replace(CRAConfig.paper(), feather_px=2)

        self.assertIs(pipeline.InpaintPipeline(_tiny_generator(), config).config, config)
        self.assertEqual(pipeline.InpaintPipeline(_tiny_generator()).config, CRAConfig())

    def test_refuses_a_config_that_is_not_a_cra_config(self):
        with self.assertRaisesRegex(TypeError, "CRAConfig"):
            pipeline.InpaintPipeline(_tiny_generator(), {"seam": "paste"})

    def test_pipeline_for_caches_per_generator_and_config(self):
        generator = _tiny_generator()
        first = pipeline.pipeline_for(generator, CRAConfig.paper())

        self.assertIs(pipeline.pipeline_for(generator, CRAConfig.paper()), first)
        self.assertIsNot(pipeline.pipeline_for(generator, CRAConfig()), first)
        self.assertIs(pipeline.pipeline_for(generator), pipeline.pipeline_for(generator,
                                                                              CRAConfig()))

    def test_numpy_call_matches_the_cra_graph_function(self):
        image = golden.photo(3, 40, 56)
        hole = np.zeros((40, 56), bool)
        hole[10:25, 20:40] = True
        inpaint_pipeline = pipeline.InpaintPipeline(_tiny_generator(), CRAConfig.paper())

        # Traced, as the pipeline runs it (eager op-by-op rounding may differ by one level).
        reference = tf.function(lambda image, hole: cra.inpaint_image(
            image, hole, _tiny_generator(), CRAConfig.paper()))
        expected = reference(tf.constant(image), tf.constant(hole[..., np.newaxis])).numpy()
        self.assertAllEqual(inpaint_pipeline(image, hole), expected)
        # A white-hole uint8 mask and a black-hole one name the same hole.
        white = hole.astype(np.uint8) * 255
        self.assertAllEqual(inpaint_pipeline(image, white), expected)
        self.assertAllEqual(inpaint_pipeline(image, 255 - white, "black_hole"), expected)

    def test_without_residuals_resets_only_the_residual_options(self):
        config = CRAConfig(geometry="tile", seam="paste")
        upsample = pipeline.InpaintPipeline(_tiny_generator(), config).without_residuals()

        self.assertEqual(upsample.config, dataclasses.replace(
            config, residual_top_k=0, residual_sharpness=1.0, residual_blend=0.0,
            residual_scale=1))

    def test_attention_scale_runs_a_generator_of_that_scale_with_the_same_weights(self):
        image = golden.photo(5, 64, 96)
        hole = np.zeros((64, 96), bool)
        hole[20:32, 30:50] = True  # Small: most cells stay sources for the attention.
        # "gated_he" keeps a random network's activations (and so its attention) away from zero.
        tiny = Generator(GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25,
                                         kernel_initializer="gated_he")).build_for_size()
        scaled_config = CRAConfig(attention_scale=60.0)
        scaled = pipeline.InpaintPipeline(tiny, scaled_config)

        # Reference: a generator built with that scale, given the weights by set_weights.
        reference_generator = Generator(dataclasses.replace(
            tiny.config, softmax_scale=60.0)).build_for_size()
        reference_generator.set_weights(tiny.get_weights())
        reference = pipeline.InpaintPipeline(reference_generator, scaled_config)
        self.assertIs(reference.generator, reference_generator)  # Its own scale: not rebuilt.
        self.assertEqual(scaled.generator.config.softmax_scale, 60.0)
        self.assertEqual(tiny.config.softmax_scale, 10.0)  # The caller's generator is untouched.
        # Built once per generator and scale: every pipeline at that scale shares it.
        self.assertIs(pipeline.InpaintPipeline(tiny, scaled_config).generator, scaled.generator)
        self.assertAllEqual(scaled(image, hole), reference(image, hole))
        # The scale reaches the network: the fill differs from the trained scale's.
        self.assertNotAllEqual(scaled(image, hole), pipeline.InpaintPipeline(tiny)(image, hole))

    def test_attention_scale_none_or_the_generators_own_keeps_the_generator(self):
        tiny = _tiny_generator()
        for scale in (None, 10.0):
            self.assertIs(pipeline.with_attention_scale(tiny, scale), tiny)
            self.assertIs(pipeline.InpaintPipeline(
                tiny, CRAConfig(attention_scale=scale)).generator, tiny)

    def test_cra_graph_refuses_an_attention_scale_it_cannot_apply(self):
        hole = np.zeros((40, 56, 1), bool)
        hole[10:25, 20:40] = True
        with self.assertRaisesRegex(ValueError, "attention_scale=30 .*pipeline_for"):
            cra.inpaint_image(golden.photo(3, 40, 56), hole, _tiny_generator(),
                              CRAConfig(attention_scale=30.0))
        with self.assertRaisesRegex(TypeError, "needs a crainpaint.models.Generator"):
            pipeline.with_attention_scale(object(), 30.0)

    def test_load_generator_refuses_two_sources_and_names_a_missing_folder(self):
        with self.assertRaisesRegex(ValueError, "not both"):
            pipeline.load_generator("weights", "run")
        missing = os.path.join(self.create_tempdir().full_path, "nothing_here")
        with self.assertRaisesRegex(ValueError, f"--weights {missing}"):
            pipeline.load_generator(missing)


class GoldenTestCase(tf.test.TestCase):
    """Compares (or, with CRAINPAINT_WRITE_GOLDEN=1, stores) one file of results."""

    def assert_golden(self, name, results):
        if golden.writing():
            golden.store(name, results)
            return
        self.assertEqual(results, golden.load(name))


def api_results():
    """{variant: digest} of ``crainpaint.inpaint`` on the cases, in several configurations."""
    model = _bundled()
    small, small_hole = golden.case("small")
    portrait, portrait_hole = golden.case("portrait")
    black_hole_mask = np.where(small_hole, 0, 255).astype(np.uint8)
    return {
        "small_default": golden.digest(crainpaint.inpaint(small, small_hole, model)),
        "small_paper": golden.digest(crainpaint.inpaint(small, small_hole, model,
                                                        config=CRAConfig.paper())),
        "small_black_hole_uint8_mask": golden.digest(crainpaint.inpaint(
            small, black_hole_mask, model, mask_convention="black_hole")),
        "portrait_default": golden.digest(crainpaint.inpaint(portrait, portrait_hole, model)),
        "portrait_uint16": golden.digest(crainpaint.inpaint(
            golden.sixteen_bit(portrait), portrait_hole.astype(np.float32), model)),
        "portrait_paper_feather": golden.digest(crainpaint.inpaint(
            portrait, portrait_hole, model,
            config=dataclasses.replace(CRAConfig.paper(), feather_px=3))),
    }


class GoldenApiTest(GoldenTestCase):

    def test_golden_api_results_are_bit_identical(self):
        self.assert_golden("api", api_results())


def _command_environment():
    return repository_environment(TF_CPP_MIN_LOG_LEVEL="2")


def command_results(command):
    """{output name: digest of its pixels} of the command run on a folder of both cases (the
    portrait saved at 16 bits), with ``command`` (the argv before the flags)."""
    with tempfile.TemporaryDirectory() as workspace:
        folders = {name: os.path.join(workspace, name) for name in ("in", "masks", "out")}
        for folder in folders.values():
            os.makedirs(folder)
        small, small_hole = golden.case("small")
        portrait, portrait_hole = golden.case("portrait")
        cv2.imwrite(os.path.join(folders["in"], "small.png"), small[..., ::-1])
        cv2.imwrite(os.path.join(folders["in"], "portrait.png"),
                    golden.sixteen_bit(portrait)[..., ::-1])
        for name, hole in (("small", small_hole), ("portrait", portrait_hole)):
            cv2.imwrite(os.path.join(folders["masks"], name + ".png"),
                        hole.astype(np.uint8) * 255)
        completed = subprocess.run(
            [sys.executable, *command, "--input_dir", folders["in"], "--mask_dir",
             folders["masks"], "--output_dir", folders["out"]],
            capture_output=True, text=True, env=_command_environment(), cwd=_REPOSITORY_ROOT,
            timeout=600, check=False)
        if completed.returncode != 0:
            raise AssertionError(f"{command} failed:\n{completed.stderr}")
        results = {}
        for name in sorted(os.listdir(folders["out"])):
            pixels = cv2.imread(os.path.join(folders["out"], name), cv2.IMREAD_UNCHANGED)
            results[name] = golden.digest(pixels[..., ::-1])
        return results


class GoldenCommandTest(GoldenTestCase):

    def test_golden_command_results_are_bit_identical(self):
        self.assert_golden("command", command_results(["-m", "crainpaint"]))


def serving_results():
    """{case: digest} of the exported ``serving_default`` signature (bundled weights,
    default options), loaded back with ``tf.saved_model.load``."""
    from crainpaint import export
    with tempfile.TemporaryDirectory() as workspace:
        path = export.export_saved_model(_bundled(), workspace)
        serving = tf.saved_model.load(path).signatures[export.SERVING_SIGNATURE]
        results = {}
        for name in ("small", "portrait"):
            image, hole = golden.case(name)
            mask = hole.astype(np.uint8)[np.newaxis, ..., np.newaxis] * 255
            output = serving(image=tf.constant(image[np.newaxis]), mask=tf.constant(mask))
            results[name] = golden.digest(output["inpainted"].numpy()[0])
        return results


class GoldenServingTest(GoldenTestCase):

    def test_golden_serving_signature_results_are_bit_identical(self):
        self.assert_golden("serving", serving_results())


def evaluation_results():
    """{method: metrics} of one evaluation row (the portrait case; timings left out)."""
    from crainpaint.evaluation import methods
    image, hole = golden.case("portrait")
    fills = methods.build_methods(("crainpaint", "crainpaint_upsample", "telea"), _bundled(),
                                  cra_config=CRAConfig())
    results, _ = methods.evaluate_sample(fills, image, hole)
    return {name: {key: value for key, value in metrics.items() if key != "seconds"}
            for name, metrics in results.items()}


class GoldenEvaluationTest(GoldenTestCase):

    def test_golden_evaluation_row_is_identical(self):
        self.assert_golden("evaluation", evaluation_results())


if __name__ == "__main__":
    tf.test.main()
