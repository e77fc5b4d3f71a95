"""Alembic environment: migrations always run on a connection handed in by ``runner``."""

from alembic import context

from adapters.sqlalchemy.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `mfa-service migrate`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
