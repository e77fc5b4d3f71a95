"""The database schema as SQLAlchemy Core tables. Alembic migrations create it; this mirrors them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect (SQLite stores them without a zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigIntegerId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

enrollments = sa.Table(
    "enrollments",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("algorithm", sa.String(8), nullable=False),
    sa.Column("digits", sa.SmallInteger(), nullable=False),
    sa.Column("period", sa.SmallInteger(), nullable=False),
    sa.Column("sealed_secret", sa.Text(), nullable=False),
    sa.Column("device_name", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("activated_at", UtcDateTime(), nullable=True),
    sa.Column("last_used_step", sa.BigInteger(), nullable=True),
    sa.Column("last_used_at", UtcDateTime(), nullable=True),
    sa.Column("drift_steps", sa.SmallInteger(), nullable=False, server_default="0"),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.CheckConstraint("method IN ('totp')", name="method"),
    sa.CheckConstraint("status IN ('pending', 'active', 'revoked')", name="status"),
    sa.CheckConstraint("algorithm IN ('SHA1', 'SHA256', 'SHA512')", name="algorithm"),
    sa.CheckConstraint("digits BETWEEN 6 AND 8", name="digits"),
    sa.CheckConstraint("period BETWEEN 15 AND 120", name="period"),
    sa.CheckConstraint("version >= 1", name="version"),
    sa.CheckConstraint("status <> 'pending' OR expires_at IS NOT NULL", name="pending_expires"),
    sa.CheckConstraint("drift_steps BETWEEN -10 AND 10", name="drift_steps"),
    sa.Index("ix_enrollments_user_id", "user_id"),
    sa.Index(
        "ix_enrollments_pending_expires_at",
        "expires_at",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index(
        "uq_enrollments_one_pending_per_user",
        "user_id",
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", BigIntegerId, primary_key=True, autoincrement=True),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("enrollment_id", sa.Uuid(), nullable=True),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("client_address", sa.String(64), nullable=True),
    sa.Column("user_agent", sa.String(256), nullable=True),
    sa.Column("detail", sa.String(64), nullable=True),
    sa.Column("actor", sa.String(255), nullable=True),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("ticket", sa.String(64), nullable=True),
    sa.Index("ix_audit_events_user_id_occurred_at", "user_id", "occurred_at"),
    sa.Index("ix_audit_events_occurred_at_id", "occurred_at", "id"),
    sa.Index("ix_audit_events_actor_occurred_at", "actor", "occurred_at"),
)

user_throttles = sa.Table(
    "user_throttles",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("failures", sa.SmallInteger(), nullable=False),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    sa.Column("lockouts", sa.Integer(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.CheckConstraint("failures >= 0", name="failures"),
)

recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("generated_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
)

notification_outbox = sa.Table(
    "notification_outbox",
    metadata,
    sa.Column("id", BigIntegerId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(48), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("enrollment_id", sa.Uuid(), nullable=True),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Index(
        "ix_notification_outbox_due",
        "due_at",
        sqlite_where=sa.text("delivered_at IS NULL"),
        postgresql_where=sa.text("delivered_at IS NULL"),
    ),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_id", sa.String(255), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    # Written, never read: replicas of the previous release read it during a rolling update
    # (NULL while the first request runs, 200 once its answer is kept). Drop it one release later.
    sa.Column("status_code", sa.SmallInteger(), nullable=True),
    sa.Column("body", sa.Text(), nullable=True),  # None while the first request runs
    sa.Column("resource_id", sa.String(64), nullable=True),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)
