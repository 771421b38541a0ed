"""`main.py orders import|export` as an operator runs them on a real database file."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, row_counts


def orders_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}  # the log file stays here
    return subprocess.run(
        [sys.executable, "main.py", "orders", *args, "--db", str(tmp_path / "console.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_import_dry_run_then_import_then_export(db, market, tmp_path) -> None:
    listing = tmp_path / "orders.csv"
    listing.write_bytes("Клиент;Артикул;Кол-во;ПВЗ\nООО Ромашка;A1;2;P1\n".encode("cp1251"))
    before = row_counts(db)

    dry = orders_cli(
        tmp_path, "import", str(listing), "--dry-run", "--json", "--marketplace", "mem"
    )
    assert dry.returncode == 0, dry.stderr
    assert "Dry run, nothing written: 1 order, 2 units" in dry.stdout
    assert row_counts(db) == before

    done = orders_cli(tmp_path, "import", str(listing), "--json", "--marketplace", "mem")
    assert done.returncode == 0, done.stderr
    assert "Imported 1 order (#" in done.stdout
    (order_id,) = json.loads(done.stdout.strip().splitlines()[-1])["order_ids"]

    out = tmp_path / "report.csv"
    exported = orders_cli(tmp_path, "export", str(order_id), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert [r[1] for r in rows[1:]] == ["ООО Ромашка"] * 2
    assert [r[9] for r in rows[1:]] == ["pending"] * 2  # not bought yet: the engine did not run


def test_a_bad_row_exits_1_and_writes_nothing(db, market, tmp_path) -> None:
    listing = tmp_path / "orders.csv"
    listing.write_text("client;article;qty;pvz\nAcme;A1;0;P1\n", encoding="utf-8")
    before = row_counts(db)
    result = orders_cli(tmp_path, "import", str(listing), "--marketplace", "mem")
    assert result.returncode == 1
    assert "row 2" in result.stdout and "field 'quantity'" in result.stdout
    assert row_counts(db) == before


def test_an_unknown_marketplace_option_is_refused_before_the_file_is_read(
    db, market, tmp_path
) -> None:
    listing = tmp_path / "orders.csv"
    listing.write_text("client;article;qty;pvz\nAcme;A1;1;P1\n", encoding="utf-8")
    before = row_counts(db)

    result = orders_cli(tmp_path, "import", str(listing), "--marketplace", "ozon")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: --marketplace ozon: 'ozon' is Ozon, which is not set up here; add it in "
        "Marketplaces (or: main.py marketplaces add ozon --preset ozon)"
    ]
    assert row_counts(db) == before
