"""Enrollments with one pending per user, and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("digits", sa.SmallInteger(), nullable=False),
        sa.Column("period", sa.SmallInteger(), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("device_name", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.CheckConstraint("method IN ('totp')", name=op.f("ck_enrollments_method")),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'revoked')", name=op.f("ck_enrollments_status")
        ),
        sa.CheckConstraint(
            "algorithm IN ('SHA1', 'SHA256', 'SHA512')", name=op.f("ck_enrollments_algorithm")
        ),
        sa.CheckConstraint("digits BETWEEN 6 AND 8", name=op.f("ck_enrollments_digits")),
        sa.CheckConstraint("period BETWEEN 15 AND 120", name=op.f("ck_enrollments_period")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_enrollments_version")),
        sa.CheckConstraint(
            "status <> 'pending' OR expires_at IS NOT NULL",
            name=op.f("ck_enrollments_pending_expires"),
        ),
    )
    op.create_index("ix_enrollments_user_id", "enrollments", ["user_id"])
    op.create_index(
        "uq_enrollments_one_pending_per_user",
        "enrollments",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("enrollment_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_user_id_occurred_at", "audit_events", ["user_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_user_id_occurred_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("uq_enrollments_one_pending_per_user", table_name="enrollments")
    op.drop_index("ix_enrollments_user_id", table_name="enrollments")
    op.drop_table("enrollments")
