"""chain txs by block

Revision ID: 0007
Revises: 0006
Created: 2026-11-26 20:55:00
"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # verdicts read the mints settled in blocks the index has not read yet (verify/verdict.py)
    with op.batch_alter_table('chain_txs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_txs_block_number'), ['block_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chain_txs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_txs_block_number'))
