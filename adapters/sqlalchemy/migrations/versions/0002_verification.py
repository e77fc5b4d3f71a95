"""Verification: last used step and drift per authenticator, per-user throttles, recovery codes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("last_used_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("drift_steps", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch.create_check_constraint(
            op.f("ck_enrollments_drift_steps"), "drift_steps BETWEEN -10 AND 10"
        )
    op.create_index(
        "ix_enrollments_pending_expires_at",
        "enrollments",
        ["expires_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "user_throttles",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("failures", sa.SmallInteger(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_throttles")),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_user_throttles_failures")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "code_hash", name=op.f("pk_recovery_codes")),
    )


def downgrade() -> None:
    op.drop_table("recovery_codes")
    op.drop_table("user_throttles")
    op.drop_index("ix_enrollments_pending_expires_at", table_name="enrollments")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_constraint(op.f("ck_enrollments_drift_steps"), type_="check")
        batch.drop_column("drift_steps")
        batch.drop_column("last_used_at")
        batch.drop_column("last_used_step")
