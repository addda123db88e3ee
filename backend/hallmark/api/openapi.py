"""What /openapi.json promises beyond each view's request and response schemas, so that it is the whole contract:
one error body for every error, the errors each operation can answer, response bodies that views build themselves
(cached bytes, plain dicts) and datetimes that always carry their time zone. schemathesis checks every answer of
the running app against it (tests/fuzz)."""
from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from http import HTTPStatus

from apispec import BasePlugin
from marshmallow import Schema, fields

from ..models import iso_utc


class ErrorSchema(Schema):
    """Every error answer, 4xx and 5xx (api/errors.py writes them)."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status code"})
    status = fields.String(required=True, metadata={"description": "its reason phrase"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for a person"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "per location (json, query, path, headers, files), per field: the messages"})


class UTCDateTime(fields.DateTime):
    """ISO 8601 with its time zone, e.g. 2024-02-10T08:00:00Z. The database keeps naive UTC: a naive value is UTC;
    an ISO string (a plain-dict view's) is re-read, so both come out the same way."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return iso_utc(value)


def _doc(view) -> dict:
    """The view's own copy of its apispec doc (functools.wraps shares the wrapped function's dict)."""
    view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    return view._apidoc


def add_responses(view, *codes: int) -> None:
    """Document error answers of the view, each with the shared error body (flask-smorest's lazy components,
    named after the status: NOT_FOUND, CONFLICT...)."""
    responses = _doc(view).setdefault("response", {}).setdefault("responses", {})
    for code in codes:
        listed = responses.setdefault(code, [])
        name = HTTPStatus(code).name
        if name not in listed:
            listed.append(name)


def errors(*codes: int):
    """Decorator: the view may answer these error statuses (below the route decorator)."""

    def decorator(view):
        add_responses(view, *codes)
        return view

    return decorator


def add_parameter(view, parameter: dict) -> None:
    """Document a parameter the view reads itself (a header)."""
    parameters = _doc(view).setdefault("arguments", {}).setdefault("parameters", [])
    if not any(p.get("name") == parameter["name"] and p.get("in") == parameter["in"] for p in parameters):
        parameters.append(parameter)


def add_manual(view, **doc) -> None:
    """Merge OpenAPI operation fields into the view's doc (`security`, a `requestBody` the view parses itself)."""
    manual = _doc(view).setdefault("manual_doc", {})
    for key, value in doc.items():
        manual.setdefault(key, value)


def body(content: dict, description: str | None = None):
    """Decorator: the request body of a view that parses it itself (multipart uploads), by content type."""

    def decorator(view):
        request_body = {"required": True, "content": content}
        if description:
            request_body["description"] = description
        add_manual(view, requestBody=request_body)
        return view

    return decorator


def answers(status: int, schema, description: str | None = None, content_type: str = "application/json"):
    """Decorator: document the body of a response that the view builds itself (cached JSON bytes, a plain dict
    passed through unchanged), without serialising through the schema."""

    def decorator(view):
        response = {"content": {content_type: {"schema": schema}}}
        if description:
            response["description"] = description
        manual = _doc(view).setdefault("manual_doc", {})
        manual.setdefault("responses", {}).setdefault(status, {}).update(response)
        return view

    return decorator


def link(statuses, name: str, path: str, method: str = "get", **parameters: str):
    """Decorator: an OpenAPI link from the view's answers with these statuses to the operation at `path`, its
    parameters taken from the answer (`"$response.body#/id"`), for clients and schemathesis' stateful phase."""

    def decorator(view):
        ref = "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method
        responses = _doc(view).setdefault("manual_doc", {}).setdefault("responses", {})
        for status in (statuses if isinstance(statuses, (list, tuple)) else (statuses,)):
            responses.setdefault(status, {}).setdefault("links", {})[name] = {
                "operationRef": ref, "parameters": parameters}
        return view

    return decorator


def upload(field: str = "file", description: str = "") -> dict:
    """A multipart/form-data body with one required file field."""
    return {"multipart/form-data": {"schema": {
        "type": "object", "required": [field],
        "properties": {field: {"type": "string", "format": "binary", "description": description}}}}}


class ContractPlugin(BasePlugin):
    """Errors that do not depend on a view's code: Flask's router answers 404 for a path whose parameters do not
    match their converters (and a view for one naming nothing), 422 for an integer above its converter's maximum
    (api/bounds.py); a URL with parameters can be too long (414); a request body can be malformed (400) or too
    large (413)."""

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs):
        converters = getattr(rule, "_converters", {}) if rule is not None else {}
        bounded = any(getattr(converter, "max", None) is not None for converter in converters.values())
        for method, operation in (operations or {}).items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            codes = []
            if path and "{" in path:
                codes.append(404)
            if bounded:
                codes.append(422)
            if converters or any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.append(414)  # gunicorn refuses a request line over 4094 bytes (run/gunicorn_worker.py)
            if "requestBody" in operation:
                codes += [400, 413]
            for code in codes:
                if not any(str(key) == str(code) for key in responses):
                    responses[code] = HTTPStatus(code).name
