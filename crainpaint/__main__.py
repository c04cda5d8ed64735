"""`python -m crainpaint`: the inpainting command of `crainpaint.cli` (run it with --help)."""

import sys

from crainpaint import startup

# Before crainpaint.cli imports TensorFlow: its start-up lines stay off the terminal.
startup.import_tensorflow_quietly(sys.argv)

from crainpaint import cli  # noqa: E402  (after the quiet import, on purpose)

# absl's --help prints the __main__ module's docstring: the command's own.
__doc__ = cli.__doc__  # pylint: disable=redefined-builtin


def main() -> None:
    """The `crainpaint` console script (setup.py) and `python -m crainpaint`."""
    cli.run()


if __name__ == "__main__":
    main()
