from flask import current_app
from flask_smorest import Blueprint

from ..chain import status
from ..db import get_db
from ..run.status import processes
from .openapi import answers
from .ops_schemas import HealthSchema
from ..access.permissions import public

bp = Blueprint("health", __name__, url_prefix="/api", description="Liveness")


@bp.route("/health")
@public
@answers(200, HealthSchema)
@answers(503, HealthSchema)
@bp.response(200)
@bp.alt_response(503, description="the node or the deployment is not reachable, or a background process is dead "
                                  "or stalled")
def health():
    """What the app is connected to (chain id, latest block, registry) and how each background process is doing:
    alive, standbys, last progress, problem, queued items and the oldest one's age, blocks behind the head."""
    config = current_app.config
    report = status.chain_status(config["RPC_URL"], config["DEPLOYMENT_FILE"])
    report["processes"] = processes(get_db(), config["HEALTH_DEAD_SECONDS"], config["HEALTH_STALLED_SECONDS"],
                                    report.get("block_number"))
    report["ok"] = report["ok"] and report["processes"]["ok"]
    return report, (200 if report["ok"] else 503)
