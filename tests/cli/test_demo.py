"""`python main.py demo` as the operator runs it, with its own in-process shop and real
browsers: one demo account per unit unless told otherwise, units that cannot be bought
said at the start and in the summary, and a fresh demo database for each run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import run_main
from sqlalchemy import func, select

from app.core.domain.models import BuyBack, MarketPlaceAccount, Order
from app.core.storage.db import Database

pytestmark = pytest.mark.browser


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_main(tmp_path, "demo", *args)


def demo_db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "BuybackConsole" / "demo.sqlite3"


def count(path: Path, what: type) -> int:
    db = Database(str(path))
    try:
        with db.reading() as s:
            return int(s.scalar(select(func.count()).select_from(what)) or 0)
    finally:
        db.close()


def test_accounts_follow_units_so_every_unit_is_bought(tmp_path: Path) -> None:
    done = demo(tmp_path, "--units", "6", "--concurrency", "3", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["units"], summary["purchased"], summary["failed"]) == (6, 6, 0)
    assert "will wait" not in done.stderr

    path = demo_db(tmp_path)
    assert count(path, MarketPlaceAccount) == 6  # one per unit, not the old fixed 50
    db = Database(str(path))
    with db.reading() as s:
        buyers = s.scalar(select(func.count(func.distinct(BuyBack.account_id))))
    db.close()
    assert buyers == 6


def test_fewer_accounts_than_units_is_said_first_and_in_the_summary(tmp_path: Path) -> None:
    done = demo(tmp_path, "--units", "4", "--accounts", "2", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    warned = [line for line in done.stderr.splitlines() if "will wait" in line]
    assert warned == ["2 of 4 units will wait: only 2 demo accounts (--accounts), one unit each."]
    assert done.stderr.splitlines()[0] == warned[0]  # before any progress

    lines = done.stdout.strip().splitlines()
    assert "2 units left waiting: only 2 demo accounts (--accounts), one unit each." in lines
    summary = json.loads(lines[-1])
    assert (summary["units"], summary["purchased"], summary["waiting_account"]) == (4, 2, 2)


def test_each_demo_without_db_starts_on_a_fresh_database(tmp_path: Path) -> None:
    for _ in range(2):
        done = demo(tmp_path, "--units", "1")
        assert done.returncode == 0, done.stdout + done.stderr
        assert count(demo_db(tmp_path), Order) == 1


def test_a_demo_on_a_given_database_keeps_its_orders(tmp_path: Path) -> None:
    own = demo_db(tmp_path)
    own.parent.mkdir(parents=True)
    own.write_bytes(b"the demo's own file, not to be touched by a run with --db")
    given = tmp_path / "mine.sqlite3"
    for runs in (1, 2):
        done = demo(tmp_path, "--units", "1", "--db", str(given))
        assert done.returncode == 0, done.stdout + done.stderr
        assert count(given, Order) == runs
    assert own.read_bytes() == b"the demo's own file, not to be touched by a run with --db"
