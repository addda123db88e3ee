"""The web process: the Flask app without background loops, for a production WSGI server (gunicorn)."""
from __future__ import annotations

from .. import create_app
from ..config import Config


def create():
    """gunicorn's app factory: `gunicorn 'hallmark.run.web:create()'`."""
    return create_app(Config(START_WORKERS=False))
