"""Gas of airdrop transactions, derived once from what bench/gas.py measures (README "### Gas"): a packed
recipient costs at most 7,555 (soulbound, a batch of 1,000) and a lone mint to a new holder 78,721, which bounds
what a transaction costs besides its recipients."""
from __future__ import annotations

# what a checker is shown before approving an airdrop: the measured figures, rounded up
ESTIMATE_PER_RECIPIENT, ESTIMATE_PER_TRANSACTION = 7_600, 80_000
# the limit a batch is signed with: room above the estimate, while 1,200 recipients (the packed maximum) stay far
# below a 30M block
LIMIT_PER_TRANSACTION, LIMIT_PER_RECIPIENT = 150_000, 12_000


def batch_limit(recipients: int) -> int:
    return LIMIT_PER_TRANSACTION + LIMIT_PER_RECIPIENT * recipients


def airdrop_gas(recipients: int, transactions: int) -> dict:
    """The estimate and the most it can cost (every batch's limit) of an airdrop in `transactions` batches."""
    return {"per_recipient": ESTIMATE_PER_RECIPIENT, "per_transaction": ESTIMATE_PER_TRANSACTION,
            "transactions": transactions,
            "estimate": ESTIMATE_PER_RECIPIENT * recipients + ESTIMATE_PER_TRANSACTION * transactions,
            "limit": batch_limit(0) * transactions + LIMIT_PER_RECIPIENT * recipients}
