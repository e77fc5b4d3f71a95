"""Bulk-loading stored authenticators straight into Postgres, for the scale run."""

from __future__ import annotations

import asyncio
import time
from typing import Final

import asyncpg

BULK_INSERT: Final = """
INSERT INTO enrollments (
    id, user_id, method, status, algorithm, digits, period, sealed_secret, device_name,
    created_at, expires_at, activated_at, last_used_step, last_used_at, drift_steps, revoked_at,
    version
)
SELECT
    gen_random_uuid(),
    'bulk-' || md5(random()::text || g::text),
    'totp', 'active', 'SHA1', 6, 30,
    $1,
    CASE WHEN g % 3 = 0 THEN 'phone ' || (g % 97)::text END,
    created,
    NULL,
    created + interval '1 minute',
    CASE WHEN g % 2 = 0 THEN (extract(epoch FROM now())::bigint / 30) - (g % 50000) END,
    CASE WHEN g % 2 = 0 THEN now() - (g % 50000) * interval '30 seconds' END,
    0,
    NULL,
    1 + (g % 2)
FROM (
    SELECT g, now() - (g % 500000) * interval '1 minute' AS created
    FROM generate_series(1, $2::bigint) AS g
) AS rows
"""
"""Active authenticators of random users (one row each), with a real ciphertext copied from a row
enrolled through HTTP: these rows are never decrypted, they only make the table and its indexes as
big as a bank's."""


async def _bulk_load(dsn: str, rows: int) -> tuple[int, float]:
    connection = await asyncpg.connect(dsn, timeout=10, command_timeout=1800)
    try:
        sealed = await connection.fetchval(
            "SELECT sealed_secret FROM enrollments WHERE status = 'active' LIMIT 1"
        )
        if sealed is None:
            raise RuntimeError("enroll a user through HTTP first: no ciphertext to copy")
        started = time.monotonic()
        await connection.execute(BULK_INSERT, sealed, rows)
        await connection.execute("VACUUM (ANALYZE) enrollments")
        # Write the bulk load's dirty pages now, so that the runs after it do not pay for the
        # checkpoint it would trigger (and its full-page writes) while they are measured.
        await connection.execute("CHECKPOINT")
        total = int(await connection.fetchval("SELECT count(*) FROM enrollments"))
        return total, time.monotonic() - started
    finally:
        await connection.close()


def bulk_load(dsn: str, rows: int) -> tuple[int, float]:
    """Inserts ``rows`` active authenticators; returns the table's row count and the seconds taken
    (insert, VACUUM ANALYZE and a CHECKPOINT)."""
    return asyncio.run(_bulk_load(dsn, rows))


async def _table_size(dsn: str) -> str:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        return str(
            await connection.fetchval(
                "SELECT pg_size_pretty(pg_total_relation_size('enrollments'))"
            )
        )
    finally:
        await connection.close()


def table_size(dsn: str) -> str:
    """The enrollments table's size with its indexes, e.g. ``412 MB``."""
    return asyncio.run(_table_size(dsn))
