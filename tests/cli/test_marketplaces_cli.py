"""`main.py marketplaces add|list|edit|enable|disable` as an operator runs them on a real
database file: presets, aliases, one-line refusals that write nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers import row_counts, run_main

from app.core.storage.db import Database


def markets(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_main(tmp_path, "marketplaces", *args, "--db", str(tmp_path / "console.sqlite3"))


def listed(tmp_path: Path) -> dict[str, dict]:
    done = markets(tmp_path, "list", "--json")
    assert done.returncode == 0, done.stderr
    return {m["code"]: m for m in json.loads(done.stdout.strip().splitlines()[-1])}


def one_line_refusal(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.fixture
def db(tmp_path: Path):
    database = Database(str(tmp_path / "console.sqlite3"))
    yield database
    database.close()


def test_add_from_a_preset_then_list(tmp_path) -> None:
    done = markets(tmp_path, "add", "ozon", "--preset", "ozon")
    assert done.returncode == 0, done.stderr
    assert "Added ozon: Ozon at https://www.ozon.ru" in done.stdout

    table = markets(tmp_path, "list")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:4] == ["code", "name", "kind", "enabled"]
    assert table.stdout.splitlines()[1].split()[:4] == ["ozon", "Ozon", "assisted", "yes"]
    ozon = listed(tmp_path)["ozon"]
    assert ozon["product_url"] == "https://www.ozon.ru/product/{article}/"
    assert (ozon["kind"], ozon["currency"], ozon["enabled"]) == ("assisted", "RUB", True)
    assert (ozon["accounts"], ozon["orders"]) == (0, 0)


def test_a_code_naming_a_preset_takes_it_and_options_override_it(tmp_path) -> None:
    assert markets(tmp_path, "add", "wb").returncode == 0
    assert markets(tmp_path, "add", "Яндекс Маркет", "--currency", "kzt").returncode == 0
    shown = listed(tmp_path)
    assert shown["wb"]["name"] == "Wildberries"
    assert shown["wb"]["article_pattern"] == r"\d{6,12}"
    assert "Вайлдберриз" in shown["wb"]["aliases"]
    assert (shown["ym"]["name"], shown["ym"]["currency"]) == ("Yandex Market", "KZT")


def test_a_marketplace_by_hand_needs_its_addresses(tmp_path) -> None:
    line = one_line_refusal(markets(tmp_path, "add", "lamoda", "--name", "Lamoda"))
    assert "give --url, --product-url, or --preset" in line
    done = markets(
        tmp_path,
        "add",
        "lamoda",
        "--name",
        "Lamoda",
        "--url",
        "https://www.lamoda.ru",
        "--product-url",
        "https://www.lamoda.ru/p/{article}/",
        "--aliases",
        "Ламода, lamoda.ru",
    )
    assert done.returncode == 0, done.stderr
    lamoda = listed(tmp_path)["lamoda"]
    assert (lamoda["kind"], lamoda["aliases"], lamoda["article_pattern"]) == (
        "assisted",
        "Ламода, lamoda.ru",
        "",
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("add", "wb", "--url", "wildberries.ru"), "address 'wildberries.ru': enter the site's"),
        (("add", "wb", "--product-url", "https://x/"), "put {article} where the article"),
        (("add", "вб!", "--preset", "wildberries"), "code 'вб!': use 1-50 Latin letters"),
        (("add", "wb", "--preset", "amazon"), "unknown preset 'amazon'"),
        (("add", "wb", "--article-format", "(\\d"), "is not a regular expression"),
        (("edit", "lamoda", "--name", "X"), "no marketplace 'lamoda' is set up here"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, db, args, says) -> None:
    before = row_counts(db)
    line = one_line_refusal(markets(tmp_path, *args))
    assert line.startswith("error: ") and says in line, line
    assert row_counts(db) == before


def test_a_duplicate_code_or_alias_is_refused(tmp_path, db) -> None:
    assert markets(tmp_path, "add", "wb").returncode == 0
    before = row_counts(db)
    line = one_line_refusal(markets(tmp_path, "add", "wb", "--preset", "ozon"))
    assert "a marketplace with the code 'wb' is already set up (Wildberries)" in line
    line = one_line_refusal(markets(tmp_path, "add", "ozon", "--aliases", "Озон, ВБ"))
    assert "the name or alias 'вб' is already Wildberries's" in line
    assert row_counts(db) == before


def test_edit_changes_what_is_given_and_keeps_the_rest(tmp_path) -> None:
    assert markets(tmp_path, "add", "wb").returncode == 0
    done = markets(tmp_path, "edit", "Вайлдберриз", "--name", "WB Russia", "--currency", "byn")
    assert done.returncode == 0, done.stderr
    wb = listed(tmp_path)["wb"]
    assert (wb["name"], wb["currency"], wb["base_url"]) == (
        "WB Russia",
        "BYN",
        "https://www.wildberries.ru",
    )
    line = one_line_refusal(markets(tmp_path, "edit", "wb", "--url", "nowhere"))
    assert "address 'nowhere'" in line
    assert listed(tmp_path)["wb"]["base_url"] == "https://www.wildberries.ru"


def test_a_disabled_marketplace_refuses_an_accounts_import_with_the_fix(tmp_path) -> None:
    assert markets(tmp_path, "add", "wb").returncode == 0
    done = markets(tmp_path, "disable", "WB")
    assert done.returncode == 0, done.stderr
    assert "Disabled wb (Wildberries)" in done.stdout
    assert listed(tmp_path)["wb"]["enabled"] is False

    listing = tmp_path / "accounts.csv"
    listing.write_text("login;password;marketplace\nivan;pw;Вайлдберриз\n", encoding="utf-8")
    db = str(tmp_path / "console.sqlite3")
    refused = run_main(tmp_path, "accounts", "import", str(listing), "--db", db)
    assert refused.returncode == 1, refused.stderr
    assert "Wildberries is disabled; enable it in Marketplaces" in refused.stdout
    assert "Nothing imported" in refused.stdout

    assert markets(tmp_path, "enable", "wb").returncode == 0
    imported = run_main(tmp_path, "accounts", "import", str(listing), "--db", db)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert listed(tmp_path)["wb"]["accounts"] == 1


def test_an_empty_list_says_how_to_add_one(tmp_path) -> None:
    done = markets(tmp_path, "list")
    assert done.returncode == 0, done.stderr
    assert "No marketplace is set up yet: add one with main.py marketplaces add" in done.stdout
