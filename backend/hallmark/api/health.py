from flask import Blueprint, current_app

from ..chain import status

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    """Liveness plus what the app is connected to: chain id, latest block, registry address."""
    report = status.chain_status(current_app.config["RPC_URL"], current_app.config["DEPLOYMENT_FILE"])
    return report, (200 if report["ok"] else 503)
