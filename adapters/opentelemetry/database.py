"""SQL statement spans through OpenTelemetry's SQLAlchemy instrumentation, named by statement
family (``select enrollments``) instead of the first word and the database's name, and the same
spans for the statements run on asyncpg itself (adapters/sqlalchemy/single_statement.py), which
SQLAlchemy does not see. The statement text (``db.statement``) carries placeholders only: the
service binds every value."""

from __future__ import annotations

import functools
import time
from typing import Any

import asyncpg
from asyncpg.connection import LoggedQuery
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import (
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
    get_current_span,
    get_tracer,
    get_tracer_provider,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from adapters.sqlalchemy.statement_family import statement_family


class _FamilyEngineTracer(EngineTracer):
    def _operation_name(self, db_name: Any, statement: Any) -> str:
        if isinstance(statement, str):
            return statement_family(statement)
        return str(super()._operation_name(db_name, statement))  # type: ignore[no-untyped-call]


def trace_engine(engine: AsyncEngine, tracer_provider: TracerProvider | None) -> None:
    """Listens to ``engine``'s statements: one client span each, under the current span."""
    tracer = get_tracer("mfa.sqlalchemy", tracer_provider=tracer_provider)
    connections = get_meter("mfa.sqlalchemy").create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    _FamilyEngineTracer(tracer, engine.sync_engine, connections)  # type: ignore[no-untyped-call]
    if engine.dialect.name == "postgresql" and _may_sample(tracer_provider):
        _trace_driver_statements(engine, tracer)


def _may_sample(tracer_provider: TracerProvider | None) -> bool:
    """False when no span is ever recorded (export off): then the driver needs no logger."""
    provider = tracer_provider or get_tracer_provider()
    return not isinstance(provider, SdkTracerProvider) or provider.sampler is not ALWAYS_OFF


def _trace_driver_statements(engine: AsyncEngine, tracer: Tracer) -> None:
    """asyncpg reports each statement it ran through its own API once it ended, with its time,
    in the context it ran in (``add_query_logger``); the span is recorded then, under the span
    that was current, with the statement's start and end. Statements outside a recorded span
    (a new connection's set-up) make none."""

    @event.listens_for(engine.sync_engine.pool, "connect")
    def _connected(_connection: Any, record: ConnectionPoolEntry) -> None:
        driver: asyncpg.Connection | None = record.driver_connection
        if driver is not None:
            driver.add_query_logger(functools.partial(_record_span, tracer))


def _record_span(tracer: Tracer, statement: LoggedQuery) -> None:
    if not get_current_span().is_recording():
        return
    ended = time.time_ns()
    span = tracer.start_span(
        statement_family(statement.query),
        kind=SpanKind.CLIENT,
        start_time=ended - int(statement.elapsed * 1_000_000_000),
        attributes={"db.system": "postgresql", "db.statement": statement.query},
    )
    if statement.exception is not None:
        span.set_status(Status(StatusCode.ERROR, type(statement.exception).__name__))
    span.end(end_time=ended)
