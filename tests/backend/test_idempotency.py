"""Idempotency-Key across crashes: a request that committed its work but died before storing its response holds
the key for a short lease; a retry after it answers with that work's real status, never a second copy."""
from datetime import timedelta

import pytest
from eth_account import Account
from sqlalchemy import func, select, update

from hallmark.minting import jobs
from hallmark.models import AirdropJob, ClaimCode, IdempotencyRecord, MintItem, utcnow


def crash_after_commit(app, key: str, lease_left: float) -> None:
    """Leave the record as a process killed between committing the work and storing the response leaves it."""
    with app.extensions["hallmark.db"].session() as s:
        s.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == key).values(
            status_code=None, response=None, content_type=None,
            lease_until=utcnow() + timedelta(seconds=lease_left)))


def count(app, model, *where):
    with app.extensions["hallmark.db"].session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("kind", ["airdrop", "mint"])
def test_retry_after_a_crash_returns_the_committed_work(client, staff, make_drop, app, kind):
    drop = make_drop()
    if kind == "airdrop":
        url, body = f"/api/drops/{drop['id']}/airdrops", {"recipients": [Account.create().address for _ in range(3)]}
    else:
        url, body = f"/api/drops/{drop['id']}/mint", {"to": Account.create().address}
    first = client.post(url, json=body, headers={**staff, "Idempotency-Key": f"crash-{kind}"})
    assert first.status_code in (200, 202), first.get_json()

    crash_after_commit(app, f"crash-{kind}", lease_left=30)
    held = client.post(url, json=body, headers={**staff, "Idempotency-Key": f"crash-{kind}"})
    assert held.status_code == 409 and 1 <= int(held.headers["Retry-After"]) <= 30

    crash_after_commit(app, f"crash-{kind}", lease_left=-1)
    retry = client.post(url, json=body, headers={**staff, "Idempotency-Key": f"crash-{kind}"})
    assert retry.status_code in (200, 202) and "Idempotent-Replayed" not in retry.headers
    if kind == "airdrop":
        assert retry.get_json()["id"] == first.get_json()["id"]
        assert count(app, AirdropJob, AirdropJob.drop_id == drop["id"]) == 1
    else:
        assert retry.get_json()["item_id"] == first.get_json()["item_id"]
    taken = count(app, MintItem, MintItem.drop_id == drop["id"])
    if kind == "airdrop":  # a job's rows become items as the worker takes them: count those still waiting too
        with app.extensions["hallmark.db"].session() as s:
            taken += jobs.unqueued(s, drop["id"])
    assert taken == len(body.get("recipients", [1]))
    replay = client.post(url, json=body, headers={**staff, "Idempotency-Key": f"crash-{kind}"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == retry.get_json()


def test_codes_never_delivered_are_voided_and_replaced(client, staff, make_drop, app):
    drop = make_drop()
    url = f"/api/drops/{drop['id']}/claim-codes"
    first = client.post(url, json={"count": 5}, headers={**staff, "Idempotency-Key": "codes"}).get_json()
    crash_after_commit(app, "codes", lease_left=-1)  # nobody saw these codes: the response was never sent
    retry = client.post(url, json={"count": 5}, headers={**staff, "Idempotency-Key": "codes"}).get_json()
    assert retry["batch"] == first["batch"] and len(retry["codes"]) == 5
    assert not set(retry["codes"]) & set(first["codes"])
    assert count(app, ClaimCode, ClaimCode.drop_id == drop["id"]) == 5
    lost = client.post("/api/claims", json={"code": first["codes"][0], "wallet": Account.create().address})
    assert lost.status_code == 404


def test_each_caller_has_keys_of_its_own(client, staff, make_drop, app):
    """Two partner systems that happen to pick the same key for the same body get their own work and answers:
    one never receives the other's stored response (claim codes are bearer secrets)."""
    from hallmark.access.keys import create_api_key

    drop = make_drop()
    other = {"Authorization": "Bearer " + create_api_key(app.extensions["hallmark.db"], "other",
                                                         scopes=["claim_codes.create"])}
    url = f"/api/drops/{drop['id']}/claim-codes"
    mine = client.post(url, json={"count": 2}, headers={**staff, "Idempotency-Key": "same-key"})
    theirs = client.post(url, json={"count": 2}, headers={**other, "Idempotency-Key": "same-key"})
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert not set(mine.get_json()["codes"]) & set(theirs.get_json()["codes"])
    assert count(app, ClaimCode, ClaimCode.drop_id == drop["id"]) == 4
