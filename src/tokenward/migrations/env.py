"""Alembic's entry point: runs migrations on a synchronous connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from tokenward.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:  # pragma: no cover - alembic_config always sets it
    raise RuntimeError("sqlalchemy.url is not set")

engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
