"""Database setup (SQLite pragmas, Alembic upgrade on start) and the engine's writer that
commits many small units of work in one transaction."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Insert, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from app.core.storage.errors import classify
from app.core.support.errors import KnownError
from app.core.support.paths import data_dir

log = logging.getLogger(__name__)

R = TypeVar("R")

DB_ENV = "BUYBACK_DB"
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


# What the operator may have meant as a URL but is not one: a kind followed by ":" without
# "//" ("file:/tmp/x", "postgresql:/host") or by "//" without ":" ("postgres//x"). Two
# letters at least, so that a Windows drive ("C:/data/x.sqlite3") stays a path.
_URL_LIKE = re.compile(r"[A-Za-z][\w+.-]+:(?!//)|[A-Za-z][\w+.-]*//")


def default_url() -> str:
    """The database the console uses unless told otherwise: `$BUYBACK_DB` (a URL or a
    SQLite file), else a SQLite file in the user's data directory."""
    given = os.environ.get(DB_ENV, "").strip()
    if given:
        return url_for(given, named_by=f"${DB_ENV}")
    return f"sqlite:///{data_dir() / 'console.sqlite3'}"


def url_for(given: str | None, *, named_by: str = "--db") -> str:
    """The database URL for what the operator named (`--db`, `$BUYBACK_DB`): a URL (with
    "://") as it is, anything else a SQLite file (~ expanded, made absolute); nothing
    named, `default_url()`. A URL that cannot be opened is a KnownError naming it (its
    password hidden) and `named_by`, where the operator gave it."""
    given = (given or "").strip()
    if not given:
        return default_url()
    if "://" not in given:
        if _URL_LIKE.match(given):
            raise KnownError(
                f"The database '{display_url(given)}' given by {named_by} is neither a URL nor "
                "a file: write a URL as kind://user@host/name (for example "
                "postgresql://buyer@db.example/buyback), or start a file's path with ./"
            )
        return f"sqlite:///{Path(given).expanduser().resolve()}"
    try:
        make_url(given).get_dialect()
    except (ArgumentError, ValueError, NoSuchModuleError) as exc:
        why = (
            f"unknown database kind {given.split('://', 1)[0]!r}"
            if isinstance(exc, NoSuchModuleError)
            else "it is not a valid URL"
        )
        raise KnownError(
            f"The database '{display_url(given)}' given by {named_by} cannot be opened: {why}. "
            "Write it as kind://user@host/name (for example "
            "postgresql://buyer@db.example/buyback), or give a SQLite file."
        ) from None
    return given


def display_url(url: str) -> str:
    """A database URL as the operator may see it (a screen, a log): its password hidden,
    whether it parses or not."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        head, at, host = url.rpartition("@")
        if not at:
            return url
        kind = re.match(r"[\w+.-]*:?/*", head)
        return f"{kind.group() if kind else ''}***@{host}"


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for a server or an in-memory database."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.query.get("uri"):
        return None
    return Path(u.database) if u.database and u.database != ":memory:" else None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the console's views read while the engine writes. FULL syncs the log at
    # every commit: "submitting" must be on disk before the place-order click, or a power
    # cut could erase it and the unit be bought again. Group commit (Database.write) keeps
    # that to one sync per batch of state changes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Another process (a second console, `main.py run`) may hold the write lock briefly.
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


READ_ONLY = "buyback_read_only"  # an execution option: this connection only reads


def _begin(conn: Connection) -> None:
    # A write transaction takes the write lock up front (BEGIN IMMEDIATE) instead of
    # failing half-way; a read-only one must not take it, or every view's read would
    # hold up the engine's writes (WAL lets readers and the writer run side by side).
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is not None:
            # The file holds logins and phone numbers: only its user may read it. SQLite
            # gives the -wal and -shm files the database file's mode.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError:
                pass  # it exists (and keeps its mode), or SQLite will say why it cannot
        # Our own threads share connections only through the pool, one at a time.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so a
        # write transaction takes the lock up front instead of failing half-way.
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Brings the schema to this code's version; refuses a database made by newer code."""
    cfg = _alembic_config(engine)
    scripts = ScriptDirectory.from_config(cfg)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    known = {rev.revision for rev in scripts.walk_revisions()}
    unknown = [rev for rev in current if rev not in known]
    if unknown:
        raise KnownError(
            f"The database was written by a newer version of the console (schema {unknown[0]}). "
            "Update the console, or open another database with --db."
        )
    if set(current) != set(scripts.get_heads()):
        command.upgrade(cfg, "head")


_DEFERRED = "deferred_inserts"


def defer_insert(conn: Connection, stmt: Insert, params: dict[str, Any]) -> None:
    """Adds a row to insert at the end of the current transaction, together with the
    other deferred rows of the same statement in one executemany. For append-only rows
    that nothing reads back inside the transaction (the Task history)."""
    pending = conn.info.setdefault(_DEFERRED, {})
    pending.setdefault(stmt, []).append(params)


def _flush_deferred(conn: Connection) -> None:
    for stmt, rows in conn.info.pop(_DEFERRED, {}).items():
        conn.execute(stmt, rows)


class Database:
    """The console's database: a session factory for views and a group-committing writer
    for the engine.

    Attributes:
        url: the SQLAlchemy URL.
        engine: the SQLAlchemy engine.
        sessions: a sessionmaker for short units of work that write (commands, imports).
        readers: a sessionmaker for reads (views, the engine's reads).
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True):
        self.url = url_for(url)
        self.engine = make_engine(self.url)
        try:
            if migrate:
                upgrade(self.engine)
        except DBAPIError as exc:
            self.engine.dispose()
            fault = classify(exc)
            reason = fault.reason if fault is not None else str(exc.orig)
            raise KnownError(
                f"Cannot open the database {display_url(self.url)}: {reason}. Or open another "
                "database with --db."
            ) from exc
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._writer: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._pending: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def session(self) -> Session:
        """A session for a short unit of work that writes (commit it)."""
        return self.sessions()

    def reading(self) -> Session:
        """A session that only reads: it never takes the write lock, so a view's read
        does not hold up the engine's writes."""
        return self.readers()

    # -- the engine's asynchronous access -------------------------------------------

    async def write(self, fn: Callable[[Connection], R]) -> R:
        """Runs `fn(conn)` inside a write transaction on the writer thread and returns its
        result once committed. Calls made while a commit is in flight are committed
        together in the next one (group commit), which is what lets the engine record
        thousands of state changes a second on SQLite."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[R] = loop.create_future()
        self._pending.append((fn, fut))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await fut

    async def read(self, fn: Callable[[Session], R]) -> R:
        """Runs `fn(session)` on a reader thread, off the event loop."""
        if self._reader is None:
            self._reader = ThreadPoolExecutor(2, thread_name_prefix="db-read")

        def run() -> R:
            with self.readers() as s:
                return fn(s)

        return await asyncio.get_running_loop().run_in_executor(self._reader, run)

    async def _flush(self) -> None:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="db-write")
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending, []
            results = await loop.run_in_executor(self._writer, self._commit_batch, batch)
            for (_fn, fut), (ok, value) in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)

    def _commit_batch(self, batch: list[tuple[Callable[[Connection], Any], Any]]) -> list[Any]:
        try:
            with self.engine.begin() as conn:
                conn.info.pop(_DEFERRED, None)  # left over from a rolled-back unit
                results = [(True, fn(conn)) for fn, _ in batch]
                _flush_deferred(conn)
                return results
        except Exception:
            if len(batch) == 1:
                return [self._commit_one(batch[0][0])]
        # One unit failed and rolled the whole group back: run each in its own
        # transaction so only the failing one reports an error.
        return [self._commit_one(fn) for fn, _ in batch]

    def _commit_one(self, fn: Callable[[Connection], Any]) -> tuple[bool, Any]:
        try:
            with self.engine.begin() as conn:
                conn.info.pop(_DEFERRED, None)
                result = fn(conn)
                _flush_deferred(conn)
                return True, result
        except Exception as exc:  # handed to the awaiting coroutine
            return False, exc

    def close(self) -> None:
        for pool in (self._writer, self._reader):
            if pool is not None:
                pool.shutdown(wait=True)
        self._writer = self._reader = None
        self.engine.dispose()
