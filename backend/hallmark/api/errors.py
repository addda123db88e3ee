"""Every error is JSON: {code, status, message, errors?}; validation errors name the field."""
from __future__ import annotations

import logging

import requests
from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from ..chain.deployment import DeploymentMissing
from ..minting.drops import DropError
from ..services import ChainUnavailable

log = logging.getLogger(__name__)


def error_response(status: int, message: str, field: str | None = None):
    body = {"code": status, "status": _reason(status), "message": message}
    if field:
        body["errors"] = {"json": {field: [message]}}
    return jsonify(body), status


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def init_app(app: Flask) -> None:
    @app.errorhandler(DropError)
    def _drop_error(exc: DropError):
        return error_response(exc.status, str(exc), exc.field)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        body = {"code": 422, "status": "Unprocessable Entity", "message": "invalid request",
                "errors": {"json": exc.messages}}
        return jsonify(body), 422

    @app.errorhandler(ChainUnavailable)
    @app.errorhandler(DeploymentMissing)
    def _chain_unavailable(exc):
        return error_response(503, f"the chain is not available: {exc}")

    @app.errorhandler(requests.exceptions.ConnectionError)
    @app.errorhandler(requests.exceptions.Timeout)
    def _node_unreachable(exc):
        # a read that needed the node (an unindexed address, an ownership check) decides nothing when it fails
        return error_response(503, "the chain is not available: the node did not answer; try again shortly")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # flask-smorest's abort() puts validation details in exc.data
        data = getattr(exc, "data", None) or {}
        body = {"code": exc.code, "status": exc.name, "message": data.get("message", exc.description)}
        if "messages" in data:
            body["errors"] = data["messages"]
        elif "errors" in data:
            body["errors"] = data["errors"]
        headers = dict(data.get("headers") or {})
        if exc.code == 405 and exc.response is None and hasattr(exc, "valid_methods") and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        return jsonify(body), exc.code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal error (logged on the server)")
