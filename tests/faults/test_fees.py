"""A network that does not mine on arrival (Anvil with interval mining): a base-fee spike leaves the batches
underpriced and a transaction is dropped from the pool; the sender replaces them with the same nonces at higher
fees and re-sends the dropped one, and every recipient still gets exactly one token."""
import time

from sqlalchemy import func, select

from hallmark import devchain
from hallmark.db import Database
from hallmark.models import ChainTx, TxAttempt
from hallmark.testing import fresh_addresses

SPIKE = 60 * 10**9  # 60 gwei: far above what the batches were signed for


def test_fee_spike_and_dropped_transaction(pg_url, deck_factory):
    deck = deck_factory(database_url=pg_url, node="anvil", chain_db=False, block_time=2,
                        HALLMARK_FEE_BUMP_SECONDS=3)
    drop = deck.stack.live_drop(1000)
    deck.procs.spawn("worker")
    deck.web(workers=1)
    url = deck.stack.chain.url
    devchain.rpc(url, "anvil_setNextBlockBaseFeePerGas", [hex(SPIKE)])
    recipients = fresh_addresses(b"fees", 300)
    job_id = deck.post(f"/api/drops/{drop['id']}/airdrops", "job", json={"recipients": recipients}).json()["id"]
    db = Database(pg_url)
    deadline = time.monotonic() + 30
    dropped = None
    while dropped is None:  # take one signed batch out of the node's pool
        assert time.monotonic() < deadline, deck.logs()
        with db.session() as s:
            row = s.scalar(select(ChainTx).where(ChainTx.status == "pending").order_by(ChainTx.nonce))
        if row is not None and devchain.rpc(url, "eth_getTransactionByHash", [row.tx_hash]):
            devchain.rpc(url, "anvil_dropTransaction", [row.tx_hash])
            dropped = row
        time.sleep(0.05)
    job = deck.wait_job(job_id, timeout=300)
    deck.assert_exactly_once(drop, recipients, job)
    with db.session() as s:
        assert s.get(ChainTx, dropped.id).status == "mined"
        most_attempts = s.scalar(select(func.count()).select_from(TxAttempt).group_by(TxAttempt.chain_tx_id)
                                 .order_by(func.count().desc()).limit(1))
        mined_fees = list(s.scalars(select(TxAttempt.max_fee_per_gas).join(ChainTx, ChainTx.tx_hash == TxAttempt.tx_hash)
                                    .where(ChainTx.purpose.like("mint:%"))))
    assert most_attempts >= 2  # replaced at a higher fee with the same nonce
    assert max(int(f) for f in mined_fees) > SPIKE  # what finally mined was priced above the spike
