"""Tests for crainpaint.export: the SavedModel, loaded the way TF Serving loads it.

A tiny generator (random weights, fixed seed) is exported once. A fresh Python process that
cannot import ``crainpaint`` (isolated mode, no site hooks, so not even the editable install's
finder; only the site-packages folders on ``sys.path``) then loads it through the TF1
SignatureDef loader (``tf.compat.v1.saved_model.loader.load`` in a session, tensors looked up by
the SignatureDef's names: TF Serving's path) and through ``tf.saved_model.load``; the
``saved_model_cli run`` binary that ships with TensorFlow loads it a third way. All must match
``crainpaint.cra.inpaint_image`` run in this process on the same weights.

The export itself is made by ``python -m crainpaint.export`` (the command line users run), over
a stale version folder that ``--overwrite`` must replace. A second, smaller export bakes in a
non-default residual aggregation (``--residual_top_k`` and friends), checked the same way on one
photo. Runs in about 2.5-3.5 minutes on 2 busy CPU cores.
"""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import cv2
import keras
import numpy as np
import tensorflow as tf

from crainpaint import export, pipeline
from crainpaint.cra import CRAConfig, inpaint_image
from crainpaint.pixels import hole_from_mask
from crainpaint.models import Generator, GeneratorConfig
from crainpaint.pretrained import load_generator_weights, save_generator_weights

TINY_CONFIG = GeneratorConfig(input_size=64, attention_grid=4, width_multiplier=0.25)
SEED = 20200614
# (height, width): photos of 1536×1024, 1500×1001 and 300×200 pixels (width × height).
PHOTO_SIZES = {"1536x1024": (1024, 1536), "1500x1001": (1001, 1500), "300x200": (200, 300)}
# A small limit, so that the "too large" case needs only a 2.1-megapixel array.
TEST_MAX_PIXELS = 2_000_000
SUBPROCESS_TIMEOUT_S = 600
SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
# A residual aggregation other than the paper's and (today) the library's: the top-k path
# (cra.aggregate_top_k, a tf.while_loop writing a TensorArray) with the blended cross-fade and a
# coarser blurry image, given on the command line as a user would.
RESIDUAL_OVERRIDES = {"residual_top_k": 1, "residual_blend": 0.5, "residual_scale": 4,
                      "attention_scale": 30.0}

# Runs in a fresh interpreter started with -I -S: no repository, no .pth hooks on sys.path.
LOADER_SCRIPT = textwrap.dedent(r'''
    import json
    import os
    import sys

    job_path = sys.argv[1]
    with open(job_path) as handle:
        job = json.load(handle)
    # Site-packages without their .pth files: TensorFlow is importable, crainpaint is not.
    sys.path.extend(job["site_packages"])
    report = {"errors": {}, "tf2_errors": {}}
    try:
        import crainpaint  # noqa: F401
        report["crainpaint_importable"] = True
    except ImportError:
        report["crainpaint_importable"] = False

    import numpy as np
    import tensorflow as tf

    outputs = {}
    output_dir = job["output_dir"]

    def feeds_of(case):
        return {key: np.load(path) for key, path in case.items()}

    def bytes_feeds(case):
        def read(path):
            with open(path, "rb") as handle:
                return handle.read()
        return {key: np.array([read(path) for path in
                               (paths if isinstance(paths, list) else [paths])], dtype=object)
                for key, paths in case.items()}

    # 1. TF Serving's path: a TF1 session, the SignatureDef's tensor names.
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], job["saved_model"])
        signatures = meta_graph.signature_def
        report["signatures"] = {
            name: {"inputs": {key: [tf.dtypes.as_dtype(info.dtype).name,
                                    None if info.tensor_shape.unknown_rank else
                                    [dim.size for dim in info.tensor_shape.dim]]
                              for key, info in signature.inputs.items()},
                   "outputs": {key: [tf.dtypes.as_dtype(info.dtype).name,
                                     None if info.tensor_shape.unknown_rank else
                                     [dim.size for dim in info.tensor_shape.dim]]
                               for key, info in signature.outputs.items()}}
            for name, signature in signatures.items() if not name.startswith("__")}

        def run(signature_name, feeds):
            signature = signatures[signature_name]
            names = sorted(signature.outputs)
            values = session.run([signature.outputs[name].name for name in names],
                                 {signature.inputs[key].name: value
                                  for key, value in feeds.items()})
            return dict(zip(names, values))

        for name, case in job["photos"].items():
            outputs["tf1/" + name] = run("serving_default", feeds_of(case))["inpainted"]
        if "network" in job:
            network = run("inpaint_512", feeds_of(job["network"]))
            outputs["tf1/network/inpainted"] = network["inpainted"]
            outputs["tf1/network/attention"] = network["attention"]
        for name, case in job["encoded"].items():
            encoded = run("inpaint_bytes", bytes_feeds(case))["inpainted_bytes"]
            with open(os.path.join(output_dir, "tf1-" + name + ".png"), "wb") as handle:
                handle.write(encoded[0])
        for name, (signature_name, case) in job["errors"].items():
            feeds = feeds_of(case) if signature_name != "inpaint_bytes" else bytes_feeds(case)
            try:
                run(signature_name, feeds)
                report["errors"][name] = None
            except tf.errors.InvalidArgumentError as error:
                report["errors"][name] = error.message

    # 2. The TF2 loader.
    loaded = tf.saved_model.load(job["saved_model"])
    for name, case in job["photos"].items():
        result = loaded.signatures["serving_default"](
            **{key: tf.constant(value) for key, value in feeds_of(case).items()})
        outputs["tf2/" + name] = result["inpainted"].numpy()
    for name, case in job["encoded"].items():
        result = loaded.signatures["inpaint_bytes"](
            **{key: tf.constant(value) for key, value in bytes_feeds(case).items()})
        with open(os.path.join(output_dir, "tf2-" + name + ".png"), "wb") as handle:
            handle.write(result["inpainted_bytes"].numpy()[0])
    if "mismatched_sizes" in job["errors"]:
        mismatched = job["errors"]["mismatched_sizes"][1]
        try:
            loaded.signatures["serving_default"](
                **{key: tf.constant(value) for key, value in feeds_of(mismatched).items()})
            report["tf2_errors"]["mismatched_sizes"] = None
        except tf.errors.InvalidArgumentError as error:
            report["tf2_errors"]["mismatched_sizes"] = error.message

    np.savez(os.path.join(output_dir, "outputs.npz"), **outputs)
    with open(os.path.join(output_dir, "report.json"), "w") as handle:
        json.dump(report, handle)
''')


def _structured_photo(height, width, seed):
    """Smooth gradients, stripes and a few flat shapes, plus mild noise: a photo-like uint8."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    cols = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    red = 128 + 100 * np.sin(2 * np.pi * (3 * rows + 2 * cols))
    green = 255 * rows * (1 - cols) + 40 * np.cos(2 * np.pi * 9 * cols)
    blue = np.where((np.floor(rows * 8) + np.floor(cols * 12)) % 2 == 0, 200.0, 60.0)
    photo = np.stack(np.broadcast_arrays(red, green, blue), axis=-1)
    photo[height // 5:height // 3, width // 2:width // 2 + width // 6] = (250, 30, 30)
    photo += rng.normal(0.0, 6.0, photo.shape)
    return np.clip(np.round(photo), 0, 255).astype(np.uint8)


def _structured_mask(height, width, seed):
    """uint8 [H, W, 1]: a block, a bar and a stroke, with values on both sides of 128."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    top, left = int(rng.integers(height // 6, height // 3)), int(rng.integers(width // 6,
                                                                              width // 3))
    mask[top:top + height // 4, left:left + width // 5] = 255
    mask[height * 2 // 3:height * 2 // 3 + max(3, height // 40), width // 10:width // 2] = 200
    # 127 is "keep" and 128 is "hole" by the shared rule (half of the uint8 range).
    mask[height // 10:height // 10 + height // 8, width * 3 // 5:width * 4 // 5] = 127
    mask[height // 10:height // 10 + 4, width * 3 // 5:width * 4 // 5] = 128
    thickness = max(2, min(height, width) // 60)
    cv2.line(mask, (width // 2, height - 1), (width - 1, height // 2), 255, thickness)
    return mask[..., np.newaxis]


def _png_bytes(rgb):
    succeeded, buffer = cv2.imencode(".png", rgb[..., ::-1] if rgb.shape[-1] == 3 else rgb)
    assert succeeded
    return buffer.tobytes()


def _decode_png_rgb(data):
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return bgr[..., ::-1]


def _wait(process):
    """(return code, stderr) of a subprocess, killed after SUBPROCESS_TIMEOUT_S."""
    try:
        _, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return process.returncode, stderr



def _site_packages():
    """The site-packages folders of this interpreter, for a loader run with ``-I -S``."""
    return [path for path in sys.path if os.path.basename(path) == "site-packages"]


def _write_loader_job(root, job):
    """Writes the job and the loader script under ``root``; returns (script, job) paths."""
    job_path = os.path.join(root, "job.json")
    with open(job_path, "w") as handle:
        json.dump(job, handle)
    script_path = os.path.join(root, "load_like_tf_serving.py")
    with open(script_path, "w") as handle:
        handle.write(LOADER_SCRIPT)
    return script_path, job_path


def _export_workspace(prefix):
    """A temporary root with data/ and outputs/ folders and a tiny generator's weights: random
    weights, fixed seed, stored the way users hand weights to the exporter; the reference
    generator is loaded back from the same files (float16-rounded values).

    Returns:
        (root, data_dir, output_dir, weights_dir, generator).
    """
    root = tempfile.mkdtemp(prefix=prefix)
    data_dir = os.path.join(root, "data")
    output_dir = os.path.join(root, "outputs")
    os.makedirs(data_dir)
    os.makedirs(output_dir)
    keras.utils.set_random_seed(SEED)
    weights = os.path.join(root, "weights")
    save_generator_weights(Generator(TINY_CONFIG).build_for_size(), weights)
    return root, data_dir, output_dir, weights, load_generator_weights(weights)

class ExportTest(tf.test.TestCase):
    """One export in setUpClass; the loaders run once in a subprocess, the tests read results."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        started = time.time()
        cls.root, data_dir, cls.output_dir, weights, cls.generator = _export_workspace(
            "crainpaint_export_test_")

        cls.environment = {key: value for key, value in os.environ.items()
                           if key != "PYTHONPATH"}
        cls.environment["TF_CPP_MIN_LOG_LEVEL"] = "2"
        # The export under test is made by the command line, as a user would, over a stale
        # version 1 that --overwrite must replace. It runs while this process prepares inputs.
        cls.export_base = os.path.join(cls.root, "models")
        cls.saved_model = os.path.join(cls.export_base, "1")
        os.makedirs(cls.saved_model)
        with open(os.path.join(cls.saved_model, "stale-file"), "w") as handle:
            handle.write("from an older export")
        repository = os.path.dirname(os.path.dirname(os.path.abspath(export.__file__)))
        exporter = subprocess.Popen(
            [sys.executable, "-m", "crainpaint.export", "--weights", weights, "--export_dir",
             cls.export_base, "--version", "1", "--overwrite",
             "--max_pixels", str(TEST_MAX_PIXELS)],
            env=dict(cls.environment, PYTHONPATH=repository), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

        def save(name, array):
            path = os.path.join(data_dir, name + ".npy")
            np.save(path, array)
            return path

        def save_bytes(name, data):
            path = os.path.join(data_dir, name)
            with open(path, "wb") as handle:
                handle.write(data)
            return path

        # Full-resolution photos and the library's answer for them, in this process.
        cls.photos, cls.references, photo_job = {}, {}, {}
        for index, (name, (height, width)) in enumerate(PHOTO_SIZES.items()):
            photo = _structured_photo(height, width, SEED + index)
            mask = _structured_mask(height, width, SEED + 10 + index)
            cls.photos[name] = (photo, mask)
            cls.references[name] = inpaint_image(photo, hole_from_mask(mask),
                                                 cls.generator).numpy()
            photo_job[name] = {"image": save(name + "-image", photo[np.newaxis]),
                               "mask": save(name + "-mask", mask[np.newaxis])}

        # The bare network: a batch of two 64² crops.
        size = TINY_CONFIG.input_size
        network_images = np.stack([_structured_photo(size, size, SEED + 20 + index)
                                   for index in range(2)])
        network_masks = np.stack([_structured_mask(size, size, SEED + 30 + index)
                                  for index in range(2)])
        cls.network_inputs = (network_images, network_masks)

        # Encoded files: a PNG photo with a gray PNG mask, a JPEG photo with an RGBA PNG mask
        # (white = hole in RGB, alpha arbitrary and ignored).
        photo, mask = cls.photos["300x200"]
        rgba_mask = np.concatenate([np.repeat(mask, 3, axis=-1),
                                    np.random.default_rng(SEED).integers(
                                        0, 256, mask.shape, dtype=np.uint8)], axis=-1)
        succeeded, jpeg = cv2.imencode(".jpg", photo[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert succeeded
        cls.encoded = {"png": (_png_bytes(photo), _png_bytes(mask[..., 0])),
                       "jpeg": (jpeg.tobytes(),
                                cv2.imencode(".png", rgba_mask[..., [2, 1, 0, 3]])[1].tobytes())}
        encoded_job = {name: {"image_bytes": save_bytes(name + "-image", image_data),
                              "mask_bytes": save_bytes(name + "-mask", mask_data)}
                       for name, (image_data, mask_data) in cls.encoded.items()}

        # Inputs the graph must refuse with its own messages.
        small = np.zeros((1, 40, 60, 3), np.uint8)
        small_mask = np.zeros((1, 40, 60, 1), np.uint8)
        large = (1500, 1400)  # 2.1 MP > TEST_MAX_PIXELS
        # A PNG whose header claims 50000×50000 and that has no pixel data at all: the limit
        # must stop it before the decoder (which would allocate 7.5 GB or fail as corrupt).
        bomb = (b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR"
                + (50000).to_bytes(4, "big") + (50000).to_bytes(4, "big")
                + bytes([8, 2, 0, 0, 0]) + b"\x00\x00\x00\x00")
        cls.error_cases = {
            "mismatched_sizes": ("serving_default", {
                "image": save("mismatched-image", small),
                "mask": save("mismatched-mask", np.zeros((1, 40, 61, 1), np.uint8))}),
            "image_rank": ("serving_default", {
                "image": save("rank-image", small[0]), "mask": save("rank-mask", small_mask)}),
            "mask_rank": ("serving_default", {
                "image": save("rank2-image", small),
                "mask": save("rank2-mask", small_mask[0, ..., 0])}),
            "batch_of_two": ("serving_default", {
                "image": save("batch-image", np.concatenate([small, small])),
                "mask": save("batch-mask", np.concatenate([small_mask, small_mask]))}),
            "image_channels": ("serving_default", {
                "image": save("channels-image", np.zeros((1, 40, 60, 4), np.uint8)),
                "mask": save("channels-mask", small_mask)}),
            "mask_channels": ("serving_default", {
                "image": save("mask-channels-image", small),
                "mask": save("mask-channels-mask", np.zeros((1, 40, 60, 2), np.uint8))}),
            "empty": ("serving_default", {
                "image": save("empty-image", np.zeros((1, 0, 60, 3), np.uint8)),
                "mask": save("empty-mask", np.zeros((1, 0, 60, 1), np.uint8))}),
            "too_large": ("serving_default", {
                "image": save("large-image", np.zeros((1, *large, 3), np.uint8)),
                "mask": save("large-mask", np.zeros((1, *large, 1), np.uint8))}),
            "bytes_mismatched_sizes": ("inpaint_bytes", {
                "image_bytes": encoded_job["png"]["image_bytes"],
                "mask_bytes": save_bytes("small-mask.png", _png_bytes(small_mask[0, ..., 0]))}),
            "bytes_count": ("inpaint_bytes", {
                "image_bytes": [encoded_job["png"]["image_bytes"]] * 2,
                "mask_bytes": [encoded_job["png"]["mask_bytes"]]}),
            "bytes_too_large": ("inpaint_bytes", {
                "image_bytes": save_bytes("bomb.png", bomb),
                "mask_bytes": save_bytes("bomb-mask.png", bomb)}),
        }

        job = {"saved_model": cls.saved_model, "output_dir": cls.output_dir,
               "site_packages": _site_packages(),
               "photos": photo_job, "encoded": encoded_job,
               "network": {"image": save("network-image", network_images),
                           "mask": save("network-mask", network_masks)},
               "errors": cls.error_cases}
        script_path, job_path = _write_loader_job(cls.root, job)

        cls.runs = {"export": _wait(exporter)}
        cls.export_seconds = time.time() - started
        processes = {}
        # -I: no PYTHONPATH, no user site, no script folder; -S: no .pth hooks (the editable
        # install's finder); cwd: a folder without the package.
        processes["loader"] = subprocess.Popen(
            [sys.executable, "-I", "-S", script_path, job_path], cwd=cls.output_dir,
            env=cls.environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The saved_model_cli binary (a TF1 session too), one photo per run.
        for name, case in photo_job.items():
            processes["cli/" + name] = subprocess.Popen(
                [SAVED_MODEL_CLI, "run", "--dir", cls.saved_model, "--tag_set", "serve",
                 "--signature_def", "serving_default",
                 "--inputs", f"image={case['image']};mask={case['mask']}",
                 "--outdir", os.path.join(cls.root, "cli-" + name)],
                cwd=cls.output_dir, env=cls.environment, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
        for name, process in processes.items():
            cls.runs[name] = _wait(process)
        cls.report, cls.outputs = None, None
        if cls.runs["loader"][0] == 0:
            with open(os.path.join(cls.output_dir, "report.json")) as handle:
                cls.report = json.load(handle)
            with np.load(os.path.join(cls.output_dir, "outputs.npz")) as arrays:
                cls.outputs = dict(arrays)
        cls.photo_job = photo_job
        print(f"[test_export] export, references and loader processes: "
              f"{time.time() - started:.1f} s (export {cls.export_seconds:.1f} s)")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def _assert_run_succeeded(self, name):
        returncode, stderr = self.runs[name]
        self.assertEqual(returncode, 0, f"{name} failed:\n{stderr[-4000:]}")

    def _require_loader_results(self):
        self._assert_run_succeeded("export")
        self._assert_run_succeeded("loader")

    def _assert_matches_library(self, name, inpainted):
        photo, mask = self.photos[name]
        self.assertEqual(inpainted.shape, photo.shape)
        self.assertEqual(inpainted.dtype, np.uint8)
        difference = np.abs(inpainted.astype(np.int16) - self.references[name].astype(np.int16))
        self.assertLessEqual(int(difference.max()), 1, f"{name}: differs from inpaint_image")
        # The hole by the documented rule, computed here without the library.
        keep = mask[..., 0] < 128
        self.assertAllEqual(inpainted[keep], photo[keep])
        # The hole was actually filled by something (not just the input passed through).
        self.assertTrue(np.any(inpainted[~keep] != photo[~keep]))

    # --- directory layout and versions -------------------------------------------------------

    def test_command_line_writes_base_version_layout_over_a_stale_version(self):
        self._assert_run_succeeded("export")
        self.assertTrue(os.path.isfile(os.path.join(self.saved_model, "saved_model.pb")))
        self.assertTrue(os.path.isfile(os.path.join(self.saved_model, "variables",
                                                    "variables.index")))
        # --overwrite replaced the whole folder; no temporary folder is left beside it.
        self.assertFalse(os.path.exists(os.path.join(self.saved_model, "stale-file")))
        self.assertEqual(os.listdir(self.export_base), ["1"])
        with open(os.path.join(self.saved_model, export.METADATA_PATH)) as handle:
            metadata = json.load(handle)
        self.assertEqual(metadata["generator_config"], TINY_CONFIG.to_dict())
        self.assertEqual(metadata["max_pixels"], TEST_MAX_PIXELS)
        self.assertEqual(metadata["mask_convention"], "white_hole")

    def test_variables_hold_each_weight_once(self):
        self._assert_run_succeeded("export")
        stored = tf.train.list_variables(os.path.join(self.saved_model, "variables",
                                                      "variables"))
        stored_values = sum(int(np.prod(shape)) for name, shape in stored
                            if name != "_CHECKPOINTABLE_OBJECT_GRAPH")
        self.assertEqual(stored_values, self.generator.count_params())

    def test_raises_when_exporting_twice_to_the_same_version(self):
        self._assert_run_succeeded("export")
        before = os.stat(os.path.join(self.saved_model, "saved_model.pb")).st_mtime_ns
        with self.assertRaisesRegex(FileExistsError, "already exists.*overwrite"):
            export.export_saved_model(self.generator, self.export_base, version=1)
        self.assertEqual(os.stat(os.path.join(self.saved_model, "saved_model.pb")).st_mtime_ns,
                         before)
        self.assertEqual(os.listdir(self.export_base), ["1"])

    def test_next_version_counts_only_integer_folders(self):
        base = self.create_tempdir().full_path
        self.assertEqual(export.next_version(os.path.join(base, "missing")), 1)
        for name in ("1", "7", "latest", ".tmp-9-abc"):
            os.makedirs(os.path.join(base, name))
        self.assertEqual(export.next_version(base), 8)

    def test_raises_invalid_options_error(self):
        with self.assertRaisesRegex(ValueError, "max_pixels must be a positive integer"):
            export.ExportOptions(max_pixels=0)
        with self.assertRaisesRegex(ValueError, "mask_convention must be one of"):
            export.ExportOptions(mask_convention="gray")
        with self.assertRaisesRegex(ValueError, "contradicts"):
            export.export_saved_model(self.generator, self.create_tempdir().full_path,
                                      max_pixels=10, options=export.ExportOptions(max_pixels=20))

    def test_raises_invalid_version_error(self):
        with self.assertRaisesRegex(ValueError, "positive integer"):
            export.export_saved_model(self.generator, self.create_tempdir().full_path,
                                      version=0)

    # --- loading without crainpaint ----------------------------------------------------------

    def test_loader_process_cannot_import_crainpaint(self):
        self._require_loader_results()
        self.assertFalse(self.report["crainpaint_importable"])

    def test_signature_defs_have_documented_names_and_types(self):
        self._require_loader_results()
        signatures = self.report["signatures"]
        self.assertEqual(sorted(signatures), ["inpaint_512", "inpaint_bytes", "serving_default"])
        self.assertEqual(signatures["serving_default"], {
            "inputs": {"image": ["uint8", None], "mask": ["uint8", None]},
            "outputs": {"inpainted": ["uint8", [1, -1, -1, 3]]}})
        self.assertEqual(signatures["inpaint_bytes"], {
            "inputs": {"image_bytes": ["string", [-1]], "mask_bytes": ["string", [-1]]},
            "outputs": {"inpainted_bytes": ["string", [-1]]}})
        cells = TINY_CONFIG.attention_grid ** 2
        self.assertEqual(signatures["inpaint_512"], {
            "inputs": {"image": ["uint8", [-1, 64, 64, 3]], "mask": ["uint8", [-1, 64, 64, 1]]},
            "outputs": {"inpainted": ["uint8", [-1, 64, 64, 3]],
                        "attention": ["float32", [-1, cells, cells]]}})

    def test_tf1_signature_def_loader_matches_library(self):
        self._require_loader_results()
        for name in PHOTO_SIZES:
            with self.subTest(photo=name):
                self._assert_matches_library(name, self.outputs["tf1/" + name][0])

    def test_tf2_loader_matches_library(self):
        self._require_loader_results()
        for name in PHOTO_SIZES:
            with self.subTest(photo=name):
                self._assert_matches_library(name, self.outputs["tf2/" + name][0])

    def test_saved_model_cli_run_matches_library(self):
        for name in PHOTO_SIZES:
            with self.subTest(photo=name):
                self._assert_run_succeeded("export")
                self._assert_run_succeeded("cli/" + name)
                inpainted = np.load(os.path.join(self.root, "cli-" + name, "inpainted.npy"))
                self._assert_matches_library(name, inpainted[0])

    def test_inpaint_512_matches_generator(self):
        self._require_loader_results()
        images, masks = self.network_inputs
        hole = (masks >= 128).astype(np.float32)
        _, refined, scores = self.generator(
            (images.astype(np.float32) / 127.5 - 1.0, hole), training=False)
        expected = np.where(hole > 0.5, np.clip(np.round((refined.numpy() + 1.0) * 127.5),
                                                0, 255), images)
        inpainted = self.outputs["tf1/network/inpainted"]
        self.assertEqual(inpainted.dtype, np.uint8)
        self.assertLessEqual(int(np.abs(inpainted.astype(np.int16) - expected).max()), 1)
        self.assertAllClose(self.outputs["tf1/network/attention"], scores.numpy(), atol=1e-5)

    # --- encoded files -----------------------------------------------------------------------

    def test_inpaint_bytes_round_trips_png_and_jpeg(self):
        self._require_loader_results()
        _, mask = self.photos["300x200"]
        keep = mask[..., 0] < 128
        for name, (image_data, mask_data) in self.encoded.items():
            # JPEG is lossy: the expected photo is what TF's decoder makes of the file.
            photo = tf.io.decode_image(image_data, channels=3, expand_animations=False).numpy()
            decoded_mask = tf.io.decode_image(mask_data, channels=0,
                                              expand_animations=False).numpy()
            expected = inpaint_image(photo, hole_from_mask(decoded_mask), self.generator).numpy()
            for loader in ("tf1", "tf2"):
                with self.subTest(file=name, loader=loader):
                    with open(os.path.join(self.output_dir, f"{loader}-{name}.png"), "rb") as f:
                        data = f.read()
                    self.assertTrue(data.startswith(b"\x89PNG\r\n\x1a\n"))
                    inpainted = _decode_png_rgb(data)
                    self.assertEqual(inpainted.shape, photo.shape)
                    self.assertLessEqual(
                        int(np.abs(inpainted.astype(np.int16) - expected).max()), 1)
                    self.assertAllEqual(inpainted[keep], photo[keep])

    # --- in-graph checks ---------------------------------------------------------------------

    def test_graph_checks_fail_with_documented_messages(self):
        self._require_loader_results()
        too_large = export.TOO_LARGE_MESSAGE.format(max_pixels=TEST_MAX_PIXELS)
        expected = {
            "mismatched_sizes": [export.SIZE_MISMATCH_MESSAGE, "[40 60]", "[40 61]"],
            "image_rank": [export.IMAGE_RANK_MESSAGE, "[40 60 3]"],
            "mask_rank": [export.MASK_RANK_MESSAGE, "[40 60]"],
            "batch_of_two": [export.BATCH_MESSAGE],
            "image_channels": [export.IMAGE_CHANNELS_MESSAGE],
            "mask_channels": [export.MASK_CHANNELS_MESSAGE, "[2]"],
            "empty": [export.EMPTY_MESSAGE, "[0]", "[60]"],
            "bytes_count": [export.BYTES_COUNT_MESSAGE, "[2]", "[1]"],
            "too_large": [too_large, "[1500]", "[1400]"],
            "bytes_mismatched_sizes": [export.SIZE_MISMATCH_MESSAGE, "[200 300]", "[40 60]"],
            "bytes_too_large": [too_large, "[50000]"],
        }
        self.assertEqual(sorted(expected), sorted(self.report["errors"]))
        for name, fragments in expected.items():
            with self.subTest(case=name):
                message = self.report["errors"][name]
                self.assertIsNotNone(message, f"{name} did not fail")
                for fragment in fragments:
                    self.assertIn(fragment, message)
        self.assertIn(export.SIZE_MISMATCH_MESSAGE,
                      self.report["tf2_errors"]["mismatched_sizes"] or "")



class ResidualAggregationExportTest(tf.test.TestCase):
    """A non-default residual aggregation is baked into the SavedModel and runs there as in the
    library: exported by the command line with the residual flags, loaded by the TF1 and TF2
    loaders in a process that cannot import ``crainpaint``, on one 300×200 photo."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root, data_dir, cls.output_dir, weights, cls.generator = _export_workspace(
            "crainpaint_export_residual_test_")
        # The flags override the default preset field by field, so this is what they describe.
        cls.config = dataclasses.replace(CRAConfig(), **RESIDUAL_OVERRIDES)

        environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        environment["TF_CPP_MIN_LOG_LEVEL"] = "2"
        repository = os.path.dirname(os.path.dirname(os.path.abspath(export.__file__)))
        cls.saved_model = os.path.join(cls.root, "models", "1")
        residual_flags = [f"--{name}={value}" for name, value in RESIDUAL_OVERRIDES.items()]
        exporter = subprocess.Popen(
            [sys.executable, "-m", "crainpaint.export", "--weights", weights, "--export_dir",
             os.path.dirname(cls.saved_model), "--version", "1", *residual_flags],
            env=dict(environment, PYTHONPATH=repository), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

        # The library's answers, computed while the export runs.
        cls.photo = _structured_photo(200, 300, SEED + 40)
        # One hole in a corner: on the 4×6 attention grid it leaves context cells whose 3×3
        # patch holds no hole, the sources top-k chooses from (the structured masks leave none).
        cls.mask = np.zeros((200, 300, 1), np.uint8)
        cls.mask[20:80, 30:110] = 255
        hole = hole_from_mask(cls.mask)
        # The generator with the configuration's attention scale, as the library runs it.
        scaled = pipeline.pipeline_for(cls.generator, cls.config).generator
        cls.reference = inpaint_image(cls.photo, hole, scaled, cls.config).numpy()
        papers_aggregation = dataclasses.replace(cls.config, residual_top_k=0,
                                                 residual_blend=0.0, residual_scale=1)
        cls.papers_reference = inpaint_image(cls.photo, hole, scaled,
                                             papers_aggregation).numpy()

        image_path = os.path.join(data_dir, "image.npy")
        mask_path = os.path.join(data_dir, "mask.npy")
        np.save(image_path, cls.photo[np.newaxis])
        np.save(mask_path, cls.mask[np.newaxis])
        encoded = {}
        for name, array in (("image_bytes", cls.photo), ("mask_bytes", cls.mask[..., 0])):
            encoded[name] = os.path.join(data_dir, name + ".png")
            with open(encoded[name], "wb") as handle:
                handle.write(_png_bytes(array))
        job = {"saved_model": cls.saved_model, "output_dir": cls.output_dir,
               "site_packages": _site_packages(),
               "photos": {"photo": {"image": image_path, "mask": mask_path}},
               "encoded": {"png": encoded}, "errors": {}}
        script_path, job_path = _write_loader_job(cls.root, job)

        cls.runs = {"export": _wait(exporter)}
        if cls.runs["export"][0] == 0:
            loader = subprocess.Popen(
                [sys.executable, "-I", "-S", script_path, job_path], cwd=cls.output_dir,
                env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            cls.runs["loader"] = _wait(loader)
        cls.outputs = None
        if cls.runs.get("loader", (1,))[0] == 0:
            with np.load(os.path.join(cls.output_dir, "outputs.npz")) as arrays:
                cls.outputs = dict(arrays)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)
        super().tearDownClass()

    def _require_loader_results(self):
        for name in ("export", "loader"):
            self.assertIn(name, self.runs, "the export failed, nothing was loaded")
            returncode, stderr = self.runs[name]
            self.assertEqual(returncode, 0, f"{name} failed:\n{stderr[-4000:]}")

    def _assert_matches_library(self, inpainted):
        self.assertEqual(inpainted.shape, self.photo.shape)
        difference = np.abs(inpainted.astype(np.int16) - self.reference.astype(np.int16))
        self.assertLessEqual(int(difference.max()), 1, "differs from inpaint_image")
        keep = self.mask[..., 0] < 128
        self.assertAllEqual(inpainted[keep], self.photo[keep])
        # The residual options changed the fill: the export did not run the paper's
        # aggregation instead.
        self.assertGreater(int(np.abs(inpainted.astype(np.int16)
                                      - self.papers_reference.astype(np.int16)).max()), 1)

    def test_metadata_records_the_whole_cra_config(self):
        self._require_loader_results()
        with open(os.path.join(self.saved_model, export.METADATA_PATH)) as handle:
            metadata = json.load(handle)
        self.assertEqual(metadata["cra_config"], dataclasses.asdict(self.config))
        # The scale is the network's: the exported generator carries it.
        self.assertEqual(metadata["generator_config"]["softmax_scale"], 30.0)

    def test_serving_default_matches_library_through_both_loaders(self):
        self._require_loader_results()
        for loader in ("tf1", "tf2"):
            with self.subTest(loader=loader):
                self._assert_matches_library(self.outputs[loader + "/photo"][0])

    def test_inpaint_bytes_matches_library(self):
        self._require_loader_results()
        for loader in ("tf1", "tf2"):
            with self.subTest(loader=loader):
                with open(os.path.join(self.output_dir, f"{loader}-png.png"), "rb") as handle:
                    self._assert_matches_library(_decode_png_rgb(handle.read()))

    def test_command_line_refuses_an_invalid_cra_combination_before_loading_weights(self):
        export_dir = os.path.join(self.create_tempdir().full_path, "models")
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                           PYTHONPATH=os.path.dirname(os.path.dirname(
                               os.path.abspath(export.__file__))))
        completed = subprocess.run(
            [sys.executable, "-m", "crainpaint.export", "--export_dir", export_dir,
             "--weights", os.path.join(self.root, "no_such_weights"),
             "--residual_blend=0.5", "--residual_top_k=0"],
            env=environment, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S,
            check=False)
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertIn("residual_blend needs residual_top_k >= 1", completed.stderr)
        self.assertFalse(os.path.exists(export_dir))


    def test_command_line_refuses_an_existing_version_or_a_file_before_loading_weights(self):
        base = self.create_tempdir().full_path
        os.makedirs(os.path.join(base, "models", "3"))
        a_file = os.path.join(base, "models.txt")
        with open(a_file, "w") as handle:
            handle.write("not a folder")
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                           PYTHONPATH=os.path.dirname(os.path.dirname(
                               os.path.abspath(export.__file__))))
        for flags, message in (
                (["--export_dir", os.path.join(base, "models"), "--version", "3"],
                 "Version 3 already exists at " + os.path.join(base, "models", "3")),
                (["--export_dir", a_file], f"--export_dir {a_file} is a file, not a folder")):
            with self.subTest(message=message):
                # The weights do not exist: had they been loaded first, that would be the error.
                completed = subprocess.run(
                    [sys.executable, "-m", "crainpaint.export", *flags,
                     "--weights", os.path.join(base, "no_such_weights")],
                    env=environment, capture_output=True, text=True,
                    timeout=SUBPROCESS_TIMEOUT_S, check=False)

                self.assertEqual(completed.returncode, 1, completed.stderr)
                self.assertIn(message, completed.stderr)
                self.assertNotIn("Traceback", completed.stderr)
                self.assertNotIn("cannot load the generator weights", completed.stderr)
        self.assertEqual(os.listdir(os.path.join(base, "models")), ["3"])

if __name__ == "__main__":
    tf.test.main()
