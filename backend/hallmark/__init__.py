"""Hallmark backend: the Flask application factory."""
from __future__ import annotations

import atexit
import logging

from flask import Flask

from .config import Config

log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping((config or Config()).as_flask())

    from . import api, db
    from .api import bounds
    from .api import headers, ratelimit
    from .services import Services

    database = db.init_app(app)
    bounds.init_app(app)  # first: the blueprints bind its converters
    api.init_app(app)
    headers.init_app(app)
    ratelimit.init_app(app)  # after the blueprints: it wraps the views they mark
    try:
        services = Services.build(app.config, database)
    except Exception as exc:  # the app still serves health and public pages, and says why minting is off
        log.warning("chain services unavailable: %s", exc)
        app.extensions["hallmark.services_error"] = str(exc)
    else:
        app.extensions["hallmark.services"] = services
        if app.config["START_WORKERS"]:  # the embedded mode: the worker and the indexer as threads
            services.start()
            atexit.register(services.stop)
    return app
