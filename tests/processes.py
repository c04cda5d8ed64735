"""The environment of the subprocesses tests start: this checkout first on the import path.

A test that runs ``python -m crainpaint …`` must test these files, not another copy that an
editable install or the user's PYTHONPATH points at.
"""

import os

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def repository_environment(**overrides):
    """``os.environ`` with the repository first on PYTHONPATH and ``overrides`` applied."""
    environment = dict(os.environ, **overrides)
    others = [path for path in environment.get("PYTHONPATH", "").split(os.pathsep) if path]
    environment["PYTHONPATH"] = os.pathsep.join([REPOSITORY_ROOT] + others)
    return environment
