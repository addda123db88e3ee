"""Headers on every response: no MIME sniffing, no framing (X-Frame-Options and CSP frame-ancestors), no
Referer, and a Content-Security-Policy: the pages' own (scripts from this origin only, no inline code) on every
HTML page including /docs, and `default-src 'none'` on everything else.

/docs is Swagger UI served from our copy of swagger-ui-dist, started by frontend/static/js/swagger-init.js
rather than flask-smorest's inline script, so that the page needs no 'unsafe-inline' script."""
from __future__ import annotations

import json
import re
import uuid

from flask import Flask, Response, current_app, g, request, url_for
from markupsafe import escape

from ..access.permissions import public
from .pages import CSP as PAGE_CSP

OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"

DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{ui}swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}" data-config="{config}"></div>
  <script src="{ui}swagger-ui-bundle.js"></script>
  <script src="/static/js/swagger-init.js"></script>
</body>
</html>
"""


def request_id() -> None:
    """Each request's id (the proxy's X-Request-Id when it is a plain token, else a new one): audit entries carry
    it and the response echoes it, so a complaint can be matched to its entry."""
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if re.fullmatch(r"[A-Za-z0-9._-]{8,64}", given) else uuid.uuid4().hex


def secure(response: Response) -> Response:
    headers = response.headers
    if "request_id" in g:
        headers.setdefault("X-Request-Id", g.request_id)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = PAGE_CSP if response.mimetype == "text/html" else OTHER_CSP
    return response


def docs() -> Response:
    """Swagger UI for /openapi.json, without inline script."""
    cfg = current_app.config
    html = DOCS_PAGE.format(
        title=escape(cfg.get("API_TITLE", "API")), ui=escape(cfg.get("OPENAPI_SWAGGER_UI_URL", "/vendor/swagger-ui/")),
        spec=escape(url_for("api-docs.openapi_json")),
        config=escape(json.dumps(cfg.get("OPENAPI_SWAGGER_UI_CONFIG", {}))))
    return Response(html, mimetype="text/html")


def init_app(app: Flask) -> None:
    app.before_request(request_id)
    app.after_request(secure)
    if DOCS_ENDPOINT in app.view_functions:
        app.view_functions[DOCS_ENDPOINT] = public(docs)
