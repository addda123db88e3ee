"""Alembic environment. Configured in code by `hallmark.migrations.config()` (there is no alembic.ini): the
caller hands over an open connection in `config.attributes["connection"]` (already inside its transaction and
holding the migration lock, see `hallmark.migrations.upgrade`), or a URL in the `sqlalchemy.url` option.

Revisions are rendered as batch operations (`render_as_batch`), whatever database they were generated against:
SQLite can only change a table by copying it, which batch mode does, and on PostgreSQL the same batch block
is plain ALTER TABLE. So every revision runs on both."""
from alembic import context
from sqlalchemy import create_engine, pool

from hallmark import models  # noqa: F401  (registers the tables)
from hallmark.db import Base

config = context.config
OPTIONS = dict(target_metadata=Base.metadata, render_as_batch=True, compare_type=True)


def run(connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():  # a no-op when the caller's transaction is already open
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
elif (conn := config.attributes.get("connection")) is not None:
    run(conn)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
