"""A broken database seen from the command line: one line saying what is wrong and what
to do, a non-zero exit, and no traceback on the screen (it goes to the log file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import run_main, seed_market

from app.core.storage.db import Database

PAGE = 4096


def accounts_list(tmp_path: Path, db_path: Path) -> subprocess.CompletedProcess[str]:
    return run_main(tmp_path, "accounts", "list", "--db", str(db_path))


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_a_database_damaged_in_the_middle_is_said_in_one_line(tmp_path) -> None:
    path = tmp_path / "console.sqlite3"
    db = Database(str(path))
    seed_market(db, accounts=300)  # enough rows for pages past the schema
    db.close()
    data = bytearray(path.read_bytes())
    for page in range(3, len(data) // PAGE - 1, 2):  # the header and schema stay readable
        data[page * PAGE + 8 : page * PAGE + 512] = b"\xff" * 504
    path.write_bytes(bytes(data))

    line = one_error_line(accounts_list(tmp_path, path))
    assert "the database file is damaged; restore it from a backup" in line


def test_a_database_locked_by_another_program_is_said_in_one_line(tmp_path) -> None:
    path = tmp_path / "console.sqlite3"
    Database(str(path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        line = one_error_line(accounts_list(tmp_path, path))
    finally:
        holder.kill()
        holder.wait()
    assert "another program holds the database locked; close it" in line
