"""Catalogs as operators manage them: pickup points typed as a code or an address, lists
of articles and pickup points imported (new ones added, titles and addresses updated,
bad rows named by file, row and field), and titles and addresses edited."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from helpers import row_counts

from app.core.orders.catalog import (
    apply_catalog,
    catalog_listings,
    plan_catalog,
    set_article_title,
    set_point_address,
    typed_point,
)
from app.core.orders.marketplaces import add_marketplace, from_preset
from app.core.orders.spec import PointRef
from app.core.support.errors import KnownError
from app.core.support.text import Refused


@pytest.fixture
def wb(db) -> int:
    with db.session() as s:
        mp_id = add_marketplace(s, from_preset("wildberries")).id
        s.commit()
    return mp_id


def plan(db, path: Path, marketplace: str | None = None):
    with db.session() as s:
        return plan_catalog(s, path, default_marketplace=marketplace)


def apply(db, p) -> dict[str, int]:
    with db.session() as s:
        counts = apply_catalog(s, p)
        s.commit()
        return counts


def listing(db) -> tuple[dict[str, str], dict[str, str]]:
    with db.session() as s:
        (c,) = catalog_listings(s)
    return {a.key: a.text for a in c.articles}, {p.key: p.text for p in c.pickup_points}


@pytest.mark.parametrize(
    ("typed", "point"),
    [
        ("PVZ-1024", PointRef("PVZ-1024")),
        ("  10254 ", PointRef("10254")),
        ("Москва,  Тверская 1", PointRef("Москва, Тверская 1", "Москва, Тверская 1")),
        ("Москва,Тверская,1", PointRef("Москва,Тверская,1", "Москва,Тверская,1")),
    ],
)
def test_a_typed_pickup_point_is_a_code_or_an_address(typed: str, point: PointRef) -> None:
    assert typed_point(typed) == point


def test_a_long_address_gets_a_short_code_that_is_always_the_same() -> None:
    address = "Московская область, городской округ Красногорск, " * 3 + "дом 1"
    point = typed_point(address)
    assert point.address == address
    assert len(point.code) <= 100 and point.code.startswith(address[:89] + "…")
    assert typed_point(address.upper()).code[-10:] == point.code[-10:]  # case does not count
    assert typed_point(address + " 2").code != point.code


def test_a_cp1251_list_adds_articles_and_pickup_points(db, wb, tmp_path) -> None:
    path = tmp_path / "каталог.csv"
    path.write_bytes(
        "\n".join(
            [
                "Маркетплейс;Артикул;Название;ПВЗ;Адрес",
                "WB;187654321;Чайник;PVZ-1024;Москва, Тверская ул., 1",
                "Вайлдберриз;55555555;;;",
                ";;;;Казань, ул. Баумана, 5",
                "wb;187654321;Чайник электрический;;",  # a later row of the same article
            ]
        ).encode("cp1251")
    )

    p = plan(db, path, "wb")

    assert p.errors() == []
    assert [(r.article_change, r.point_change) for r in p.rows] == [
        ("add", "add"),
        ("add", None),
        (None, "add"),
        ("update", None),
    ]
    assert apply(db, p)["articles_add"] == 2
    assert listing(db) == (
        {"187654321": "Чайник электрический", "55555555": ""},
        {
            "PVZ-1024": "Москва, Тверская ул., 1",
            "Казань, ул. Баумана, 5": "Казань, ул. Баумана, 5",
        },
    )


def test_titles_and_addresses_of_stored_entries_are_updated(db, wb, tmp_path) -> None:
    path = tmp_path / "catalog.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Article", "Title", "Pickup point", "Address"])
    sheet.append([187654321, "Kettle", "PVZ-1", "Tverskaya 1"])
    book.save(path)
    apply(db, plan(db, path, "Wildberries"))

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Article", "Title", "Pickup point", "Address"])
    sheet.append([187654321, "Electric kettle", "pvz-1", None])  # code in another case
    sheet.append([None, None, "tverskaya  1", "Tverskaya 1, entrance 2"])  # by its address
    sheet.append([187654321, None, None, None])  # nothing to change
    book.save(path)
    p = plan(db, path, "wb")

    assert [(r.article_change, r.point_change) for r in p.rows] == [
        ("update", "same"),
        (None, "update"),
        ("same", None),
    ]
    apply(db, p)
    assert listing(db) == ({"187654321": "Electric kettle"}, {"PVZ-1": "Tverskaya 1, entrance 2"})


def test_bad_rows_are_named_by_file_row_and_field_and_left_out(db, wb, tmp_path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "marketplace,article,title,pvz\n"
        "wb,187654321,Kettle,\n"
        "wb,abc,Mug,\n"
        "ozon,1234567,Bag,\n"
        ",,Title alone,\n"
        "wb,2345678\u200b,Hidden,\n",
        encoding="utf-8",
    )
    p = plan(db, path)

    assert p.errors() == [
        "catalog.csv, row 3, field 'article': 'abc' does not look like a Wildberries article "
        "number (like 187654321)",
        "catalog.csv, row 4, field 'marketplace': 'ozon' is Ozon, which is not set up here; "
        "add it in Marketplaces (or: main.py marketplaces add ozon --preset ozon)",
        "catalog.csv, row 5, field 'article': empty; a title needs its article number",
        "catalog.csv, row 5, field 'marketplace': empty; name the marketplace, or choose one "
        "for rows that name none",
        "catalog.csv, row 6, field 'article': holds an invisible character (U+200B ZERO WIDTH "
        "SPACE) that makes it look like another value; type it again without it",
    ]
    assert apply(db, p)["rejected"] == 4
    assert listing(db) == ({"187654321": "Kettle"}, {})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"Client;Quantity\nAcme;1\n", "has no article, pickup point or address column"),
        (b"\x00\x01\x02binary" * 100, "not a text"),
    ],
)
def test_a_file_that_cannot_be_read_writes_nothing(db, wb, tmp_path, content, message) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(content)
    before = row_counts(db)
    with pytest.raises(KnownError, match=message):
        plan(db, path, "wb")
    assert row_counts(db) == before


def test_a_title_and_an_address_are_edited(db, wb, tmp_path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("article;title;pvz;address\n187654321;Kettle;PVZ-1;Tverskaya 1\n", "utf-8")
    apply(db, plan(db, path, "wb"))
    with db.session() as s:
        (c,) = catalog_listings(s)
        assert set_article_title(s, c.articles[0].id, "  Electric   kettle ") == "Electric kettle"
        set_point_address(s, c.pickup_points[0].id, "Tverskaya 1, entrance 2")
        with pytest.raises(Refused, match="longer than 500 characters"):
            set_article_title(s, c.articles[0].id, "x" * 501)
        s.commit()
    assert listing(db) == ({"187654321": "Electric kettle"}, {"PVZ-1": "Tverskaya 1, entrance 2"})


def test_a_catalog_under_a_title_with_a_totals_row_is_imported(db, wb, tmp_path) -> None:
    path = tmp_path / "catalog.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Каталог Wildberries на 27.11"])
    sheet.merge_cells("A1:D1")
    sheet.append(["Артикул", "Название", "ПВЗ", "Адрес"])
    sheet.append([187654321, "Чайник", "PVZ-003", "Москва, ул. Ленина, 1"])
    sheet.append(["Всего", 1, None, None])
    book.save(path)

    p = plan(db, path, "wb")

    assert p.errors() == []
    assert [r.row for r in p.rows] == [3]
    assert "row 2 taken as the header (the row above it left out)" in p.notes
    assert "row 4 left out: a totals row (“Всего”)" in p.notes
    apply(db, p)
    assert listing(db) == ({"187654321": "Чайник"}, {"PVZ-003": "Москва, ул. Ленина, 1"})


def test_a_pickup_point_as_the_new_order_dialog_lists_it_is_the_stored_one(
    db, wb, tmp_path
) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("ПВЗ;Адрес\nPVZ-003;Москва, ул. Ленина, 1\n", encoding="utf-8")
    apply(db, plan(db, path, "wb"))
    path.write_text(
        "ПВЗ;Адрес\nPVZ-003 — Москва, ул. Ленина, 1;Москва, ул. Ленина, 1, вход со двора\n"
        "PVZ-003 — Казань;\n",
        encoding="utf-8",
    )

    p = plan(db, path, "wb")

    assert [(r.pickup_point, r.point_change) for r in p.rows[:1]] == [("PVZ-003", "update")]
    assert p.errors() == [
        "catalog.csv, row 3, field 'pickup point': 'PVZ-003 — Казань': pickup point PVZ-003 "
        "of Wildberries is at 'Москва, ул. Ленина, 1, вход со двора'; give its code alone, "
        "or its address as the catalog has it"
    ]  # the address as the row above changes it
    apply(db, p)
    assert listing(db)[1] == {"PVZ-003": "Москва, ул. Ленина, 1, вход со двора"}
