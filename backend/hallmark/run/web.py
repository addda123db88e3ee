"""The web process: the Flask app without background loops, for a production WSGI server (gunicorn).

No response names the server software or its version: gunicorn writes `Server: gunicorn` itself (it has no
setting for it), so `create()` renames it in the worker that loads the app; Werkzeug's development server
answers as `hallmark` with `RequestHandler`."""
from __future__ import annotations

import sys

from werkzeug.serving import WSGIRequestHandler

from .. import create_app
from ..config import Config

SERVER = "hallmark"


def hide_server_version() -> None:
    """gunicorn's `Server` header (and WSGI SERVER_SOFTWARE) without its name and version, in this process."""
    wsgi = sys.modules.get("gunicorn.http.wsgi")
    if wsgi is not None:
        wsgi.SERVER = wsgi.SERVER_SOFTWARE = SERVER


def create():
    """gunicorn's app factory: `gunicorn 'hallmark.run.web:create()'`."""
    hide_server_version()
    return create_app(Config(START_WORKERS=False))


class RequestHandler(WSGIRequestHandler):
    """For Werkzeug's server (`make_server(..., request_handler=RequestHandler)`): `Server: hallmark`."""

    def version_string(self) -> str:
        return SERVER
