"""How the service's dependencies (Vault, Postgres, the identity provider's keys) answer."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DEPENDENCY_DURATION = Histogram(
    "mfa_dependency_duration_seconds",
    "Time a dependency took to answer one operation, failures included.",
    ("dependency", "operation"),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
DEPENDENCY_ERRORS = Counter(
    "mfa_dependency_errors",
    "Operations of a dependency that failed, by the error's class (never its message).",
    ("dependency", "operation", "error"),
)
DB_POOL_IN_USE = Gauge(
    "mfa_db_pool_connections_in_use",
    "Database connections checked out of the pool, summed over live workers.",
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "mfa_db_pool_waiting",
    "Transactions waiting for a pooled connection (or for a new one to open), over live workers.",
    multiprocess_mode="livesum",
)
JWKS_FETCHES = Counter(
    "mfa_jwks_fetches", "Reads of the identity provider's signing keys, by outcome.", ("outcome",)
)
BUILD_INFO = Gauge(
    "mfa_build_info",
    "Always 1; the labels say which build runs.",
    ("version", "revision"),
    multiprocess_mode="livemax",
)
SPANS_DROPPED = Counter(
    "mfa_trace_spans_dropped",
    "Spans not exported: the export queue was full or the collector refused or was unreachable.",
)
