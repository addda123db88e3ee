"""The baseline app of bench/serving.py: bare Flask answering a constant JSON on the verify route's URL shape,
served by the same gunicorn command line as `hallmark web` (hallmark.run.commands.gunicorn_command) with only
the app swapped: `gunicorn ... 'bare_app:create()'`."""
from __future__ import annotations

from flask import Flask, jsonify

ANSWER = {"verdict": "authentic", "collection": {"official": True}, "token_id": 1}


def create() -> Flask:
    app = Flask(__name__)

    @app.get("/api/verify/<string:address>/<int:token_id>")
    def verify(address: str, token_id: int):
        return jsonify(ANSWER)

    return app
