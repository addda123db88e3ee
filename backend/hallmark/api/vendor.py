"""Front-end libraries served from the npm packages in node_modules (no CDN: the machines have no internet): only
the files the pages load, named one by one, never a whole package folder."""
from flask import Blueprint, abort, send_from_directory

from ..config import ROOT
from ..access.permissions import public

bp = Blueprint("vendor", __name__)
PACKAGES = {
    "swagger-ui": ROOT / "node_modules" / "swagger-ui-dist",
    "chartjs": ROOT / "node_modules" / "chart.js" / "dist",
    "ethers": ROOT / "node_modules" / "ethers" / "dist",
}
# /docs (api/headers.py), the staff console (frontend/templates/console.html) and the verify page's own chain
# check (frontend/static/js/chaincheck.js, an ES module)
FILES = {
    "swagger-ui": {"swagger-ui.css", "swagger-ui-bundle.js"},
    "chartjs": {"chart.umd.min.js"},
    "ethers": {"ethers.min.js"},
}


@bp.get("/vendor/<package>/<path:filename>")
@public
def asset(package, filename):
    folder = PACKAGES.get(package)
    if folder is None or filename not in FILES[package]:
        abort(404)
    return send_from_directory(folder, filename, max_age=86400)
