"""Database plumbing: the declarative base, column types, engine and sessions; the owner check
and the paginated list every resource reads through (``owned``, ``paginate``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import uuid_utils
from sqlalchemy import ColumnElement, DateTime, Engine, String, create_engine, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from roughy.errors import not_found


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A UUIDv7 (time-ordered) in lower-case canonical text."""
    return str(uuid_utils.uuid7())


def parse_id(value: str) -> str | None:
    """The canonical form of a UUID given in a path, or None when it is not one."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = String(36)


def upsert_into(session: Session, table: Any) -> Any:
    """An INSERT of the session's dialect, which takes ``on_conflict_do_*`` (PostgreSQL, SQLite)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class Base(DeclarativeBase):
    pass


M = TypeVar("M", bound=Base)


def owned(session: Session, model: type[M], entity_id: str, account_id: str, what: str) -> M:
    """The row of ``model`` with this id if the account owns it; else 404, as a missing one."""
    row = session.get(model, entity_id)
    if row is None or getattr(row, "account_id", None) != account_id:
        raise not_found(what)
    return row


def paginate(
    session: Session, model: type[M], where: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[M], int]:
    """One page of the rows matching ``where``, newest first, and how many match in all."""
    total = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    newest = (getattr(model, "created_at").desc(), getattr(model, "id").desc())  # noqa: B009
    rows = session.scalars(
        select(model).where(*where).order_by(*newest).limit(limit).offset(offset)
    ).all()
    return list(rows), total


SQLITE_POOL_SIZE = 20  # the concurrent requests one API process serves in threads, about


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A connection per request thread, kept: opening one (file, WAL map, pragmas) costs more
        # than most queries. A local file needs no liveness ping.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.local = url.startswith("sqlite")  # a file of this machine, not a server
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
