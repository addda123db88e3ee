from flask import current_app
from flask_smorest import Blueprint

from ..chain import status

bp = Blueprint("health", __name__, url_prefix="/api", description="Liveness")


@bp.route("/health")
@bp.response(200)
@bp.alt_response(503, description="the node or the deployment is not reachable")
def health():
    """What the app is connected to: chain id, latest block, registry address."""
    report = status.chain_status(current_app.config["RPC_URL"], current_app.config["DEPLOYMENT_FILE"])
    return report, (200 if report["ok"] else 503)
