"""Customer-facing answers from the index: verdicts with reasons, image checks, ownership proofs, wallets."""
