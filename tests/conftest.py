"""Shared fixtures: a real database per test, a small seeded marketplace, and the secrets'
key file of the test's own.

`db` is a SQLite file; the tests of the storage, the engine, the recovery and the
console's Orders/Tasks views and window (BOTH_DATABASES) run twice, `test_x[sqlite]` and
`test_x[postgresql]`, the second on a fresh migrated PostgreSQL database. PostgreSQL is a
throwaway cluster started for the test run at the first test that needs it (or the server
$BUYBACK_TEST_PG names, see tests/pg_server.py); a test that needs it errors when it
cannot start: CI fails rather than skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Market, seed_market
from pg_server import PG_ENV, PgUnavailable, Server, external_server, start_cluster

from app.core.storage.db import Database
from app.core.support.secrets import KEY_FILE_ENV, get_vault

TESTS = Path(__file__).resolve().parent

# The tests whose `db` is each kind in turn (paths under tests/; a folder ends with "/").
# A test among them that is about SQLite itself is marked `sqlite_only`.
BOTH_DATABASES = (
    "core/storage/",
    "core/engine/",
    "core/accounts/",
    "core/orders/",
    "core/test_supervisor.py",
    "core/test_manager.py",
    "core/test_task.py",
    "ui/views/test_orders_view.py",
    "ui/views/test_tasks_model.py",
    "ui/views/test_task_detail.py",
    "ui/views/test_sorting.py",
    "ui/window/test_console.py",
    "ui/window/test_context_menus.py",
)
KINDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" not in metafunc.fixturenames:
        return
    where = metafunc.definition.path.relative_to(TESTS).as_posix()
    if where.startswith(BOTH_DATABASES) and not metafunc.definition.get_closest_marker(
        "sqlite_only"
    ):
        metafunc.parametrize("db_kind", KINDS, indirect=True)


@pytest.fixture(autouse=True)
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Secrets are encrypted with a key file of the test's own (subprocesses inherit it):
    no test touches the real keyring or the user's config folder."""
    path = tmp_path / "secrets.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    get_vault.cache_clear()
    yield path
    get_vault.cache_clear()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """The PostgreSQL server of the test run: $BUYBACK_TEST_PG, else a throwaway cluster,
    stopped and removed at the end of the run (Ctrl+C too)."""
    given = os.environ.get(PG_ENV, "").strip()
    cluster = None
    try:
        if given:
            server = external_server(given)
        else:
            cluster, server = start_cluster()
    except (PgUnavailable, OSError) as exc:
        pytest.fail(f"PostgreSQL for the tests is not available: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()
        if cluster is not None:
            cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: Server) -> Iterator[str]:
    """A database migrated to the schema's head once per run, copied for each test."""
    name = pg_server.migrated_template()
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def pg_db_url(pg_server: Server, pg_template: str) -> Iterator[str]:
    """The URL (postgresql+psycopg://user:password@127.0.0.1:PORT/NAME) of a fresh, empty,
    migrated PostgreSQL database of the test's own, dropped after it."""
    name = pg_server.copy_of(pg_template)
    yield pg_server.database_url(name)
    pg_server.drop_soon(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run, copied for each test: a copy costs a
    millisecond, a migration a few tenths of a second."""
    path = tmp_path_factory.mktemp("template") / "console.sqlite3"
    Database(str(path)).close()
    return path


@pytest.fixture
def db_kind(request: pytest.FixtureRequest) -> str:
    """The kind of database `db` is: "sqlite", or in turn "postgresql" (BOTH_DATABASES)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def db_url(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of the test's database: to open it again as another worker or a restarted
    console does (`Database(db_url)`)."""
    if db_kind == "postgresql":
        return str(request.getfixturevalue("pg_db_url"))
    path = tmp_path / "console.sqlite3"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)  # its mode too: 0600
    return f"sqlite:///{path}"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.close()


@pytest.fixture
def market(db: Database) -> Market:
    return seed_market(db, accounts=20)
