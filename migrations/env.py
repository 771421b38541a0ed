"""Alembic environment: migrates the engine handed over by app.core.storage.db, or the URL in
alembic.ini / $BUYBACK_DB when run from the command line."""

from alembic import context

from app.core.domain.models import Base, UTCDateTime
from app.core.storage.db import make_engine, url_for

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import the models' helper types: they outlive them.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(
        url_for(config.get_main_option("sqlalchemy.url"))
    )
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations copy a table and drop the old one; with foreign keys on,
            # SQLite refuses to drop a table other rows point to. Off for the migration
            # only, on the raw connection: the pragma is a no-op inside a transaction.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            # render_as_batch: SQLite cannot ALTER most things; batch mode copies tables.
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


run_migrations_online()
