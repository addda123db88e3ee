"""A drop's ledger as CSV, for the bank's books and auditors."""
from __future__ import annotations

import csv
import io

from flask import Response, g, stream_with_context
from flask_smorest import Blueprint

from ..access import audit
from ..access.permissions import requires
from ..db import get_db
from ..minting import ledger
from .drops import load_drop
from .openapi import answers, errors

bp = Blueprint("ledger", __name__, url_prefix="/api", description="Ledger export (staff)")
BOM = "\ufeff"  # Excel reads a UTF-8 file as the local code page without it: Chinese names would be garbled


@bp.route("/drops/<int:drop_id>/ledger.csv")
@requires("ledger.export")
@errors(404)
@answers(200, {"type": "string", "description": (
    "UTF-8 with a byte order mark; header `time,event,token_id,from,to,tx_hash,block` (plus `customer_id` for "
    "callers with custody.read), then one event a line: mint, claim, transfer, burn or redemption")},
    content_type="text/csv")
@bp.response(200)
def ledger_csv(drop_id):
    """Every mint, claim, transfer, burn and redemption of the drop in chain order, from the index (the chain's
    record: times are block times, UTC). The customer behind custodial addresses is included only for callers
    with the custody.read permission; otherwise the column is left out."""
    drop = load_drop(drop_id)
    with_customers = g.principal.may("custody.read")
    with get_db().session() as s:
        audit.record(s, "ledger.export", "drop", drop_id, after={"customer_ids": with_customers})
    return Response(stream_with_context(_csv(ledger.rows(get_db(), drop, with_customers))), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="ledger-{drop.slug}.csv"'})


def _csv(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(BOM)
    for n, row in enumerate(rows, start=1):
        writer.writerow(row)
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
