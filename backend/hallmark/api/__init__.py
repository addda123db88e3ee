"""HTTP blueprints: they validate, authorise and call services; they never touch the chain themselves."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from . import art, claims, drops, errors, health, pages, stats, vendor, verify
from .auth import SECURITY_SCHEME
from .openapi import ContractPlugin, ErrorSchema

SETTINGS = {
    "API_TITLE": "Hallmark",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/vendor/swagger-ui/",
}


class HallmarkApi(Api):
    """Every error has one body (ErrorSchema); each operation lists the errors it can answer, instead of a catch-all
    `default` response, so that a status an operation does not list is a contract violation."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


def init_app(app: Flask) -> Api:
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    api = HallmarkApi(app, spec_kwargs={"extra_plugins": [ContractPlugin()]})
    api.spec.components.security_scheme(SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer",
        "description": "a staff API key (`hallmark apikey create`), as `Authorization: Bearer <key>`; its role "
                       "(marketing or admin) decides what it may do"})
    for blueprint in (health.bp, drops.bp, stats.bp, art.bp, claims.bp, verify.bp):
        api.register_blueprint(blueprint)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(pages.bp)
    errors.init_app(app)
    return api
