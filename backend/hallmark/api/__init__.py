"""HTTP blueprints: they validate, authorise and call services; they never touch the chain themselves."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from . import (api_keys, approvals, art, audit, claims, custody, drops, errors, health, ledger, pages, redemptions, staff,
               stats, vendor, verify, webhooks)
from ..access import sessions
from ..access.permissions import public
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
    api.spec.components.security_scheme("ApiKey", {
        "type": "http", "scheme": "bearer",
        "description": "a partner system's API key (made by an admin in the console, or `hallmark apikey create`), "
                       "as `Authorization: Bearer <key>`; its scopes and drops decide what it may do"})
    api.spec.components.security_scheme("Session", {
        "type": "apiKey", "in": "cookie", "name": sessions.COOKIE,
        "description": "a staff member signed in to the console (POST /api/session); writes also need the "
                       "X-CSRF-Token header that GET /api/session returns"})
    for blueprint in (health.bp, drops.bp, approvals.bp, stats.bp, art.bp, claims.bp, verify.bp, staff.bp,
                      api_keys.bp, redemptions.bp, ledger.bp, webhooks.bp, audit.bp, custody.bp):
        api.register_blueprint(blueprint)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(pages.bp)
    errors.init_app(app)
    for endpoint in ("api-docs.openapi_json", "api-docs.openapi_swagger_ui"):  # the API's own description
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = _public(app.view_functions[endpoint])
    return api


def _public(view):
    """flask-smorest's own views are bound methods, which take no attributes: declare them through a wrapper."""
    def described(*args, **kwargs):
        return view(*args, **kwargs)
    return public(described)
