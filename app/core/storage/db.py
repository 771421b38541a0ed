"""Database setup (SQLite pragmas, Alembic upgrade on start) and the engine's writer that
commits many small units of work in one transaction."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any, TypeGuard, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    ClauseElement,
    Connection,
    Dialect,
    Engine,
    Executable,
    Insert,
    Update,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler

from app.core.domain.clock import utcnow
from app.core.domain.models import CommitToken
from app.core.storage import team
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
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:  # a file where a folder should be, no permission
                raise KnownError(
                    f"Cannot open the database {path}: its folder cannot be made "
                    f"({exc.strerror or exc}). Open another database with --db."
                ) from None
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError:
                pass  # it exists (and keeps its mode), or SQLite will say why it cannot
        # Our own threads share connections only through the pool, one at a time. Many
        # statements to keep prepared: a batch of each size is a statement of its own
        # (_Values), and preparing one anew costs more than running it.
        args = {"check_same_thread": False, "timeout": 10, "cached_statements": 1024}
        engine = create_engine(url, connect_args=args)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so a
        # write transaction takes the lock up front instead of failing half-way.
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "before_execute", _send_before_execute)
    return engine


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


# Held while a server's schema is checked and migrated: consoles and workers that start
# together migrate it once, one after the other (a constant of ours: "buyback" in ASCII).
_MIGRATION_LOCK = 0x6275796261636B


def upgrade(engine: Engine) -> None:
    """Brings the schema to this code's version; refuses a database made by newer code.
    On a server, under an advisory lock: of several processes starting at once, one
    migrates and the others find the schema up to date."""
    if engine.dialect.name != "postgresql":
        _upgrade(engine)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        conn.commit()
        try:
            _upgrade(engine)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            conn.commit()


def _upgrade(engine: Engine) -> None:
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


# -- batched writes in the writer's transactions ----------------------------------
#
# At thousands of state changes a second the cost is SQLAlchemy's Python layer per
# statement, not SQLite. Inside the writer's transactions, `defer` keeps a write back and
# sends it with the other rows of the same statement in one executemany: before the
# transaction's next other statement (so every read sees every earlier write, exactly as
# if each had run at once) or at the commit. Rows of different statements may go in
# another order than they came, so they must not touch the same row: `key` names the row
# a write changes, and a second write of the same row sends the ones held first.

_BATCH = "buyback_batch"  # the held writes of the transaction, in Connection.info

# The writer keeps its connection from one transaction to the next when the next comes
# within this many seconds; after a longer pause it takes one from the pool, checked.
WRITER_IDLE_S = 2.0


class _Redo(Exception):
    """A held write failed in a group commit: the group is rolled back and each unit of
    work runs again alone, where the failure is its own."""


LostRow = Callable[[], Exception]


@dataclass
class _Held:
    """The writes a writer's transaction holds back. `grouped`: several units of work
    share the transaction (a failure is nobody's in particular yet)."""

    grouped: bool
    ordered: dict[Executable, list[tuple[dict[str, Any], LostRow | None]]] = field(
        default_factory=dict
    )
    appended: dict[Executable, list[dict[str, Any]]] = field(default_factory=dict)
    stamps: dict[Executable, str] = field(default_factory=dict)  # the time column to set
    keys: set[Hashable] = field(default_factory=set)
    failed: bool = False


def defer(
    conn: Connection,
    stmt: Executable,
    params: dict[str, Any],
    *,
    lost: LostRow | None = None,
    key: Hashable | None = None,
) -> None:
    """Executes `stmt` with `params`, at once outside the writer, else held back and sent
    with the other rows of the same statement before the transaction's next other
    statement or at its commit.

    `lost`: the statement is guarded (it must change exactly one row, and its WHERE can
    match at most one: a primary key) and `lost()` is the error when it changes none. The
    error then comes later (at the caller's next statement, or when its unit of work
    ends) and fails the caller's whole unit of work: a caller that must react to it
    executes the statement itself. `key`: the row the write
    changes (see above)."""
    held: _Held | None = conn.info.get(_BATCH)
    if held is None:
        if conn.execute(stmt, params).rowcount != 1 and lost is not None:
            raise lost()
        return
    if key is not None:
        if key in held.keys:
            _send_ordered(conn, held)
        held.keys.add(key)
    held.ordered.setdefault(stmt, []).append((params, lost))


def defer_insert(
    conn: Connection, stmt: Executable, params: dict[str, Any], *, stamp: str | None = None
) -> None:
    """Adds an append-only row (the Task history) that nothing reads back inside the
    transaction: held until the commit, then sent with the other rows of the same
    statement in one executemany. At once outside the writer. `stamp`: the row's time
    column, set to the time it is written (on the database's clock: domain.clock), not
    the time it was asked for, so that the history's times follow the commits' order
    even when a write waited for the writer."""
    held: _Held | None = conn.info.get(_BATCH)
    if stamp is not None:
        params[stamp] = utcnow()
    if held is None:
        conn.execute(stmt, params)
    else:
        held.appended.setdefault(stmt, []).append(params)
        if stamp is not None:
            held.stamps.setdefault(stmt, stamp)


def sane_rowcount(conn: Connection) -> bool:
    """Whether an executemany's rowcount is the sum of its rows' (psycopg2's is not)."""
    return bool(conn.dialect.supports_sane_multi_rowcount)


def execute_many(conn: Connection, stmt: Executable, rows: list[dict[str, Any]]) -> int:
    """Executes `stmt` once per row, as one statement where the database allows it (SQLite:
    _Values, PostgreSQL: _Unnest), else one executemany; returns the rows changed in all
    (meaningful where `sane_rowcount`). Each row must change rows of its own: rows of one
    statement do not see each other's changes, and two rows naming the same table row
    change it once."""
    if not rows:
        return 0
    # The plan goes to the cursor itself, past the listener that sends held writes first.
    _send_before_execute(conn)
    keys = tuple(rows[0])
    plan: _Plan | _Values | _Unnest | None = None
    if len(rows) > 1 and conn.dialect.name == "sqlite":
        plan = _values(stmt, conn.dialect, keys)
    elif len(rows) > 1 and conn.dialect.name == "postgresql":
        plan = _unnest(stmt, conn.dialect, keys)
    if plan is None and conn.dialect.positional:
        plan = _plan(stmt, conn.dialect, keys)
    if plan is None:
        return int(conn.execute(stmt, rows).rowcount)
    return plan.run(conn, rows)


# Each value a statement binds: (the row's key, or None for a fixed value; the fixed
# value; the type's processor).
Bind = tuple[str | None, Any, Callable[[Any], Any] | None]
Binds = tuple[Bind, ...]


@dataclass(frozen=True)
class _Plan:
    """A statement compiled once for one dialect and one set of row keys, executed with
    the DBAPI's executemany. Each value is bound as Connection.execute binds it (with its
    column type's processor; the statement's own fixed values as they are); what is
    skipped is SQLAlchemy's Python work per row and per execution, which costs more than
    SQLite itself at thousands of rows a second."""

    sql: str
    binds: Binds

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        return _on_cursor(conn, self.sql, _bound(self.binds, rows), many=True)


def _bound(binds: Binds, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's parameters in the order of `binds` (see _Plan.binds). Column by column:
    the rows' values taken and zipped back in C, processed per column (the rows of a
    group commit often share their times)."""
    n = len(rows)
    columns: list[Iterable[Any]] = []
    for key, fixed, process in binds:
        if key is None:
            columns.append(itertools.repeat(fixed, n))
            continue
        values = [row[key] for row in rows]
        columns.append(values if process is None else _processed(values, process))
    return list(zip(*columns, strict=False))


def _on_cursor(conn: Connection, sql: str, params: Any, *, many: bool, binary: bool = False) -> int:
    """Runs `sql` on the DBAPI cursor itself; returns its rowcount. Errors are wrapped as
    Connection.execute wraps them. `binary`: psycopg sends the parameters in binary."""
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        elif binary:
            cast(Any, cursor).execute(sql, params, binary=True)  # psycopg's own option
        else:
            cursor.execute(sql, params)
        return int(cursor.rowcount)
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


def _processed(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    # Keyed by the zone and fold too: datetimes compare equal as instants across zones,
    # and within one zone whatever their fold (the hour a clock goes back), yet each is
    # its own text.
    done: dict[tuple[datetime, Any, int], Any] = {}
    out = []
    for v in values:
        if type(v) is datetime:
            key = (v, v.tzinfo, v.fold)
            if key not in done:
                done[key] = process(v)
            out.append(done[key])
        else:
            out.append(process(v))
    return out


def _plain(compiled: object) -> TypeGuard[SQLCompiler]:
    """Whether a compiled statement binds only the rows' values and its own fixed ones:
    no Python-side defaults (computed by Connection.execute), RETURNING, expanding or
    escaped parameters."""
    return isinstance(compiled, SQLCompiler) and not (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.effective_returning
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
    )


def _fixed(compiled: SQLCompiler, name: str) -> Bind | None:
    """A value the statement fixes itself, as a bind of _Plan.binds (processed once,
    here); None when it has none (Connection.execute says which is missing) or it takes
    a tuple's processors, one per element."""
    bind = compiled.binds[name]
    process = compiled._bind_processors.get(name)
    if bind.required or (process is not None and not callable(process)):
        return None
    value = bind.effective_value
    return None, value if process is None else process(value), None


@functools.lru_cache(maxsize=256)
def _plan(stmt: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    """The statement's _Plan, or None where only Connection.execute does it right."""
    compiled = cast(ClauseElement, stmt).compile(dialect=dialect, column_keys=list(keys))
    if not _plain(compiled) or compiled.positiontup is None:
        return None
    processors = compiled._bind_processors
    binds: list[Bind] = []
    for key in compiled.positiontup:
        process = processors.get(key)
        if process is not None and not callable(process):
            return None  # a tuple's processors, one per element
        bind = (key, None, process) if key in keys else _fixed(compiled, key)
        if bind is None:
            return None
        binds.append(bind)
    return _Plan(compiled.string, tuple(binds))


# SQLite's UPDATE ... FROM (3.33): what a _Values update needs.
_SQLITE_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33)
_NAMED_BIND = re.compile(r":(\w+)")


@dataclass(frozen=True)
class _Values:
    """On SQLite, one INSERT or UPDATE for all the rows: the rows are one VALUES list (an
    UPDATE reads it as a table `v` that its own WHERE joins by key). sqlite3's
    executemany steps each row on its own, letting go of the GIL and taking it back each
    time: with the engine's event loop busy on the other core, a row then costs ten
    times its SQL, and the CPU spent handing the GIL over. One statement hands it over
    once."""

    head: str  # before the rows
    row: str  # one row's placeholders: "(?, ?, ?)"
    tail: str  # after the rows
    binds: Binds  # as _Plan's
    before: tuple[Any, ...]  # the values an UPDATE fixes itself, bound before the rows
    fixed: tuple[Any, ...]  # and after them
    limit: int  # rows a statement may bind

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        flat = _bound(self.binds, rows)
        changed = 0
        for at in range(0, len(flat), self.limit):
            chunk = flat[at : at + self.limit]
            sql = self.head + ", ".join(itertools.repeat(self.row, len(chunk))) + self.tail
            params = [*self.before, *(v for r in chunk for v in r), *self.fixed]
            changed += _on_cursor(conn, sql, params, many=False)
        return changed


@functools.lru_cache(maxsize=256)
def _values(stmt: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Values | None:
    """The statement's _Values, or None where executemany does it right."""
    if not isinstance(stmt, Insert | Update) or (
        isinstance(stmt, Update) and not _SQLITE_UPDATE_FROM
    ):
        return None
    named = cast(Any, type(dialect))(paramstyle="named")
    compiled = cast(ClauseElement, stmt).compile(dialect=named, column_keys=list(keys))
    if not _plain(compiled):
        return None
    processors = cast(dict[str, Callable[[Any], Any] | None], compiled._bind_processors)
    sql = compiled.string
    names = _NAMED_BIND.findall(sql)
    if not set(names) <= set(compiled.binds) or any(
        p is not None and not callable(p) for p in processors.values()
    ):
        return None  # a ":" that is no value of ours, or a tuple's processors

    binds: list[Bind] = []
    before: list[Any] = []  # an UPDATE's own values, bound before the rows (in SET)
    fixed: list[Any] = []  # and after them (in WHERE)
    if isinstance(stmt, Insert):
        head, values, tail = sql.partition(" VALUES (")
        columns = [p.strip() for p in tail[:-1].split(",")] if tail.endswith(")") else []
        if not values or not columns or not all(_NAMED_BIND.fullmatch(p) for p in columns):
            return None  # not one plain value per column
        for part in columns:
            name = part[1:]
            bind = (name, None, processors.get(name)) if name in keys else _fixed(compiled, name)
            if bind is None:
                return None
            binds.append(bind)
        head, tail = f"{head} VALUES ", ""
    else:
        head, where, tail = sql.partition(" WHERE ")
        if "SELECT" in head or " FROM " in head:
            return None  # a subquery in SET, or a FROM of its own: not ours
        used = [k for k in keys if k in names]
        binds = [(k, None, processors.get(k)) for k in used]
        # The rows' columns are VALUES' own names (column1, ...): a WITH naming them would
        # lose the rowcount (sqlite3 counts rows only for a statement that starts as one).
        column = {k: f"v.column{i}" for i, k in enumerate(used, 1)}
        parts: list[str] = []
        for text_, values_ in ((head, before), (where + tail, fixed)):
            for name in _NAMED_BIND.findall(text_):
                if name not in column:
                    bind = _fixed(compiled, name)
                    if bind is None:
                        return None
                    values_.append(bind[1])
            parts.append(_NAMED_BIND.sub(lambda m: column.get(m.group(1), "?"), text_))
        head, tail = f"{parts[0]} FROM (VALUES ", f") AS v{parts[1]}"
    if not binds:
        return None
    row = "(" + ", ".join("?" * len(binds)) + ")"
    limit = (_variable_limit() - len(before) - len(fixed)) // len(binds)
    if limit < 1:
        return None
    return _Values(head, row, tail, tuple(binds), tuple(before), tuple(fixed), min(limit, 500))


@functools.cache
def _variable_limit() -> int:
    """The bound values a SQLite statement may take: 32766 since SQLite 3.32, 999 before
    (or what the library was built with)."""
    with sqlite3.connect(":memory:") as conn:
        return int(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


# A PostgreSQL bind as the psycopg dialect renders it: its name and its cast.
_PG_BIND = re.compile(
    r"%\((\w+)\)s::((?:TIMESTAMP|TIME) WITH(?:OUT)? TIME ZONE|DOUBLE PRECISION"
    r"|[A-Z][A-Z0-9_]*(?:\(\d+(?:, ?\d+)?\))?)"
)


@dataclass(frozen=True)
class _Unnest:
    """On PostgreSQL, one INSERT or UPDATE for all the rows: the rows go as one JSON
    parameter, read as a row source `v` (json_to_recordset, each column with its type).
    One statement instead of one per row: the server plans and runs it (and fires its
    statement triggers) once, which is what a group commit of many units spends its time
    on. JSON rather than an array a column: psycopg dumps a list element by element in
    Python (a fifth of the writer's time), json.dumps in C."""

    sql: str
    columns: Binds  # the rows' keys in `v`, each with its processor
    key: str | None  # the key of the rows' table row, sent again as an array (see below)
    fixed: dict[str, Any]

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        names = [k for k, _, _ in self.columns]
        params = dict(self.fixed)
        params["_rows"] = json.dumps(
            [dict(zip(names, row, strict=True)) for row in _bound(self.columns, rows)],
            default=str,  # a NUMERIC's Decimal, as the server reads it (times: _as_json_text)
            ensure_ascii=False,
        )
        if self.key is not None:
            params["_keys"] = [row[self.key] for row in rows]
        return _on_cursor(conn, self.sql, params, many=False, binary=True)


# The types a row's column may have in a _Unnest: what JSON carries without loss.
_JSON_TYPES = re.compile(
    r"(?:SMALLINT|INTEGER|BIGINT|BOOLEAN|TEXT|VARCHAR(?:\(\d+\))?|NUMERIC(?:\(\d+, ?\d+\))?"
    r"|DOUBLE PRECISION|FLOAT|REAL|DATE|(?:TIMESTAMP|TIME) WITH(?:OUT)? TIME ZONE)"
)


@functools.lru_cache(maxsize=256)
def _unnest(stmt: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Unnest | None:
    """The statement's _Unnest, or None where only executemany does it right."""
    if not isinstance(stmt, Insert | Update):
        return None
    compiled = cast(ClauseElement, stmt).compile(
        dialect=dialect, column_keys=list(keys), for_executemany=True
    )
    if not _plain(compiled):
        return None
    sql = compiled.string
    types = dict(_PG_BIND.findall(sql))
    columns = [k for k in keys if k in types]
    if (
        not columns
        or any(name not in types for name in compiled.binds if name in keys)
        or not all(_JSON_TYPES.fullmatch(types[k]) for k in columns)
    ):
        return None
    processors = compiled._bind_processors
    if any(k in processors and not callable(processors[k]) for k in columns):
        return None
    source = (
        "json_to_recordset(%(_rows)s::json) AS v("
        + ", ".join(f'"{k}" {types[k]}' for k in columns)
        + ")"
    )
    for k in columns:
        sql = sql.replace(f"%({k})s::{types[k]}", f'v."{k}"')
    key = None
    if isinstance(stmt, Insert):
        head, values, tail = sql.partition(" VALUES (")
        if not values or not tail.endswith(")"):
            return None
        sql = f"{head} SELECT {tail[:-1]} FROM {source}"
    else:
        head, where, tail = sql.partition(" WHERE ")
        if "SELECT" in head:  # a subquery before the statement's own WHERE: not ours
            return None
        sql = f"{head} FROM {source}{where}{tail}"
        # The rows are found by their key, an index whatever the planner believes of the
        # table: a fresh table not yet analyzed is taken for one row, and a join of it
        # with `v` then runs as a nested loop over every row (20 ms for 64 accounts of
        # 1,000). The keys sent again as an array give the planner its index path.
        name = getattr(stmt.table, "name", None)  # a plain table (not a join or alias)
        table = dialect.identifier_preparer.quote(name) if name else None
        key = next((k for k in columns if f'{table}.id = v."{k}"' in sql), None)
        if table is not None and key is not None:
            sql += f" AND {table}.id = ANY(%(_keys)s::{types[key]}[])"
    fixed = {}
    for name, value in compiled.construct_params(_check=False).items():
        if name in keys:
            continue
        process = processors.get(name)
        if process is not None and not callable(process):
            return None
        fixed[name] = value if process is None else process(value)
    binds: list[Bind] = []
    for k in columns:
        each = cast(Callable[[Any], Any] | None, processors.get(k))  # callable: above
        binds.append((k, None, _as_json_text(each) if _TEMPORAL.match(types[k]) else each))
    return _Unnest(sql, tuple(binds), key, fixed)


_TEMPORAL = re.compile(r"DATE|TIME")


def _as_json_text(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """A time column's processor for a _Unnest: the value as the server reads it, made
    text here, where _bound does it once for the rows that share it (a group commit's
    rows share their times), not by json.dumps for each row."""

    def run(value: Any) -> Any:
        if process is not None:
            value = process(value)
        return value.isoformat() if isinstance(value, datetime | date | dt_time) else value

    return run


def _send_ordered(conn: Connection, held: _Held) -> None:
    if held.failed:
        raise _Redo("an earlier held write of this group failed")
    groups, held.ordered = held.ordered, {}
    held.keys.clear()
    try:
        for stmt, rows in groups.items():
            _send(conn, held, stmt, rows)
    except Exception as exc:
        if not held.grouped:
            raise
        # The statement running now may be another unit's, which might catch the error:
        # the group is marked, so that it is redone whatever that unit does.
        held.failed = True
        raise _Redo(f"a held write failed: {exc}") from exc


def _send(
    conn: Connection,
    held: _Held,
    stmt: Executable,
    rows: list[tuple[dict[str, Any], LostRow | None]],
) -> None:
    guarded = [lost is not None for _, lost in rows]
    params = [p for p, _ in rows]
    if not any(guarded):
        execute_many(conn, stmt, params)
        return
    if not all(guarded):
        raise TypeError("a statement's held rows must all be guarded or none")
    if held.grouped and sane_rowcount(conn):
        # Each row changes at most one row (its key), so the sum says whether all did.
        if execute_many(conn, stmt, params) != len(params):
            raise _Redo("a guarded write changed no row")
        return
    for p, lost in rows:
        if conn.execute(stmt, p).rowcount != 1:
            if held.grouped:
                raise _Redo("a guarded write changed no row")
            assert lost is not None  # every row is guarded (above)
            raise lost()


def _send_before_execute(conn: Connection, *_args: Any) -> None:
    held: _Held | None = conn.info.get(_BATCH)
    if held is not None and (held.ordered or held.failed):
        _send_ordered(conn, held)


@contextmanager
def _holding(conn: Connection, *, grouped: bool) -> Iterator[None]:
    held = conn.info[_BATCH] = _Held(grouped)
    try:
        yield
        _send_ordered(conn, held)
        appended, held.appended = held.appended, {}
        now = utcnow()  # just before the COMMIT: the rows' times follow the commits' order
        for stmt, rows in appended.items():
            stamp = held.stamps.get(stmt)
            if stamp is not None:
                for row in rows:
                    row[stamp] = now
            execute_many(conn, stmt, rows)
    finally:
        conn.info.pop(_BATCH, None)


_INSERT_TOKEN = insert(CommitToken)  # built once: every transaction on a server writes one


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
                with self.engine.begin() as conn:
                    team.load(conn)  # what the team shares (its time zone), for the clock
        except DBAPIError as exc:
            self.engine.dispose()
            fault = classify(exc)
            reason = fault.reason if fault is not None else str(exc.orig)
            raise KnownError(
                f"Cannot open the database {display_url(self.url)}: {reason}. Or open another "
                "database with --db."
            ) from exc
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        reading: dict[str, Any] = {READ_ONLY: True}
        if self.engine.dialect.name == "postgresql":
            # One snapshot per read, as SQLite's WAL gives: a view's queries agree with
            # each other while the engine commits (a read-only one never has to retry).
            reading.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        self.readers = sessionmaker(
            self.engine.execution_options(**reading), expire_on_commit=False
        )
        self._writer: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._pending: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._tokens = 0  # commit tokens written
        # The writer thread's connection, kept from one transaction to the next while
        # they follow each other closely (see _writer_connection).
        self._held: Connection | None = None
        self._held_since = 0.0  # time.monotonic() of its last transaction's end
        # engine.dispose() means "new connections from now on", the writer's too: counted,
        # from any thread, and compared by the writer before its next transaction.
        self._disposals = self._held_disposals = 0
        event.listen(self.engine, "engine_disposed", self._count_disposal)

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
            results = self._transaction([fn for fn, _ in batch], grouped=len(batch) > 1)
            return [(True, r) for r in results]
        except Exception:
            if len(batch) == 1:
                return [self._commit_one(batch[0][0])]
        # One unit failed and rolled the whole group back: run each in its own
        # transaction so only the failing one reports an error.
        return [self._commit_one(fn) for fn, _ in batch]

    def _commit_one(self, fn: Callable[[Connection], Any]) -> tuple[bool, Any]:
        try:
            return True, self._transaction([fn], grouped=False)[0]
        except Exception as exc:  # handed to the awaiting coroutine
            return False, exc

    def _transaction(self, fns: list[Callable[[Connection], Any]], *, grouped: bool) -> list[Any]:
        """Runs `fns` in one transaction and commits it. On a server the transaction also
        writes a token of its own: when the COMMIT's answer is lost (the connection broke
        as it was sent), the token tells whether it happened, so that what it did is never
        done a second time (or lost)."""
        token = None if self.engine.dialect.name == "sqlite" else uuid.uuid4().hex
        committing = False
        conn = self._writer_connection()
        try:
            with conn.begin():
                with _holding(conn, grouped=grouped):
                    results = [fn(conn) for fn in fns]
                if token is not None:
                    self._write_token(conn, token)
                committing = True
            self._held_since = time.monotonic()
            return results
        except Exception as exc:
            if isinstance(exc, DBAPIError):  # the next transaction starts on a checked one
                self._drop_writer_connection()
            if committing and token is not None and self._committed(token):
                log.warning("a COMMIT's answer was lost; it had happened")
                return results
            raise

    def _writer_connection(self) -> Connection:
        """The writer's connection: the one of the last transaction when it ended less
        than WRITER_IDLE_S ago, else one from the pool, which checks it first (a server
        may have been restarted meanwhile). Checking out and pinging for each of
        thousands of transactions a second cost more than many of them."""
        held = self._held
        if held is not None and (
            held.invalidated
            or self._held_disposals != self._disposals
            or time.monotonic() - self._held_since > WRITER_IDLE_S
        ):
            self._drop_writer_connection()
            held = None
        if held is None:
            self._held_disposals = self._disposals
            held = self._held = self.engine.connect()
        return held

    def _count_disposal(self, _engine: Engine) -> None:
        self._disposals += 1

    def _drop_writer_connection(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            try:
                held.close()
            except Exception:  # a broken connection: the pool forgets it
                log.debug("closing the writer's connection failed", exc_info=True)

    def _write_token(self, conn: Connection, token: str) -> None:
        now = utcnow()
        conn.execute(_INSERT_TOKEN, {"token": token, "at": now})
        self._tokens += 1
        if self._tokens % 1000 == 0:  # an answer lost an hour ago is long settled
            conn.execute(delete(CommitToken).where(CommitToken.at < now - timedelta(hours=1)))

    def _committed(self, token: str) -> bool:
        """Whether the transaction that wrote `token` was committed (asked on a new
        connection). Raises when the server cannot be asked: nothing is guessed."""
        with self.engine.connect() as conn:
            found = conn.scalar(select(CommitToken.token).where(CommitToken.token == token))
        return found is not None

    def close(self) -> None:
        for pool in (self._writer, self._reader):
            if pool is not None:
                pool.shutdown(wait=True)
        self._writer = self._reader = None
        self._drop_writer_connection()
        self.engine.dispose()
