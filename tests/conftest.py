"""pytest setup shared by all tests: quiet TensorFlow logs, import crainpaint without installing
it, and let tf.test.TestCase helpers run outside absltest.main."""

import atexit
import os
import shutil
import sys
import tempfile

# Set before any test imports TensorFlow; C++ INFO/WARNING lines only bury pytest's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The traced pipelines a test run stores (crainpaint.trace_cache) go to a folder of its own, not
# the user's cache; the commands the tests start inherit it.
if "CRAINPAINT_CACHE_DIR" not in os.environ:
    _TEST_CACHE_DIR = tempfile.mkdtemp(prefix="crainpaint_test_cache_")
    os.environ["CRAINPAINT_CACHE_DIR"] = _TEST_CACHE_DIR
    atexit.register(shutil.rmtree, _TEST_CACHE_DIR, ignore_errors=True)

# Lets `pytest tests` run from a plain checkout; an editable install finds the same files.
_REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPOSITORY_ROOT not in sys.path:
    sys.path.insert(0, _REPOSITORY_ROOT)

from absl import flags  # noqa: E402  (after the environment above, on purpose)

# tf.test.TestCase.create_tempdir/get_temp_dir read absl's --test_tmpdir, which only
# absltest.main parses; under pytest they raise UnparsedFlagAccessError without this.
# Defaults are used (a fresh temporary directory); tests that parse argv still can.
if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
