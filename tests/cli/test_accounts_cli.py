"""`main.py accounts import|list|check` as an operator runs them: real files, a real
database file, and for `check` a real browser against the sandbox in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from helpers import ROOT, row_counts
from sqlalchemy import select

from app.core.domain.models import MarketPlaceAccount as A
from app.demo import seed_sandbox
from app.sandbox.process import SandboxProcess


def accounts_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}  # screenshots stay here
    return subprocess.run(
        [sys.executable, "main.py", "accounts", *args, "--db", str(tmp_path / "console.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )


def last_json(out: str) -> object:
    return json.loads(out.strip().splitlines()[-1])


def test_import_prints_the_plan_and_a_json_report(db, tmp_path) -> None:
    seed_sandbox(db, "http://127.0.0.1:9", accounts=0)
    listing = tmp_path / "accounts.csv"
    rows = ["Логин;Пароль;Лимит в день", "ivan;secret-1;2", "petr;secret-2;", "ivan;secret-3;"]
    listing.write_bytes("\n".join([*rows, "olga;pw;x"]).encode("cp1251"))
    before = row_counts(db)
    dry = accounts_cli(tmp_path, "import", str(listing), "--dry-run", "--json")
    assert dry.returncode == 1, dry.stderr  # a row was rejected
    assert last_json(dry.stdout)["written"] is False
    assert row_counts(db) == before

    done = accounts_cli(tmp_path, "import", str(listing), "--json")
    report = last_json(done.stdout)
    assert report["counts"] == {"add": 2, "update": 0, "skip": 1, "reject": 1}
    assert [(r["where"], r["login"], r["outcome"]) for r in report["rows"]] == [
        ("row 2", "ivan", "add"),
        ("row 3", "petr", "add"),
        ("row 4", "ivan", "skip"),
        ("row 5", "olga", "reject"),
    ]
    assert "'daily limit'" in report["rows"][3]["reason"]
    assert "row 5" in done.stdout and "Imported: 2 added" in done.stdout
    for secret in ("secret-1", "secret-2", "secret-3"):
        assert secret not in done.stdout + done.stderr + dry.stdout
    with db.session() as s:
        assert sorted(s.scalars(select(A.login))) == ["ivan", "petr"]


def test_a_refused_file_is_a_clear_error(db, tmp_path) -> None:
    seed_sandbox(db, "http://127.0.0.1:9", accounts=0)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    done = accounts_cli(tmp_path, "import", str(empty))
    assert done.returncode == 2
    assert f"error: {empty}: the file is empty" in done.stderr


def test_list_shows_accounts_without_secrets(db, tmp_path) -> None:
    seed_sandbox(db, "http://127.0.0.1:9", accounts=3)
    done = accounts_cli(tmp_path, "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = last_json(done.stdout)
    assert [r["login"] for r in rows] == ["buyer001", "buyer002", "buyer003"]
    assert {r["health"] for r in rows} == {"unknown"}
    assert "password" not in rows[0] and "session_state" not in rows[0]
    assert "demo-pass" not in done.stdout and "enc:v1:" not in done.stdout


@pytest.mark.browser
def test_check_marks_valid_blocked_and_bad_password(db, tmp_path) -> None:
    with SandboxProcess(tmp_path / "ledger.sqlite3", "--accounts", "3") as shop:
        seed_sandbox(db, "http://127.0.0.1:9", accounts=3)  # the URL comes from the flag
        with db.session() as s:
            s.scalar(select(A).where(A.login == "buyer003")).password = "wrong"  # legacy plain
            s.commit()
        request = urllib.request.Request(
            f"{shop.url}/admin/accounts/buyer002",
            data=json.dumps({"blocked": True}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()
        done = accounts_cli(tmp_path, "check", "--json", "--marketplace-url", shop.url)
    assert done.returncode == 0, done.stdout + done.stderr
    report = last_json(done.stdout)
    verdicts = {r["login"]: r["health"] for r in report["results"]}
    assert verdicts == {
        "buyer001": "valid",
        "buyer002": "blocked",
        "buyer003": "bad_credentials",
    }
    assert "demo-pass" not in done.stdout + done.stderr
    with db.session() as s:
        accounts = {a.login: a for a in s.scalars(select(A))}
    assert accounts["buyer001"].health == "valid" and accounts["buyer001"].checked_at
    assert accounts["buyer001"].session_state.startswith("enc:v1:")  # the login was kept
    assert (accounts["buyer002"].health, accounts["buyer002"].status) == ("blocked", "blocked")
    assert accounts["buyer003"].status == "disabled"


def test_an_unknown_marketplace_option_is_refused_before_the_file_is_read(db, tmp_path) -> None:
    seed_sandbox(db, "http://127.0.0.1:9", accounts=0)
    listing = tmp_path / "accounts.csv"
    listing.write_text("login;password\nivan;pw\n", encoding="utf-8")
    before = row_counts(db)

    done = accounts_cli(tmp_path, "import", str(listing), "--marketplace", "wildberries")
    missing = accounts_cli(tmp_path, "import", str(tmp_path / "nope.csv"), "--marketplace", "WB")

    assert done.returncode == 2
    assert done.stdout == ""  # no plan: the list was not read
    assert done.stderr.strip().splitlines() == [
        "error: --marketplace wildberries: 'wildberries' is Wildberries, which is not set up "
        "here; add it in Marketplaces (or: main.py marketplaces add wb --preset wildberries)"
    ]
    assert missing.returncode == 2 and "--marketplace WB: 'WB' is Wildberries" in missing.stderr
    assert row_counts(db) == before


def test_the_marketplace_option_takes_a_name_or_an_alias(db, tmp_path) -> None:
    from app.core.orders.marketplaces import add_marketplace, from_preset

    seed_sandbox(db, "http://127.0.0.1:9", accounts=0)
    with db.session() as s:
        wb = add_marketplace(s, from_preset("wildberries")).id
        s.commit()
    listing = tmp_path / "accounts.csv"
    listing.write_bytes("Логин;Пароль\nivan;pw\n".encode("cp1251"))

    done = accounts_cli(tmp_path, "import", str(listing), "--marketplace", "Вайлдберриз")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "ivan @ wb" in done.stdout
    with db.session() as s:
        assert s.scalar(select(A.marketplace_id).where(A.login == "ivan")) == wb
