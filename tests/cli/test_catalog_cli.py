"""`main.py catalog import|list` as an operator runs them on a real database file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import row_counts, run_main

from app.core.orders.marketplaces import add_marketplace, from_preset


@pytest.fixture
def wb(db) -> None:
    with db.session() as s:
        add_marketplace(s, from_preset("wildberries"))
        s.commit()


def catalog(tmp_path: Path, *args: str):
    return run_main(tmp_path, "catalog", *args, "--db", str(tmp_path / "console.sqlite3"))


def last_json(out: str) -> object:
    return json.loads(out.strip().splitlines()[-1])


def test_import_dry_run_then_import_then_list(db, wb, tmp_path) -> None:
    listing = tmp_path / "каталог.csv"
    listing.write_bytes(
        "Артикул;Название;ПВЗ;Адрес\n"
        "187654321;Чайник;PVZ-1024;Москва, Тверская ул., 1\n"
        "abc;Кружка;;\n"
        ";;;Казань, ул. Баумана, 5\n".encode("cp1251")
    )
    before = row_counts(db)

    dry = catalog(tmp_path, "import", str(listing), "--marketplace", "WB", "--dry-run")

    assert dry.returncode == 1, dry.stderr  # a row was rejected
    assert "row 3      error    field 'article': 'abc' does not look like a Wildberries" in (
        dry.stdout
    )
    assert "add article 187654321 (Чайник); add pickup point PVZ-1024" in dry.stdout
    assert "Dry run, nothing written: articles 1 new" in dry.stdout
    assert "1 row rejected." in dry.stdout
    assert row_counts(db) == before

    done = catalog(tmp_path, "import", str(listing), "--marketplace", "WB", "--json")
    assert done.returncode == 1
    report = last_json(done.stdout)
    assert report["written"] is True
    assert report["counts"]["pickup_points_add"] == 2 and report["counts"]["rejected"] == 1
    assert report["errors"] == [
        "каталог.csv, row 3, field 'article': 'abc' does not look like a Wildberries article "
        "number (like 187654321)"
    ]

    shown = catalog(tmp_path, "list", "--marketplace", "wildberries", "--json")
    assert shown.returncode == 0, shown.stderr
    assert "Wildberries (wb, assisted): 1 article, 2 pickup points" in shown.stdout
    assert last_json(shown.stdout) == [
        {
            "marketplace": "wb",
            "name": "Wildberries",
            "kind": "assisted",
            "articles": [{"sku": "187654321", "title": "Чайник"}],
            "pickup_points": [
                {"code": "PVZ-1024", "address": "Москва, Тверская ул., 1"},
                {"code": "Казань, ул. Баумана, 5", "address": "Казань, ул. Баумана, 5"},
            ],
        }
    ]


def test_an_unknown_marketplace_is_refused_before_anything_is_read(db, wb, tmp_path) -> None:
    before = row_counts(db)
    done = catalog(tmp_path, "import", str(tmp_path / "nope.csv"), "--marketplace", "Озон")
    listed = catalog(tmp_path, "list", "--marketplace", "nowhere")

    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: --marketplace Озон: 'Озон' is Ozon, which is not set up here; add it in "
        "Marketplaces (or: main.py marketplaces add ozon --preset ozon)"
    ]
    assert listed.returncode == 2
    assert "unknown marketplace 'nowhere' (set up here: wb (Wildberries))" in listed.stderr
    assert row_counts(db) == before


def test_an_unreadable_file_is_one_clear_error_and_writes_nothing(db, wb, tmp_path) -> None:
    listing = tmp_path / "catalog.csv"
    listing.write_text("Client;Quantity\nAcme;1\n", encoding="utf-8")
    before = row_counts(db)
    done = catalog(tmp_path, "import", str(listing), "--marketplace", "wb")
    assert done.returncode == 2
    assert "has no article, pickup point or address column; nothing was imported" in done.stderr
    assert row_counts(db) == before
