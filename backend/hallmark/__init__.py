"""Hallmark backend: the Flask application factory."""
from __future__ import annotations

from flask import Flask

from .config import Config


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping((config or Config()).as_flask())

    from .api import health

    app.register_blueprint(health.bp)
    return app
