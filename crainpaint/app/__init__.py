"""Paint a mask in the browser: a local web app that inpaints full-resolution photos.

Run ``python -m crainpaint.app`` (or ``make app``) and open the printed address. The page opens
a photo, lets you paint over what to remove, and inpaints the full-resolution photo with the
library's one pipeline, ``crainpaint.inpaint``. See docs/app.md.

From Python: ``create_app(model, AppConfig())`` is the Starlette application;
``BackgroundServer(app)`` serves it on a thread. Needs the ``app`` extra
(``pip install crainpaint[app]``).
"""

try:
    from crainpaint.app.server import AppConfig, BackgroundServer, Inpainter, create_app
except ImportError as error:  # pragma: no cover (the message is the point)
    raise ImportError(f"The crainpaint app needs packages that are not installed ({error}); "
                      "install them with `pip install crainpaint[app]` (or `make install`)."
                      ) from error

__all__ = ["AppConfig", "BackgroundServer", "Inpainter", "create_app"]
