"""`python -m crainpaint.inpaint`: the `crainpaint` command under the module name it once had.

The command lives in ``crainpaint.cli`` (``crainpaint`` or ``python -m crainpaint``);
``crainpaint.inpaint`` is the inference function (``crainpaint.api.inpaint``). Importing this
file as a module would bind the package attribute ``crainpaint.inpaint`` to the module and hide
the function, so it only runs as a script and refuses to be imported.
"""

if __name__ == "__main__":
    import sys

    from crainpaint import startup

    startup.import_tensorflow_quietly(sys.argv)
    from crainpaint import cli

    __doc__ = cli.__doc__  # pylint: disable=redefined-builtin  (absl's --help text)
    cli.run()
else:
    raise ImportError(
        "crainpaint.inpaint is the inference function, not a module: call "
        "crainpaint.inpaint(image, mask, model) after `import crainpaint`; the command's code "
        "is in crainpaint.cli (run it as `crainpaint` or `python -m crainpaint`).")
