"""Webhook endpoints for admins: register (the signing secret shown once), list, disable, rotate the secret, read
the delivery log, redeliver, send a test ping. Every change is audited; no answer but creation and rotation
carries a secret, and the database holds it sealed."""
from __future__ import annotations

import json
import secrets

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import func, select

from ..access import audit
from ..access.permissions import requires
from ..db import get_db
from ..models import utcnow
from ..security.sealing import sealer_for
from ..webhooks import events
from ..webhooks.delivery import secret_context, url_problem
from ..webhooks.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .openapi import errors
from .webhook_schemas import (DeliverySchema, EndpointCreatedSchema, EndpointCreateSchema, EndpointSchema,
                              EventTypeSchema, SecretSchema)

bp = Blueprint("webhooks", __name__, url_prefix="/api", description="Webhooks to partner systems (admins)")
DELIVERY_PAGE = 100


def _new_secret(endpoint: WebhookEndpoint) -> str:
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint.secret = sealer_for(current_app).seal(secret, secret_context(endpoint.id))
    return secret


def _view(s, endpoint: WebhookEndpoint) -> dict:
    counts = dict(s.execute(select(WebhookDelivery.status, func.count()).where(
        WebhookDelivery.endpoint_id == endpoint.id).group_by(WebhookDelivery.status)).all())
    return {"id": endpoint.id, "name": endpoint.name, "url": endpoint.url, "events": endpoint.events.split(),
            "drop_ids": [int(d) for d in endpoint.drop_ids.split()] if endpoint.drop_ids else None,
            "created_at": endpoint.created_at, "disabled_at": endpoint.disabled_at,
            **{k: counts.get(k, 0) for k in ("pending", "delivered", "failed")}}


def _audited(view: dict) -> dict:
    return {k: view[k] for k in ("name", "url", "events", "drop_ids", "disabled_at")}


def _load(s, endpoint_id: int, active: bool = False) -> WebhookEndpoint:
    endpoint = s.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404, message=f"no webhook endpoint {endpoint_id}")
    if active and endpoint.disabled_at is not None:
        abort(409, message=f"webhook endpoint {endpoint_id} is disabled")
    return endpoint


@bp.route("/webhooks")
class Endpoints(MethodView):
    @requires("webhooks.manage")
    @bp.response(200, EndpointSchema(many=True))
    def get(self):
        """Every endpoint, newest first, disabled ones included, with its deliveries counted by status."""
        with get_db().session() as s:
            return [_view(s, e) for e in s.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc()))]

    @requires("webhooks.manage")
    @errors(422)
    @bp.arguments(EndpointCreateSchema)
    @bp.response(201, EndpointCreatedSchema)
    def post(self, data):
        """Register an endpoint for some event types (and optionally some drops). The signing secret is in this
        answer only: each POST carries `Hallmark-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`."""
        problem = url_problem(data["url"], current_app.config["WEBHOOK_ALLOW_PRIVATE"])
        if problem:
            abort(422, message=f"url {problem}", errors={"json": {"url": [problem]}})
        drop_ids = sorted(set(data["drop_ids"])) if data["drop_ids"] else None
        with get_db().session() as s:
            endpoint = WebhookEndpoint(name=data["name"], url=data["url"], events=" ".join(sorted(set(data["events"]))),
                                       drop_ids=" ".join(map(str, drop_ids)) if drop_ids else None, secret="",
                                       created_by=g.principal.id if g.principal.kind == "staff" else None)
            s.add(endpoint)
            s.flush()
            secret = _new_secret(endpoint)
            shown = _view(s, endpoint)
            audit.record(s, "webhook.create", "webhook_endpoint", endpoint.id, after=_audited(shown))
        return {**shown, "secret": secret}


@bp.route("/webhooks/event-types")
@requires("webhooks.manage")
@bp.response(200, EventTypeSchema(many=True))
def event_types():
    """The event types an endpoint can subscribe to."""
    return [{"type": t, "description": d} for t, d in events.TYPES.items()]


@bp.route("/webhooks/<int:endpoint_id>/disable", methods=["POST"])
@requires("webhooks.manage")
@errors(404)
@bp.response(200, EndpointSchema)
def disable(endpoint_id):
    """Stop sending to an endpoint: no new deliveries, and its pending ones wait (they are not sent)."""
    with get_db().session() as s:
        endpoint = _load(s, endpoint_id)
        before = _audited(_view(s, endpoint))
        if endpoint.disabled_at is None:
            endpoint.disabled_at = utcnow()
            shown = _view(s, endpoint)
            audit.record(s, "webhook.disable", "webhook_endpoint", endpoint_id, before=before, after=_audited(shown))
        return _view(s, endpoint)


@bp.route("/webhooks/<int:endpoint_id>/rotate", methods=["POST"])
@requires("webhooks.manage")
@errors(404, 409)
@bp.response(200, SecretSchema)
def rotate(endpoint_id):
    """A new signing secret, in this answer only; the old one signs nothing from now on."""
    with get_db().session() as s:
        endpoint = _load(s, endpoint_id, active=True)
        secret = _new_secret(endpoint)
        audit.record(s, "webhook.rotate_secret", "webhook_endpoint", endpoint_id)
    return {"id": endpoint_id, "secret": secret}


@bp.route("/webhooks/<int:endpoint_id>/ping", methods=["POST"])
@requires("webhooks.manage")
@errors(404, 409)
@bp.response(202, DeliverySchema)
def ping(endpoint_id):
    """Queue a test `ping` event to this endpoint only; poll its deliveries for the outcome."""
    with get_db().session() as s:
        endpoint = _load(s, endpoint_id, active=True)
        event = OutboxEvent(event_id=events.random_id(), type=events.PING, drop_id=None, fanned_out=True,
                            payload=json.dumps({"endpoint_id": endpoint_id}))
        s.add(event)
        s.flush()
        delivery = WebhookDelivery(event_id=event.id, endpoint_id=endpoint_id)
        s.add(delivery)
        s.flush()
        audit.record(s, "webhook.ping", "webhook_endpoint", endpoint_id, after={"event_id": event.event_id})
        return _delivery_views(s, [delivery])[0]


@bp.route("/webhooks/<int:endpoint_id>/deliveries")
@requires("webhooks.manage")
@errors(404)
@bp.response(200, DeliverySchema(many=True))
def deliveries(endpoint_id):
    """The endpoint's latest deliveries, newest first, each with every attempt (status code or error, duration)."""
    with get_db().session() as s:
        _load(s, endpoint_id)
        rows = list(s.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                              .order_by(WebhookDelivery.id.desc()).limit(DELIVERY_PAGE)))
        return _delivery_views(s, rows)


@bp.route("/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@requires("webhooks.manage")
@errors(404, 409)
@bp.response(202, DeliverySchema)
def redeliver(delivery_id):
    """Send a delivery again now, with the same event id and body (a failed one gets a fresh round of retries)."""
    with get_db().session() as s:
        delivery = s.get(WebhookDelivery, delivery_id)
        if delivery is None:
            abort(404, message=f"no webhook delivery {delivery_id}")
        _load(s, delivery.endpoint_id, active=True)
        before = {"status": delivery.status, "attempts": delivery.attempts}
        delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
        audit.record(s, "webhook.redeliver", "webhook_delivery", delivery_id, before=before,
                     after={"status": "pending"})
        return _delivery_views(s, [delivery])[0]


def _delivery_views(s, rows: list[WebhookDelivery]) -> list[dict]:
    ids = [d.id for d in rows]
    log: dict[int, list] = {i: [] for i in ids}
    for a in s.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.id)):
        log[a.delivery_id].append({"at": a.at, "status_code": a.status_code, "error": a.error,
                                   "duration_ms": a.duration_ms})
    outbox = {e.id: e for e in s.scalars(select(OutboxEvent).where(OutboxEvent.id.in_([d.event_id for d in rows])))}
    return [{"id": d.id, "endpoint_id": d.endpoint_id, "event_id": outbox[d.event_id].event_id,
             "type": outbox[d.event_id].type, "drop_id": outbox[d.event_id].drop_id, "status": d.status,
             "attempts": d.attempts, "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
             "delivered_at": d.delivered_at, "created_at": d.created_at, "log": log[d.id]} for d in rows]
