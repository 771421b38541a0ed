"""A lost or damaged secrets key is said plainly at start, before any purchase: one line,
a non-zero exit, no traceback, and a new key is never used over existing secrets."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helpers import row_counts, run_main, seed_market

from app.core.storage.db import Database


def main_py(tmp_path: Path, key: Path, *args: str) -> subprocess.CompletedProcess[str]:
    db = str(tmp_path / "console.sqlite3")
    return run_main(tmp_path, *args, "--db", db, BUYBACK_KEY_FILE=str(key))


def test_a_lost_key_stops_the_engine_before_it_starts(tmp_path, key_file) -> None:
    db = Database(str(tmp_path / "console.sqlite3"))
    seed_market(db, accounts=3)  # passwords encrypted with the test's key file
    before = row_counts(db)
    db.close()
    lost = tmp_path / "elsewhere" / "secrets.key"  # as if the key file was deleted

    for command in (("run", "--until-idle"), ("accounts", "list")):
        done = main_py(tmp_path, lost, *command)
        assert done.returncode == 2, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "is not the one this database was written with" in errors[0]
        assert str(lost) in errors[0] and "Traceback" not in done.stderr

    db = Database(str(tmp_path / "console.sqlite3"))
    assert row_counts(db) == before  # nothing changed
    db.close()
    back = main_py(tmp_path, key_file, "accounts", "list")  # the original key, restored
    assert back.returncode == 0 and "3 accounts." in back.stdout


def test_a_damaged_key_file_is_named_in_one_line(tmp_path) -> None:
    garbage = tmp_path / "secrets.key"
    garbage.write_text("this is not a key")
    done = main_py(tmp_path, garbage, "accounts", "list")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "does not hold a valid key" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert garbage.read_text() == "this is not a key"
