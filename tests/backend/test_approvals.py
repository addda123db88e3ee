"""Maker-checker approvals on the real chain: a request waits, untouched, until a different person approves it;
then the same services as the direct path carry it out, once, and the rows it made link to the decision's audit
entry."""
from __future__ import annotations

import hashlib
import io
import json
import time

import pytest
from eth_account import Account
from sqlalchemy import func, select

from conftest import CI_PORT
from hallmark.access.models import Approval, AuditEntry, StaffUser
from hallmark.models import AirdropJob, ChainTx, Drop, MintItem

STRICT = ("drop", "airdrop", "mint", "pause")


@pytest.fixture
def app(deployed_data, app_for, request):
    """Approvals on (all four kinds unless the test asks for fewer, by indirect parametrisation)."""
    kinds, airdrop_min = getattr(request, "param", (STRICT, 0))
    application = app_for(deployed_data, CI_PORT, MINT_BATCH_SIZE=50, CLAIM_WINDOW_SECONDS=0.5, APPROVALS=kinds,
                          APPROVAL_AIRDROP_MIN=airdrop_min)
    yield application
    application.extensions["hallmark.services"].stop()


def count(app, model, *where) -> int:
    with app.extensions["hallmark.db"].session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def entry(app, action: str, approval_id: int) -> AuditEntry:
    with app.extensions["hallmark.db"].session() as s:
        return s.scalar(select(AuditEntry).where(AuditEntry.action == action,
                                                 AuditEntry.object_id == str(approval_id)))


def post(client, headers, path, key, **kwargs):
    return client.post(path, headers={**headers, "Idempotency-Key": key}, **kwargs)


def wait_for(fetch, done, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"not done in {seconds} s: {value}")


def test_drop_waits_for_a_different_approver_then_goes_live(app, client, signed_in, staff):
    maker, maker_h = signed_in("marketing")
    viewer, viewer_h = signed_in("viewer")
    checker, checker_h = signed_in("approver")
    body = {"slug": "approved-drop", "name": "Fuhu 审批", "symbol": "FUHU", "edition_size": 5, "royalty_bps": 250}

    reply = post(maker, maker_h, "/api/drops", "d1", json=body)
    assert reply.status_code == 202, reply.get_json()
    approval = reply.get_json()["approval"]
    assert approval["status"] == "pending" and approval["kind"] == "drop"
    assert reply.headers["Location"] == f"/api/approvals/{approval['id']}"
    settings = approval["summary"]["settings"]
    assert (settings["name"], settings["edition_size"], settings["royalty_bps"]) == ("Fuhu 审批", 5, 250)
    # nothing rendered, recorded or sent yet
    time.sleep(1)
    assert count(app, Drop) == 0 and count(app, ChainTx) == 0
    png = checker.get(approval["preview_url"])
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"

    path = f"/api/approvals/{approval['id']}"
    mine = maker.get("/api/approvals?mine=true").get_json()
    assert [a["id"] for a in mine] == [approval["id"]]
    assert post(maker, maker_h, path + "/approve", "a0").status_code == 403  # marketing cannot decide
    with app.extensions["hallmark.db"].session() as s:  # nor can the maker once made an approver
        s.scalar(select(StaffUser).where(StaffUser.username == mine[0]["maker"]["name"])).role = "approver"
    refused = post(maker, maker_h, path + "/approve", "a0b")
    assert refused.status_code == 403 and "different person" in refused.get_json()["message"]
    assert post(viewer, viewer_h, path + "/approve", "a1").status_code == 403
    assert post(client, staff, path + "/approve", "a2").status_code == 403  # a key

    approved = post(checker, checker_h, path + "/approve", "a3")
    assert approved.status_code == 200, approved.get_json()
    outcome = approved.get_json()
    assert outcome["status"] == "approved" and outcome["checker_name"].startswith("approver")
    drop_id = outcome["result"]["drop_id"]
    again = post(checker, checker_h, path + "/approve", "a4")
    assert again.status_code == 409
    assert count(app, Drop) == 1

    drop = wait_for(lambda: checker.get(f"/api/drops/{drop_id}").get_json(),
                    lambda d: d["status"] in ("live", "failed"))
    assert drop["status"] == "live", drop
    decision = entry(app, "drop.approve", approval["id"])
    assert entry(app, "drop.request", approval["id"]).id == outcome["audit_id"]
    with app.extensions["hallmark.db"].session() as s:
        assert s.get(Drop, drop_id).audit_id == decision.id
        create_tx = s.scalar(select(ChainTx).where(ChainTx.purpose == f"drop:{drop_id}:create"))
        assert create_tx.audit_id == decision.id and create_tx.status == "mined"


def test_bad_input_is_refused_before_it_waits(app, signed_in):
    maker, maker_h = signed_in("marketing")
    reply = post(maker, maker_h, "/api/drops", "bad", json={"slug": "x", "name": "n", "symbol": "S",
                                                             "edition_size": 1})
    assert reply.status_code == 422 and "slug" in reply.get_json()["errors"]["json"]
    assert count(app, Approval) == 0


@pytest.mark.parametrize("app", [(("airdrop", "mint"), 3)], indirect=True)
def test_airdrop_summary_reject_threshold_and_mint(app, signed_in, make_drop):
    drop = make_drop(edition_size=10)  # drops go straight here: only airdrops and mints need approval
    maker, maker_h = signed_in("marketing")
    checker, checker_h = signed_in("approver")
    a, b, c = (Account.create().address for _ in range(3))
    recipients = [a, b, a, "not-an-address", c]
    airdrops = f"/api/drops/{drop['id']}/airdrops"

    reply = post(maker, maker_h, airdrops, "j1", json={"recipients": recipients})
    assert reply.status_code == 202, reply.get_json()
    approval = reply.get_json()["approval"]
    summary = approval["summary"]
    assert (summary["recipients"], summary["duplicates"], summary["invalid"]) == (4, 1, 1)
    assert summary["invalid_rows"][0]["row"] == 4
    assert summary["sha256"] == hashlib.sha256(json.dumps(recipients, separators=(",", ":")).encode()).hexdigest()
    assert summary["gas"]["transactions"] == 1 and summary["gas"]["estimate"] == 4 * 7_600 + 80_000
    assert (summary["room_left"], summary["room_after"]) == (10, 6)
    assert count(app, AirdropJob) == 0

    path = f"/api/approvals/{approval['id']}"
    no_reason = post(checker, checker_h, path + "/reject", "r0", json={"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]["json"]
    rejected = post(checker, checker_h, path + "/reject", "r1", json={"reason": "名单未经合规确认"})
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    seen = maker.get(path).get_json()
    assert (seen["status"], seen["reason"]) == ("rejected", "名单未经合规确认")
    assert post(checker, checker_h, path + "/approve", "r2").status_code == 409
    assert count(app, AirdropJob) == 0 and count(app, MintItem) == 0
    assert entry(app, "airdrop.reject", approval["id"]) is not None

    # under APPROVAL_AIRDROP_MIN recipients an airdrop goes straight
    small = post(maker, maker_h, airdrops, "j2", json={"recipients": [a, b]})
    assert small.status_code == 202 and small.get_json()["total"] == 2
    assert count(app, Approval) == 1

    # a CSV upload: the digest is of its bytes; approved, it becomes a job linked to the decision
    csv = f"address\n{a}\n{b}\n{c}\n".encode()
    reply = post(maker, maker_h, airdrops, "j3", data={"file": (io.BytesIO(csv), "list.csv")},
                 content_type="multipart/form-data")
    approval = reply.get_json()["approval"]
    assert approval["summary"]["sha256"] == hashlib.sha256(csv).hexdigest()
    path = f"/api/approvals/{approval['id']}"
    approved = post(checker, checker_h, path + "/approve", "j3a")
    assert approved.status_code == 200, approved.get_json()
    job_id = approved.get_json()["result"]["job_id"]
    assert post(checker, checker_h, path + "/approve", "j3b").status_code == 409
    assert count(app, AirdropJob) == 2
    decision = entry(app, "airdrop.approve", approval["id"])
    with app.extensions["hallmark.db"].session() as s:
        job = s.get(AirdropJob, job_id)
        assert (job.audit_id, job.total) == (decision.id, 3)

    # a single mint waits too, and is minted once approved
    reply = post(maker, maker_h, f"/api/drops/{drop['id']}/mint", "m1", json={"to": c})
    assert reply.status_code == 202 and reply.get_json()["approval"]["summary"]["to"] == c
    path = f"/api/approvals/{reply.get_json()['approval']['id']}"
    item_id = post(checker, checker_h, path + "/approve", "m1a").get_json()["result"]["item_id"]
    minted = wait_for(lambda: checker.get(f"/api/mints/{item_id}").get_json(),
                      lambda m: m["status"] in ("minted", "failed"))
    assert minted["status"] == "minted"
    with app.extensions["hallmark.db"].session() as s:
        assert s.get(MintItem, item_id).audit_id == entry(app, "mint.approve", int(path.rsplit("/", 1)[1])).id


@pytest.mark.parametrize("app", [(("pause",), 0)], indirect=True)
def test_pause_cancel_and_a_failed_approve_stays_pending(app, signed_in, make_drop):
    drop = make_drop(edition_size=3)
    maker, maker_h = signed_in("marketing")
    other, other_h = signed_in("marketing")
    checker, checker_h = signed_in("approver")

    reply = post(maker, maker_h, f"/api/drops/{drop['id']}/pause", "p1")
    assert reply.status_code == 202
    approval = reply.get_json()["approval"]
    assert approval["summary"]["paused_now"] is False and approval["summary"]["paused_wanted"] is True
    path = f"/api/approvals/{approval['id']}"
    assert post(other, other_h, path + "/cancel", "c0").status_code == 403
    cancelled = post(maker, maker_h, path + "/cancel", "c1")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert post(checker, checker_h, path + "/approve", "c2").status_code == 409

    reply = post(maker, maker_h, f"/api/drops/{drop['id']}/pause", "p2")
    path = f"/api/approvals/{reply.get_json()['approval']['id']}"
    with app.extensions["hallmark.db"].session() as s:  # the drop stops being live before the decision
        s.get(Drop, drop["id"]).status = "failed"
    failed = post(checker, checker_h, path + "/approve", "p2a")
    assert failed.status_code == 409 and "not live" in failed.get_json()["message"]
    after = checker.get(path).get_json()
    assert after["status"] == "pending" and "not live" in after["error"]
    with app.extensions["hallmark.db"].session() as s:
        s.get(Drop, drop["id"]).status = "live"
    approved = post(checker, checker_h, path + "/approve", "p2b")
    assert approved.status_code == 200 and approved.get_json()["error"] is None
    paused = wait_for(lambda: checker.get(f"/api/drops/{drop['id']}").get_json(), lambda d: d["paused"])
    assert paused["paused"] is True
