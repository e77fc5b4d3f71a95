"""Idempotency keys keep no HTTP status: every kept answer was a 200, and the status is the HTTP
layer's to give. A key whose request still runs is the one without a body.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE idempotency_keys SET body = '' WHERE status_code IS NOT NULL AND body IS NULL")
    with op.batch_alter_table("idempotency_keys") as table:
        table.drop_column("status_code")


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as table:
        table.add_column(sa.Column("status_code", sa.SmallInteger(), nullable=True))
    op.execute("UPDATE idempotency_keys SET status_code = 200 WHERE body IS NOT NULL")
