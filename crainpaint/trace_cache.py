"""A disk cache of the traced inpainting function, so that a fresh process does not trace it again.

Tracing the pipeline (the generator's Keras layers and the CRA, about 5,000 graph nodes built
one by one from Python) is over a second of a cold ``crainpaint`` command, every time. The
traced function's graph does not hold the weights: they enter it as captured variable handles.
So its FunctionDef and the functions it calls are stored once, and a later process registers
them with the TensorFlow runtime (about 15 ms) and calls them with its own generator's
variables. It runs the same graph, through the same graph optimisation, so every output bit is
the same as after tracing.

An entry is used only when everything the graph is built from is the same: this package's
source files, the TensorFlow and Keras versions, the generator's class, configuration, dtype
policy and variables (paths, shapes and dtypes, not values), the ``CRAConfig`` and the mask
kind. The whole key is stored with the entry and compared on load, not only its hash.

Entries live in ``$CRAINPAINT_CACHE_DIR/traced`` (default ``~/.cache/crainpaint/traced``, about
1 MB each, the 16 most recently used kept); ``CRAINPAINT_TRACE_CACHE=0`` turns the cache off.
Any failure to read or write it falls back to tracing, silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import threading

import numpy as np
import tensorflow as tf

CACHE_DIR_VARIABLE = "CRAINPAINT_CACHE_DIR"
ENABLE_VARIABLE = "CRAINPAINT_TRACE_CACHE"
# Bump when the stored format or the way entries are called changes.
FORMAT_VERSION = 1
MAX_ENTRIES = 16

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_SOURCE_DIGEST = None
_REGISTER_LOCK = threading.Lock()


def enabled() -> bool:
    """False when ``CRAINPAINT_TRACE_CACHE`` is 0/false/no/off, or functions run eagerly."""
    if os.environ.get(ENABLE_VARIABLE, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return not tf.config.functions_run_eagerly()


def cache_dir() -> str:
    """The folder of the entries."""
    root = os.environ.get(CACHE_DIR_VARIABLE) or os.path.join("~", ".cache", "crainpaint")
    return os.path.join(os.path.expanduser(root), "traced")


def source_digest() -> str:
    """SHA-256 of every Python file of this package (relative path and content)."""
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        hasher = hashlib.sha256()
        for directory, subdirectories, files in os.walk(_PACKAGE_DIR):
            subdirectories.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    hasher.update(os.path.relpath(path, _PACKAGE_DIR).encode() + b"\0")
                    with open(path, "rb") as handle:
                        hasher.update(handle.read() + b"\0")
        _SOURCE_DIGEST = hasher.hexdigest()
    return _SOURCE_DIGEST


def _keras_model(generator):
    """The Keras model holding the generator's variables (a wrapper's ``generator``), or None."""
    import keras
    for candidate in (generator, getattr(generator, "generator", None)):
        if isinstance(candidate, keras.Model):
            return candidate
    return None


def entry_key(generator, config, mask_dtype, mask_convention):
    """The key material of a traced function (a JSON-able dict), or None when not cacheable."""
    import keras
    model = _keras_model(generator)
    generator_config = getattr(model, "config", None)
    if model is None or not hasattr(generator_config, "to_dict"):
        return None
    return {
        "format": FORMAT_VERSION,
        "source": source_digest(),
        "tensorflow": [tf.version.VERSION, tf.version.GIT_VERSION],
        "keras": keras.__version__,
        "python": list(sys.version_info[:2]),
        "generator": [type(generator).__module__ + "." + type(generator).__qualname__,
                      type(model).__module__ + "." + type(model).__qualname__],
        "generator_config": generator_config.to_dict(),
        "dtype_policy": keras.config.dtype_policy().name,
        "variables": [[variable.path, list(variable.shape), str(variable.dtype)]
                      for variable in model.weights],
        "cra_config": dataclasses.asdict(config),
        "mask": [np.dtype(mask_dtype).name, mask_convention],
    }


def _digest(key) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _rename_functions(library, prefix):
    """Prefixes every function name of ``library`` (a FunctionDefLibrary) and every reference
    to them, so that the entry's functions never clash with ones this process traced."""
    names = {function.signature.name for function in library.function}

    def rename_attr(value):
        if value.HasField("func") and value.func.name in names:
            value.func.name = prefix + value.func.name
        if value.HasField("list"):
            for function in value.list.func:
                if function.name in names:
                    function.name = prefix + function.name

    for function in library.function:
        function.signature.name = prefix + function.signature.name
        for value in function.attr.values():
            rename_attr(value)
        for node in function.node_def:
            if node.op in names:
                node.op = prefix + node.op
            for value in node.attr.values():
                rename_attr(value)
    return library


class CachedFunction:
    """Calls ``function`` (the pipeline's tf.function of (image, mask)) through the disk cache.

    The first call of a process looks the entry up; on a hit the stored graph is registered
    and called with the generator's variables, on a miss ``function`` is traced and called as
    usual and its graph stored for the next process.
    """

    def __init__(self, function, generator, config, mask_dtype, mask_convention):
        self.function = function
        self.generator = generator
        self.mask_dtype = tf.as_dtype(mask_dtype)
        self._key = entry_key(generator, config, mask_dtype, mask_convention)
        self._loaded = None  # (function name, output count, variable handles)
        self._looked_up = False
        self._stored = False

    def __call__(self, image, mask):
        if self._key is None or not enabled():
            return self.function(image, mask)
        if not self._looked_up:
            self._looked_up = True
            self._loaded = self._load()
        if self._loaded is not None:
            name, outputs, handles = self._loaded
            from tensorflow.python.eager import context
            inputs = [tf.convert_to_tensor(image, tf.uint8),
                      tf.convert_to_tensor(mask, self.mask_dtype)]
            return context.context().call_function(name, inputs + handles, outputs)[0]
        result = self.function(image, mask)
        if not self._stored:
            self._stored = True
            self._store()
        return result

    def _paths(self):
        digest = _digest(self._key)
        base = os.path.join(cache_dir(), digest)
        return digest, base + ".json", base + ".pb"

    def _load(self):
        try:
            from tensorflow.core.framework import function_pb2
            from tensorflow.python.eager import context
            digest, meta_path, library_path = self._paths()
            if not os.path.exists(meta_path):
                return None
            with open(meta_path) as handle:
                meta = json.load(handle)
            if meta.get("key") != json.loads(json.dumps(self._key)):
                return None
            with open(library_path, "rb") as handle:
                library = function_pb2.FunctionDefLibrary.FromString(handle.read())
            if hashlib.sha256(library.SerializeToString(deterministic=True)).hexdigest() != (
                    meta.get("library_sha256")):
                return None
            variables = {variable.path: variable for variable in
                         _keras_model(self.generator).weights}
            handles = [variables[path].value.handle for path in meta["captures"]]
            eager = context.context()
            eager.ensure_initialized()
            with _REGISTER_LOCK:
                for function in library.function:
                    if not eager.has_function(function.signature.name):
                        eager.add_function_def(function)
            try:
                os.utime(meta_path)
            except OSError:
                pass
            return meta["function"].encode(), int(meta["outputs"]), handles
        except Exception:  # noqa: BLE001  (a damaged or foreign entry: trace instead)
            return None

    def _store(self):
        try:
            from tensorflow.core.framework import function_pb2
            concrete = self.function.get_concrete_function()
            handles = {id(variable.value.handle): variable.path for variable in
                       _keras_model(self.generator).weights}
            captures = [handles.get(id(tensor)) for tensor in concrete.captured_inputs]
            if None in captures:
                return  # Something other than the generator's variables is captured.
            digest, meta_path, library_path = self._paths()
            library = function_pb2.FunctionDefLibrary()
            library.function.extend(concrete.graph.as_graph_def().library.function)
            library.function.append(concrete.function_def)
            main = concrete.function_def.signature.name
            prefix = f"crainpaint_{digest[:16]}_"
            library = _rename_functions(library, prefix)
            serialized = library.SerializeToString(deterministic=True)
            meta = {"key": self._key, "function": prefix + main,
                    "outputs": len(concrete.function_def.signature.output_arg),
                    "captures": captures,
                    "library_sha256": hashlib.sha256(serialized).hexdigest()}
            os.makedirs(os.path.dirname(meta_path), exist_ok=True)
            suffix = f".tmp{os.getpid()}"
            with open(library_path + suffix, "wb") as handle:
                handle.write(serialized)
            os.replace(library_path + suffix, library_path)
            with open(meta_path + suffix, "w") as handle:
                json.dump(meta, handle)
            os.replace(meta_path + suffix, meta_path)
            _prune(os.path.dirname(meta_path))
        except Exception:  # noqa: BLE001  (a read-only home, a full disk: no cache)
            return


def _prune(directory, keep=MAX_ENTRIES):
    """Deletes all but the ``keep`` most recently used entries."""
    entries = []
    for name in os.listdir(directory):
        if name.endswith(".json"):
            path = os.path.join(directory, name)
            try:
                entries.append((os.path.getmtime(path), path[:-len(".json")]))
            except OSError:
                pass
    for _, base in sorted(entries, reverse=True)[keep:]:
        for path in (base + ".json", base + ".pb"):
            try:
                os.remove(path)
            except OSError:
                pass
