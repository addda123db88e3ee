"""Drops, the mint queue (airdrop jobs, single mints, claims) and claim codes."""
