"""HTTP blueprints: they validate, authorise and call services; they never touch the chain themselves."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from . import art, claims, drops, errors, health, pages, stats, vendor, verify

SETTINGS = {
    "API_TITLE": "Hallmark",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/vendor/swagger-ui/",
}


def init_app(app: Flask) -> Api:
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    api = Api(app)
    api.spec.components.security_scheme("ApiKey", {"type": "http", "scheme": "bearer"})
    for blueprint in (health.bp, drops.bp, stats.bp, art.bp, claims.bp, verify.bp):
        api.register_blueprint(blueprint)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(pages.bp)
    errors.init_app(app)
    return api
