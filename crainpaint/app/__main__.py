"""Serve the paint-and-inpaint page: ``python -m crainpaint.app [--port 7860] [--host 127.0.0.1]``.

Loads the generator once (the bundled one, or ``--weights``), keeps it warm, and serves the page
on the given address (127.0.0.1 by default: only this computer can reach it). Prints the address
to open. Photos larger than ``--max_pixels`` are refused with a message on the page.
"""

import sys

from absl import app
from absl import flags

_FLAGS = flags.FLAGS


def define_flags(flag_values=_FLAGS) -> None:
    """Defines the command's flags (called by `run`, not at import)."""
    from crainpaint.app.server import AppConfig
    defaults = AppConfig()
    flags.DEFINE_string("host", "127.0.0.1", "Address to listen on; 0.0.0.0 lets other "
                        "computers reach the page (it has no login).", flag_values=flag_values)
    flags.DEFINE_integer("port", 7860, "Port to listen on (0 = any free one; the address is "
                         "printed).", lower_bound=0, upper_bound=65535, flag_values=flag_values)
    flags.DEFINE_string("weights", None, "Folder with generator.npz + generator.json; default: "
                        "the bundled weights.", flag_values=flag_values)
    flags.DEFINE_integer("max_pixels", defaults.max_pixels, "Largest photo accepted, in pixels "
                         "(width × height); larger ones are refused with a message.",
                         lower_bound=1, flag_values=flag_values)
    flags.DEFINE_bool("warm_up", defaults.warm_up, "Trace the default pipeline once at start so "
                      "the first photo is not slower than the next ones.",
                      flag_values=flag_values)


def main(argv) -> int:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}; every option is a "
                             "--flag.")
    import uvicorn

    from crainpaint.app.server import AppConfig, bind_socket, create_app, server_url
    from crainpaint.pretrained import load_pretrained

    try:
        listener = bind_socket(_FLAGS.host, _FLAGS.port)
    except OSError as error:
        sys.stderr.write(f"crainpaint.app: error: {error}\n")
        return 1
    try:
        model = load_pretrained(_FLAGS.weights)
    except (ValueError, OSError, KeyError) as error:
        sys.stderr.write(f"crainpaint.app: error: cannot load the generator weights "
                         f"({_FLAGS.weights or 'bundled'}): {error}\n")
        return 1
    application = create_app(model, AppConfig(max_pixels=_FLAGS.max_pixels,
                                                  warm_up=_FLAGS.warm_up))
    print(f"crainpaint app: open {server_url(listener)} (Ctrl-C to stop)", flush=True)
    server = uvicorn.Server(uvicorn.Config(application, log_level="warning"))
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        # uvicorn has shut down (the app's files are removed) and passes Ctrl-C on.
        pass
    return 0


def run() -> None:
    """Entry point: defines the flags and runs `main`."""
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run()
