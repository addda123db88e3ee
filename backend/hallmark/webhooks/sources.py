"""Where events come from: one call at each place a reported change commits (the drop builder, the mint queue's
settle, the indexer), each in that change's own session."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AirdropJob, Claim, Drop, MintItem, utcnow
from .events import chain_id, emit

PROGRESS_STEPS = 10  # job.progress when a job passes another tenth: at most ten per job, whatever its size


def drop_live(s: Session, drop: Drop) -> None:
    emit(s, "drop.live", drop.id, {"drop_id": drop.id, "slug": drop.slug, "name": drop.name,
                                   "contract_address": drop.contract_address, "edition_size": drop.edition_size,
                                   "live_at": utcnow()})


def batch_settled(s: Session, tx_id: int, tx_hash: str) -> None:
    """After a mint transaction's items were marked minted or failed: progress and end of their jobs, and a
    claim.minted for each claim it minted. Reads counts and the claims only, not every item of a 1,000-item batch."""
    per_job = dict(s.execute(select(MintItem.job_id, func.count()).where(
        MintItem.tx_id == tx_id, MintItem.job_id.is_not(None)).group_by(MintItem.job_id)).all())
    first = s.execute(select(MintItem.drop_id).where(MintItem.tx_id == tx_id).limit(1)).first()
    if first is None:
        return
    contract = s.get(Drop, first.drop_id).contract_address
    for job_id, in_batch in sorted(per_job.items()):
        _job_moved(s, s.get(AirdropJob, job_id), in_batch, contract, tx_hash)
    for claim, item in s.execute(select(Claim, MintItem).join(MintItem, MintItem.id == Claim.item_id).where(
            MintItem.tx_id == tx_id, MintItem.source == "claim", MintItem.status == "minted").order_by(MintItem.id)):
        emit(s, "claim.minted", item.drop_id, {
            "claim_id": claim.public_id, "drop_id": item.drop_id, "contract_address": contract,
            "token_id": item.token_id, "wallet": claim.wallet, "tx_hash": tx_hash, "minted_at": item.minted_at})


def _job_moved(s: Session, job: AirdropJob, in_batch: int, contract: str, tx_hash: str) -> None:
    done, failed = job.minted, job.failed  # counted when its items were settled, in this transaction
    payload = {"job_id": job.id, "drop_id": job.drop_id, "contract_address": contract, "total": job.total,
               "done": done, "failed": failed, "tx_hash": tx_hash}
    settled = done + failed
    if settled >= job.total:
        if settled - in_batch < job.total:  # this batch completed the job: reported once
            emit(s, "job.finished", job.drop_id, {**payload, "finished_at": utcnow()})
    elif PROGRESS_STEPS * (settled - in_batch) // job.total != PROGRESS_STEPS * settled // job.total:
        emit(s, "job.progress", job.drop_id, {**payload, "at": utcnow()})


def _drop_id(s: Session, contract: str) -> int | None:
    return s.scalar(select(Drop.id).where(func.lower(Drop.contract_address) == contract.lower()))


def transferred(s: Session, contract: str, token_id: int, sender: str, receiver: str, tx_hash: str,
                log_index: int, block: int, when) -> None:
    """An official item changed hands (the indexer calls this for transfers that are neither mints nor burns)."""
    emit(s, "item.transferred", _drop_id(s, contract), {
        "contract_address": contract, "token_id": token_id, "from": sender, "to": receiver, "tx_hash": tx_hash,
        "log_index": log_index, "block_number": block, "transferred_at": when},
        event_id=chain_id("item.transferred", tx_hash, log_index))


def redeemed(s: Session, contract: str, token_id: int, holder: str, by: str, tx_hash: str, log_index: int,
             block: int, when) -> None:
    emit(s, "item.redeemed", _drop_id(s, contract), {
        "contract_address": contract, "token_id": token_id, "holder": holder, "redeemed_by": by,
        "tx_hash": tx_hash, "log_index": log_index, "block_number": block, "redeemed_at": when},
        event_id=chain_id("item.redeemed", tx_hash, log_index))
