"""Who acted for whom in the audit trail (actor, reason, ticket), indexes for reading it newest
first, and the append-only rule relaxed for exactly one change: a user id replaced by its
pseudonym at erasure (GDPR art. 17).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCHANGED = (
    "id",
    "action",
    "enrollment_id",
    "occurred_at",
    "request_id",
    "client_address",
    "user_agent",
    "detail",
    "reason",
    "ticket",
)

POSTGRES_RULE = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND ({", ".join(f"NEW.{c}" for c in UNCHANGED)})
           IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in UNCHANGED)})
       AND (NEW.user_id = OLD.user_id
            OR (NEW.user_id ~ '^pseudonym:[0-9a-f]{{64}}$' AND OLD.user_id !~ '^pseudonym:'))
       AND (NEW.actor IS NOT DISTINCT FROM OLD.actor
            OR (NEW.actor ~ '^pseudonym:[0-9a-f]{{64}}$' AND OLD.actor !~ '^pseudonym:'))
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$
"""

POSTGRES_STRICT_RULE = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$
"""


def _sqlite_pseudonymised(column: str) -> str:
    return (
        f"(NEW.{column} LIKE 'pseudonym:%' AND length(NEW.{column}) = 74"
        f" AND substr(NEW.{column}, 11) NOT GLOB '*[^0-9a-f]*'"
        f" AND OLD.{column} NOT LIKE 'pseudonym:%')"
    )


SQLITE_RULE = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN NOT ("
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in UNCHANGED)
    + f" AND (NEW.user_id IS OLD.user_id OR {_sqlite_pseudonymised('user_id')})"
    + f" AND (NEW.actor IS OLD.actor OR {_sqlite_pseudonymised('actor')})"
    + ") BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)
SQLITE_STRICT_UPDATE = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)
SQLITE_NO_DELETE = (
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("actor", sa.String(255), nullable=True))
    op.add_column("audit_events", sa.Column("reason", sa.String(500), nullable=True))
    op.add_column("audit_events", sa.Column("ticket", sa.String(64), nullable=True))
    op.create_index("ix_audit_events_occurred_at_id", "audit_events", ["occurred_at", "id"])
    op.create_index("ix_audit_events_actor_occurred_at", "audit_events", ["actor", "occurred_at"])
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRES_RULE)
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(SQLITE_RULE)


def downgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    if postgres:
        op.execute(POSTGRES_STRICT_RULE)
    else:
        # Dropping columns rebuilds the table on SQLite, and its triggers with it.
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    op.drop_index("ix_audit_events_actor_occurred_at", "audit_events")
    op.drop_index("ix_audit_events_occurred_at_id", "audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("ticket")
        batch.drop_column("reason")
        batch.drop_column("actor")
    if not postgres:
        op.execute(SQLITE_STRICT_UPDATE)
        op.execute(SQLITE_NO_DELETE)
