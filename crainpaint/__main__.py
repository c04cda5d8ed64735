"""`python -m crainpaint`: the inpainting command of `crainpaint.cli` (run it with --help)."""

from crainpaint import cli

# absl's --help prints the __main__ module's docstring: the command's own.
__doc__ = cli.__doc__  # pylint: disable=redefined-builtin

if __name__ == "__main__":
    cli.run()
