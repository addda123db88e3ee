"""Partner API keys for admins: list (never the hash), create (the key shown once), revoke."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from ..access import audit, keys
from ..access.permissions import requires
from ..db import get_db
from ..models import ApiKey, utcnow
from .openapi import errors
from .staff_schemas import KeyCreatedSchema, KeyCreateSchema, KeySchema

bp = Blueprint("keys", __name__, url_prefix="/api", description="Partner API keys (admins)")


def view(row: ApiKey) -> dict:
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "role": row.role, "scopes": row.scopes.split(),
            "drop_ids": [int(d) for d in row.drop_ids.split()] if row.drop_ids else None,
            "created_at": row.created_at, "expires_at": row.expires_at, "last_used_at": row.last_used_at,
            "revoked_at": row.revoked_at}


@bp.route("/keys")
class Keys(MethodView):
    @requires("keys.manage")
    @bp.response(200, KeySchema(many=True))
    def get(self):
        """Every key, newest first, revoked ones included."""
        with get_db().session() as s:
            return [view(row) for row in s.scalars(select(ApiKey).order_by(ApiKey.id.desc()))]

    @requires("keys.manage")
    @errors(422)
    @bp.arguments(KeyCreateSchema)
    @bp.response(201, KeyCreatedSchema)
    def post(self, data):
        """Create a key with a role's scopes or chosen ones, optionally for some drops and until a time; the key
        is in this answer only."""
        if data["expires_at"] is not None and data["expires_at"] <= utcnow():
            abort(422, message="the expiry must be in the future", errors={"json": {"expires_at": ["in the past"]}})
        with get_db().session() as s:
            row, key = keys.add_key(s, data["name"], data["role"], scopes=data["scopes"], drop_ids=data["drop_ids"],
                                    expires_at=data["expires_at"], created_by=g.principal.id)
            shown = view(row)
            audit.record(s, "key.create", "api_key", row.id, after={k: shown[k] for k in (
                "name", "prefix", "role", "scopes", "drop_ids", "expires_at")})
        return {**shown, "key": key}


@bp.route("/keys/<int:key_id>", methods=["DELETE"])
@requires("keys.manage")
@errors(404)
@bp.response(200, KeySchema)
def revoke_key(key_id):
    """Revoke a key: it is refused from the next request on."""
    with get_db().session() as s:
        row = keys.revoke(s, key_id)
        if row is None:
            abort(404, message=f"no API key {key_id}")
        audit.record(s, "key.revoke", "api_key", row.id, after={"name": row.name, "prefix": row.prefix})
        return view(row)
