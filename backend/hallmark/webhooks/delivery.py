"""Sends the outbox to partners' endpoints: fan-out, then signed POSTs with retries.

Fan-out turns each new outbox event into one delivery per active endpoint subscribed to its type (and drop).
A delivery is claimed by moving its `next_attempt_at` past the send's timeout with a conditional UPDATE (after
`FOR UPDATE SKIP LOCKED` on PostgreSQL), then sent outside any database transaction: a deliverer that dies
mid-send leaves the delivery due again once the claim runs out, so every event arrives at least once and
receivers de-duplicate on `Hallmark-Event-Id`. The Deliverer loop holds its own lease ("webhooks"): one active
per database, in the worker process (or the embedded app), standbys elsewhere; the conditional claim still keeps
two deliverers (one that lost its lease mid-step) from sending the same attempt twice.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from ..db import Database
from ..models import utcnow
from ..run.loop import LeasedLoop
from ..security.sealing import Sealer, load_key
from . import events
from .models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint

BATCH = 8  # deliveries sent at once per step, each on its own thread: a step lasts about one timeout at most
FAN_OUT_BATCH = 200
MAX_BACKOFF_SECONDS = 3600.0
CLAIM_MARGIN_SECONDS = 10.0


def secret_context(endpoint_id: int) -> str:
    return f"webhook-secret:{endpoint_id}"


def url_problem(url: str, allow_private: bool) -> str | None:
    """Why `url` may not receive webhooks, or None. Without `allow_private` every address the host resolves to
    must be public: a partner URL must not reach the bank's own network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"host {parts.hostname} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return f"host {parts.hostname} is a private address ({address}); set HALLMARK_WEBHOOK_ALLOW_PRIVATE=1 " \
                   "to allow it"
    return None


def signature(secret: str, timestamp: str, body: str) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: following it would resend the body to an address never checked."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(url: str, secret: str, event_id: str, event_type: str, body: str, timeout: float,
         allow_private: bool) -> Outcome:
    started = time.monotonic()
    timestamp = str(int(time.time()))
    code = error = None
    problem = url_problem(url, allow_private)
    if problem:
        return Outcome(None, f"refused: {problem}", 0)
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Hallmark-Webhooks/1",
        "Hallmark-Event-Id": event_id, "Hallmark-Event-Type": event_type, "Hallmark-Timestamp": timestamp,
        "Hallmark-Signature": signature(secret, timestamp, body)})
    try:
        with _opener.open(request, timeout=timeout) as response:
            code = response.status
            response.read(4096)
    except urllib.error.HTTPError as exc:
        code = exc.code
    except urllib.error.URLError as exc:
        error = str(exc.reason)[:300]
    except (OSError, ValueError) as exc:  # timeouts, resets, bad URLs
        error = f"{type(exc).__name__}: {exc}"[:300]
    return Outcome(code, error, int((time.monotonic() - started) * 1000))


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling from `base`, at most an hour."""
    return min(base * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)


def subscribed(endpoint: WebhookEndpoint, event: OutboxEvent) -> bool:
    if event.type not in endpoint.events.split():
        return False
    return endpoint.drop_ids is None or (event.drop_id is not None and str(event.drop_id) in endpoint.drop_ids.split())


def fan_out(db: Database, limit: int = FAN_OUT_BATCH) -> int:
    """One delivery per matching endpoint for each new event; returns how many events were fanned out."""
    with db.session() as s:
        new = list(s.scalars(select(OutboxEvent).where(OutboxEvent.fanned_out.is_(False)).order_by(OutboxEvent.id)
                             .limit(limit).with_for_update(skip_locked=True)))
        if not new:
            return 0
        endpoints = list(s.scalars(select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))))
        for event in new:
            for endpoint in endpoints:
                if subscribed(endpoint, event):
                    s.add(WebhookDelivery(event_id=event.id, endpoint_id=endpoint.id))
            event.fanned_out = True
    return len(new)


@dataclass
class Claimed:
    delivery_id: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: str


def claim_due(db: Database, sealer: Sealer, limit: int, hold_seconds: float) -> list[Claimed]:
    now = utcnow()
    claimed = []
    with db.session() as s:
        due = list(s.execute(
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                   WebhookEndpoint.disabled_at.is_(None))
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)))
        for delivery_id, was_due in due:
            taken = s.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at == was_due
            ).values(next_attempt_at=now + timedelta(seconds=hold_seconds))).rowcount
            if not taken:
                continue
            delivery = s.get(WebhookDelivery, delivery_id)
            event, endpoint = s.get(OutboxEvent, delivery.event_id), s.get(WebhookEndpoint, delivery.endpoint_id)
            claimed.append(Claimed(delivery_id, endpoint.url, sealer.open(endpoint.secret, secret_context(endpoint.id)),
                                   event.event_id, event.type, events.body(event)))
    return claimed


def record(db: Database, delivery_id: int, outcome: Outcome, max_attempts: int, retry_seconds: float) -> None:
    now = utcnow()
    with db.session() as s:
        delivery = s.get(WebhookDelivery, delivery_id)
        s.add(WebhookAttempt(delivery_id=delivery_id, at=now, status_code=outcome.status_code,
                             error=outcome.error, duration_ms=outcome.duration_ms))
        delivery.attempts += 1
        if outcome.ok:
            delivery.status, delivery.delivered_at = "delivered", now
        elif delivery.attempts >= max_attempts:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff(delivery.attempts, retry_seconds))


class Deliverer(LeasedLoop):
    kind = "webhooks"

    def __init__(self, config: dict, db: Database):
        super().__init__(config, db)
        self.tick = config.get("WEBHOOK_TICK_SECONDS", 0.5)
        self.sealer = Sealer(load_key(config.get("RESPONSE_KEY"), config["DATA_DIR"]))
        self.pool = ThreadPoolExecutor(BATCH, thread_name_prefix="hallmark-webhook")

    def lease_name(self) -> str:
        return "webhooks"

    def on_stop(self) -> None:
        self.pool.shutdown(wait=False)

    def step(self) -> bool:
        c = self.config
        fanned = fan_out(self.db)
        timeout = c["WEBHOOK_TIMEOUT_SECONDS"]
        claimed = claim_due(self.db, self.sealer, BATCH, timeout * 2 + CLAIM_MARGIN_SECONDS)

        def deliver(item: Claimed) -> None:
            outcome = send(item.url, item.secret, item.event_id, item.event_type, item.body, timeout,
                           c["WEBHOOK_ALLOW_PRIVATE"])
            record(self.db, item.delivery_id, outcome, c["WEBHOOK_MAX_ATTEMPTS"], c["WEBHOOK_RETRY_SECONDS"])

        for future in [self.pool.submit(deliver, item) for item in claimed]:
            future.result()
        return bool(fanned or claimed)
