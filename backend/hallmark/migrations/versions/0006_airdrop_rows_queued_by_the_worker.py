"""airdrop rows queued by the worker

Revision ID: 0006
Revises: 0005
Created: 2026-11-26 10:36:45.181964
"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('airdrop_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('recipients', sa.Text(), nullable=True))
        batch_op.create_index('ix_airdrop_jobs_pending', ['pending', 'drop_id'], unique=False)


def downgrade() -> None:
    # rows not yet queued live only in airdrop_jobs.recipients: dropping it would lose them
    if op.get_bind().execute(sa.text("SELECT count(*) FROM airdrop_jobs WHERE pending > 0")).scalar():
        raise RuntimeError("airdrop jobs still have rows the worker has not queued: let it run first")
    with op.batch_alter_table('airdrop_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_airdrop_jobs_pending')
        batch_op.drop_column('recipients')
        batch_op.drop_column('pending')
