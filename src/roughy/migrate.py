"""Alembic migrations, applied from code on start (no alembic.ini needed).

A running server checks the schema's revision with one query and imports Alembic only when
there is something to apply: the migration machinery stays out of the serving process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, pool, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0010"  # the newest revision under migrations/versions (a test keeps them in step)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def current_revision(database_url: str) -> str | None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def upgrade(database_url: str) -> None:
    if current_revision(database_url) == HEAD:
        return
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")
