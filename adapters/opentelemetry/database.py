"""SQL statement spans through OpenTelemetry's SQLAlchemy instrumentation, named by statement
family (``select enrollments``) instead of the first word and the database's name. The statement
text (``db.statement``) carries placeholders only: the service binds every value."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from opentelemetry.trace import TracerProvider, get_tracer
from sqlalchemy.ext.asyncio import AsyncEngine

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
