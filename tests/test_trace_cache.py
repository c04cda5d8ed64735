"""The disk cache of traced pipeline functions (crainpaint/trace_cache.py).

A pipeline whose entry is on disk must call the stored graph instead of tracing, and give the
traced function's output bit for bit; an entry is only used for the same key, and the cache can
be turned off.
"""

import json
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

import crainpaint
from crainpaint import pipeline, trace_cache
from crainpaint.cra import CRAConfig
from tests import golden

_MODEL = []


def _bundled():
    if not _MODEL:
        _MODEL.append(crainpaint.load_pretrained())
    return _MODEL[0]


class TraceCacheTest(tf.test.TestCase):

    def setUp(self):
        super().setUp()
        self.directory = tempfile.mkdtemp(prefix="crainpaint_trace_cache_test_")
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        patcher = mock.patch.dict(os.environ, {trace_cache.CACHE_DIR_VARIABLE: self.directory,
                                               trace_cache.ENABLE_VARIABLE: "1"})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.photo, hole = golden.case("small")
        self.mask = hole[..., np.newaxis]

    def _entries(self):
        folder = os.path.join(self.directory, "traced")
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def _fresh_pipeline(self, config):
        # A new pipeline has no traced function yet: what a new process starts with.
        return pipeline.InpaintPipeline(_bundled(), config)

    def test_a_stored_entry_is_called_and_gives_the_traced_output(self):
        for config in (CRAConfig(), CRAConfig.paper()):
            traced_pipeline = self._fresh_pipeline(config)
            traced = traced_pipeline(self.photo, self.mask)
            self.assertIsNone(traced_pipeline.cached(np.bool_)._loaded)
            loaded_pipeline = self._fresh_pipeline(config)
            loaded = loaded_pipeline(self.photo, self.mask)
            self.assertIsNotNone(loaded_pipeline.cached(np.bool_)._loaded)
            # The stored graph was called, not traced again.
            self.assertEqual(loaded_pipeline.traced(np.bool_).experimental_get_tracing_count(),
                             0)
            self.assertAllEqual(loaded, traced)
        self.assertLen(self._entries(), 4)  # Two configs, a .json and a .pb each.

    def test_a_stored_entry_runs_with_the_callers_weights_not_the_storers(self):
        # The graph holds variable handles, not values: a generator of the same architecture
        # with other weights must get its own output from the stored graph.
        self._fresh_pipeline(CRAConfig())(self.photo, self.mask)
        other = crainpaint.load_pretrained()
        for variable in other.weights:
            variable.assign(variable * 0.9)
        loaded_pipeline = pipeline.InpaintPipeline(other, CRAConfig())
        loaded = loaded_pipeline(self.photo, self.mask)
        self.assertIsNotNone(loaded_pipeline.cached(np.bool_)._loaded)
        with mock.patch.dict(os.environ, {trace_cache.ENABLE_VARIABLE: "0"}):
            expected = pipeline.InpaintPipeline(other, CRAConfig())(self.photo, self.mask)
        bundled = self._fresh_pipeline(CRAConfig())(self.photo, self.mask)
        self.assertAllEqual(loaded, expected)
        self.assertNotAllEqual(loaded, bundled)

    def test_keys_differ_with_the_config_and_the_mask_kind(self):
        model = _bundled()
        keys = {json.dumps(trace_cache.entry_key(model, config, dtype, "white_hole"),
                           sort_keys=True)
                for config in (CRAConfig(), CRAConfig(seam="paste"))
                for dtype in (np.bool_, np.uint8)}
        self.assertLen(keys, 4)
        self.assertIsNone(trace_cache.entry_key(object(), CRAConfig(), np.bool_, "white_hole"))

    def test_an_entry_with_another_key_is_not_used(self):
        self._fresh_pipeline(CRAConfig())(self.photo, self.mask)
        (meta_name,) = [name for name in self._entries() if name.endswith(".json")]
        meta_path = os.path.join(self.directory, "traced", meta_name)
        with open(meta_path) as handle:
            meta = json.load(handle)
        meta["key"]["tensorflow"] = ["0.0.0", "unknown"]
        with open(meta_path, "w") as handle:
            json.dump(meta, handle)
        fresh = self._fresh_pipeline(CRAConfig())
        fresh(self.photo, self.mask)
        self.assertIsNone(fresh.cached(np.bool_)._loaded)
        self.assertEqual(fresh.traced(np.bool_).experimental_get_tracing_count(), 1)

    def test_turned_off_nothing_is_stored(self):
        with mock.patch.dict(os.environ, {trace_cache.ENABLE_VARIABLE: "0"}):
            self._fresh_pipeline(CRAConfig())(self.photo, self.mask)
        self.assertEqual(self._entries(), [])

    def test_function_names_get_the_entry_prefix(self):
        from tensorflow.core.framework import function_pb2
        library = function_pb2.FunctionDefLibrary()
        inner = library.function.add()
        inner.signature.name = "cond_true_1"
        outer = library.function.add()
        outer.signature.name = "run_2"
        node = outer.node_def.add()
        node.op = "StatelessIf"
        node.attr["then_branch"].func.name = "cond_true_1"
        node.attr["else_branch"].func.name = "elsewhere"
        trace_cache._rename_functions(library, "p_")
        self.assertEqual([function.signature.name for function in library.function],
                         ["p_cond_true_1", "p_run_2"])
        self.assertEqual(node.attr["then_branch"].func.name, "p_cond_true_1")
        self.assertEqual(node.attr["else_branch"].func.name, "elsewhere")


if __name__ == "__main__":
    tf.test.main()
