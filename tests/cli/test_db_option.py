"""The database named by `--db` or `$BUYBACK_DB`: a URL or a plain SQLite file path, the
same everywhere; a value that is neither is refused in one line that hides its password;
and `main.py --db FILE` opens the console on FILE."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import run_main, seed_market

import main
from app.core.storage.db import Database

PASSWORD = "s3cret-pw"


def seeded(path: Path) -> Path:
    db = Database(str(path))
    seed_market(db, accounts=3)
    db.close()
    return path


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_a_plain_path_in_buyback_db_is_the_sqlite_file_every_command_uses(tmp_path) -> None:
    seeded(tmp_path / "home" / "mine.sqlite3")
    done = run_main(
        tmp_path, "accounts", "list", BUYBACK_DB="~/mine.sqlite3", HOME=str(tmp_path / "home")
    )
    assert done.returncode == 0, done.stderr
    assert "3 accounts." in done.stdout
    assert not (tmp_path / "data").exists()  # the default database was not touched


def test_a_plain_path_in_db_wins_over_buyback_db(tmp_path) -> None:
    given = seeded(tmp_path / "given.sqlite3")
    elsewhere = tmp_path / "elsewhere.sqlite3"
    done = run_main(tmp_path, "accounts", "list", "--db", str(given), BUYBACK_DB=str(elsewhere))
    assert done.returncode == 0, done.stderr
    assert "3 accounts." in done.stdout
    assert not elsewhere.exists()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (f"postgresql://buyer:{PASSWORD}@db.example:port/buyback", "postgresql://***@"),
        (f"postgres://buyer:{PASSWORD}@db.example/buyback", "postgres://buyer:***@"),
        (f"postgresql:/buyer:{PASSWORD}@db.example/buyback", "postgresql:/***@"),
        ("postgres//x", "'postgres//x'"),
        ("foo://", "'foo://'"),
    ],
)
@pytest.mark.parametrize("named_by", ["--db", "$BUYBACK_DB"])
def test_a_bad_database_url_is_one_line_without_its_password(
    tmp_path, value, shown, named_by
) -> None:
    if named_by == "--db":
        done = run_main(tmp_path, "accounts", "list", "--db", value)
    else:
        done = run_main(tmp_path, "accounts", "list", BUYBACK_DB=value)
    line = one_error_line(done)
    assert shown in line and f"given by {named_by}" in line
    assert PASSWORD not in done.stderr + done.stdout
    assert not (tmp_path / "data").exists()  # no database was made in its place


@pytest.mark.parametrize(
    "argv",
    [
        ["--db", "/data/console.sqlite3"],
        ["--db=/data/console.sqlite3"],
        ["-v", "--db", "/data/console.sqlite3", "--language", "ru"],
        ["console", "--db", "/data/console.sqlite3"],
    ],
)
def test_main_py_with_db_opens_the_console_on_it(argv) -> None:
    args = main.parse_arguments(argv)
    assert args.func is main._console
    assert args.db == "/data/console.sqlite3"


def test_main_py_alone_opens_the_console_and_a_command_runs_that_command() -> None:
    assert main.parse_arguments([]).func is main._console
    assert main.parse_arguments(["-v"]).func is main._console
    run = main.parse_arguments(["run", "--db", "/data/console.sqlite3"])
    assert run.command == "run" and run.db == "/data/console.sqlite3"
