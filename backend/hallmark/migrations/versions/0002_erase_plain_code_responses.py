"""erase claim-code responses stored in plain text (before stored responses were sealed)

Revision ID: 0002
Revises: 0001
Created: 2026-12-01 10:00:00

Data only. The Idempotency-Key store kept each code-generation response, the codes themselves, readable in the
`idempotency.response` column; responses are now sealed with a key kept outside the database
(hallmark.security.sealing). The plain ones are erased: a replay of such a request answers 410 (codes are shown
once). On SQLite, secure_delete overwrites the erased text in the file instead of leaving it in free space.
"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    op.execute(sa.text(
        "UPDATE idempotency SET response = NULL WHERE response IS NOT NULL "
        "AND scope LIKE 'POST /api/drops/%/claim-codes %' AND response NOT LIKE 'sealed:v1:%'"))


def downgrade() -> None:
    pass  # erased text cannot come back
