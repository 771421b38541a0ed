"""Importing Orders from CSV/XLSX lists: Russian Excel files become Orders with the
right lines, and one bad row keeps the whole file out."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from helpers import row_counts
from sqlalchemy import select

from app.core.domain.models import (
    Article,
    Client,
    MarketPlace,
    Order,
    OrderLine,
    PickupPoint,
    Task,
)
from app.core.orders.imports import plan_orders, write_orders
from app.core.support.errors import KnownError
from app.core.support.tables import MAX_ROWS

LIMIT = 1000
RU_HEADER = "Клиент;Маркетплейс;Артикул;Кол-во;ПВЗ;Макс. цена"


def plan(db, path: Path):
    with db.session() as s:
        return plan_orders(s, path, default_marketplace="mem", max_units_per_line=LIMIT)


def stored_orders(db) -> dict[str, list[tuple[str, int, str, int | None]]]:
    """Client → its lines (article, quantity, pickup point, max price in kopecks)."""
    with db.session() as s:
        rows = s.execute(
            select(
                Client.name,
                Article.sku,
                OrderLine.quantity,
                PickupPoint.code,
                OrderLine.max_unit_price_minor,
            )
            .join(Order, Order.client_id == Client.id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .join(Article, Article.id == OrderLine.article_id)
            .join(PickupPoint, PickupPoint.id == OrderLine.pickup_point_id)
            .order_by(Order.id, OrderLine.line_no)
        ).all()
    out: dict[str, list] = {}
    for client, *line in rows:
        out.setdefault(client, []).append(tuple(line))
    return out


def test_a_cp1251_semicolon_list_with_russian_headers_becomes_orders(db, market, tmp_path) -> None:
    path = tmp_path / "заказы.csv"
    path.write_bytes(
        "\n".join(
            [
                RU_HEADER,
                "ООО Ромашка;mem;A1;3;P1;1 299,90",
                "ИП Сидоров;;A2;2;P2;",
                "ООО Ромашка;Market mem;A3;1;P2;",
            ]
        ).encode("cp1251")
    )
    p = plan(db, path)
    assert p.ok, p.errors()
    assert [r.order for r in p.rows] == [1, 2, 1]
    assert any("cp1251" in n.lower() or "windows-1251" in n.lower() for n in p.notes), p.notes

    ids = write_orders(db, p, max_units_per_line=LIMIT)

    assert len(ids) == 2
    assert stored_orders(db) == {
        "ООО Ромашка": [("A1", 3, "P1", 129990), ("A3", 1, "P2", None)],
        "ИП Сидоров": [("A2", 2, "P2", None)],
    }
    with db.session() as s:
        assert len(s.scalars(select(Task.id)).all()) == 6  # one Task per unit, queued


def test_an_xlsx_list_with_english_headers_becomes_an_order(db, market, tmp_path) -> None:
    path = tmp_path / "orders.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Client", "Article", "Quantity", "Pickup point", "Max price"])
    sheet.append(["Acme", "A1", 2, "P1", 1500])
    sheet.append(["Acme", "A2", 4.0, "P2", None])
    book.save(path)

    write_orders(db, plan(db, path), max_units_per_line=LIMIT)

    assert stored_orders(db) == {"Acme": [("A1", 2, "P1", 150000), ("A2", 4, "P2", None)]}


def test_a_bad_row_is_named_by_file_row_and_field_and_nothing_is_written(
    db, market, tmp_path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "Клиент;Артикул;Количество;Пункт выдачи\n"
        "ООО Ромашка;A1;2;P1\n"
        "ООО Ромашка;НЕТ-ТАКОГО;1;P1\n"
        "ИП Сидоров;A2;0;P2\n",
        encoding="utf-8",
    )
    before = row_counts(db)
    p = plan(db, path)

    assert not p.ok
    errors = p.errors()
    assert any(
        e.startswith("orders.csv, row 3, field 'article'") and "НЕТ-ТАКОГО" in e for e in errors
    ), errors
    assert any(e.startswith("orders.csv, row 4, field 'quantity'") for e in errors), errors
    assert p.rows[0].ok  # the good row is shown as fine, yet not written alone
    with pytest.raises(KnownError, match=r"nothing was imported.*\n- orders.csv, row 3"):
        write_orders(db, p, max_units_per_line=LIMIT)
    assert row_counts(db) == before


def test_a_dry_run_plans_without_writing(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("client,article,qty,pvz\nAcme,A1,1,P1\n", encoding="utf-8")
    before = row_counts(db)

    p = plan(db, path)

    assert p.ok and p.units() == 1
    assert row_counts(db) == before


def test_a_list_without_the_needed_columns_says_which_are_missing(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Клиент;Артикул\nАкме;A1\n", encoding="utf-8")
    with pytest.raises(KnownError, match="no quantity, pickup point column"):
        plan(db, path)


def test_a_western_windows_list_is_read_as_cp1252(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes("Client;Article;Quantity;Pickup point\nCafé Müller;A1;1;P1\n".encode("cp1252"))
    p = plan(db, path)
    assert p.ok, p.errors()
    write_orders(db, p, max_units_per_line=LIMIT)
    assert stored_orders(db) == {"Café Müller": [("A1", 1, "P1", None)]}


def test_control_and_invisible_characters_are_row_errors_naming_the_field(
    db, market, tmp_path
) -> None:
    filler = ["ООО Ромашка;A1;1;P1"] * 500  # NUL bytes past the binary check's first 8 KB
    path = tmp_path / "orders.csv"
    path.write_bytes(
        "\n".join(
            [
                "Клиент;Артикул;Количество;ПВЗ",
                *filler,
                "ООО\0Ромашка;A1;1;P1",
                "ИП Сидоров;A2\u200b;1;P1",
                "ИП Сидоров;Ａ２;1;P\u200e2",
            ]
        ).encode()
    )
    before = row_counts(db)
    p = plan(db, path)
    assert not p.ok
    assert p.errors() == [
        "orders.csv, row 502, field 'client': holds a control character (U+0000), which no "
        "list has: the file is damaged or was not saved from a spreadsheet; export the list "
        "again",
        "orders.csv, row 503, field 'article': holds an invisible character (U+200B ZERO "
        "WIDTH SPACE) that makes it look like another value; type it again without it",
        "orders.csv, row 504, field 'pickup point': holds an invisible character (U+200E "
        "LEFT-TO-RIGHT MARK) that makes it look like another value; type it again without it",
    ]
    with pytest.raises(KnownError, match="nothing was imported"):
        write_orders(db, p, max_units_per_line=LIMIT)
    assert row_counts(db) == before


def test_article_and_pickup_point_are_compared_after_nfkc(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("client;article;qty;pvz;marketplace\nAcme;Ａ１;2;Ｐ２;ＭＥＭ\n", "utf-8")
    write_orders(db, plan(db, path), max_units_per_line=LIMIT)
    assert stored_orders(db) == {"Acme": [("A1", 2, "P2", None)]}


def test_a_list_longer_than_the_row_limit_is_refused_and_nothing_written(
    db, market, tmp_path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"client;article;qty;pvz\n" + b"Acme;A1;1;P1\n" * MAX_ROWS)
    before = row_counts(db)
    with pytest.raises(KnownError, match=f"more than {MAX_ROWS:,} rows.*nothing was imported"):
        plan(db, path)
    assert row_counts(db) == before


# -- an assisted marketplace's open catalog -------------------------------------------


@pytest.fixture
def wildberries(db) -> None:
    from app.core.orders.marketplaces import add_marketplace, from_preset

    with db.session() as s:
        add_marketplace(s, from_preset("wildberries"))
        s.commit()


def catalog_sizes(db) -> tuple[int, int]:
    with db.session() as s:
        return len(s.scalars(select(Article.id)).all()), len(
            s.scalars(select(PickupPoint.id)).all()
        )


def test_an_xlsx_of_new_articles_and_addresses_creates_orders_and_catalog_entries(
    db, wildberries, tmp_path
) -> None:
    path = tmp_path / "заявки.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Клиент", "Маркетплейс", "Артикул", "Количество", "ПВЗ"])
    sheet.append(["ООО Ромашка", "WB", 187654321, 2, "Москва, Тверская ул., 1"])
    sheet.append(["ООО Ромашка", "Wildberries", 55555555, 1, "москва, тверская ул.,  1"])
    sheet.append(["ИП Сидоров", "вайлдберриз", 187654321, 3, "PVZ-1024"])
    book.save(path)

    p = plan(db, path)

    assert p.ok, p.errors()
    assert [(r.marketplace, r.new_article, r.new_pickup_point) for r in p.rows] == [
        ("wb", True, True),
        ("wb", True, True),
        ("wb", True, True),
    ]
    assert p.new_entries() == (2, 2)  # each new article and point counted once
    assert p.report()["rows"][0]["new_article"] is True
    assert catalog_sizes(db) == (0, 0)  # the preview writes nothing

    ids = write_orders(db, p, max_units_per_line=LIMIT)

    assert len(ids) == 2
    assert stored_orders(db) == {
        "ООО Ромашка": [
            ("187654321", 2, "Москва, Тверская ул., 1", None),
            ("55555555", 1, "Москва, Тверская ул., 1", None),
        ],
        "ИП Сидоров": [("187654321", 3, "PVZ-1024", None)],
    }
    assert catalog_sizes(db) == (2, 2)
    # The same list again: nothing is new any more.
    assert [r.new_article or r.new_pickup_point for r in plan(db, path).rows] == [False] * 3


def test_an_article_not_of_the_format_is_named_by_file_row_and_field_nothing_written(
    db, wildberries, tmp_path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(
        "Клиент;Маркетплейс;Артикул;Кол-во;ПВЗ\n"
        "ООО Ромашка;WB;187654321;1;PVZ-1\n"
        "ООО Ромашка;WB;abc;1;PVZ-1\n".encode("cp1251")
    )
    before = row_counts(db)

    p = plan(db, path)

    assert not p.ok
    assert p.errors() == [
        "orders.csv, row 3, field 'article': 'abc' does not look like a Wildberries article "
        "number (like 187654321)"
    ]
    with pytest.raises(KnownError, match="nothing was imported"):
        write_orders(db, p, max_units_per_line=LIMIT)
    assert row_counts(db) == before


def test_an_unknown_marketplace_row_names_the_fix(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("client;marketplace;article;qty;pvz\nAcme;wildberries;A1;1;P1\n", "utf-8")
    p = plan(db, path)
    assert p.errors() == [
        "orders.csv, row 2, field 'marketplace': 'wildberries' is Wildberries, which is not "
        "set up here; add it in Marketplaces (or: main.py marketplaces add wb --preset "
        "wildberries)"
    ]


# -- ordinary spreadsheets: a title above the header, a totals row below the orders ----


def test_an_xlsx_with_a_title_row_and_a_totals_row_becomes_orders(db, market, tmp_path) -> None:
    path = tmp_path / "заказы.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Заказы на 27.11"])
    sheet.merge_cells("A1:F1")
    sheet.append([])
    sheet.append(["Клиент", "Маркетплейс", "Артикул", "Кол-во", "ПВЗ", "Макс. цена"])
    sheet.append(["ООО Ромашка", "mem", "A1", 3, "P1", 1500])
    sheet.append(["ИП Сидоров", "mem", "A2", 2, "P2", None])
    sheet.append(["ИТОГО:", None, None, 5, None, 1500])
    book.save(path)

    p = plan(db, path)

    assert p.ok, p.errors()
    assert [r.row for r in p.rows] == [4, 5]
    assert "row 3 taken as the header (the row above it left out)" in p.notes
    assert "row 6 left out: a totals row (“ИТОГО:”)" in p.notes
    write_orders(db, p, max_units_per_line=LIMIT)
    assert stored_orders(db) == {
        "ООО Ромашка": [("A1", 3, "P1", 150000)],
        "ИП Сидоров": [("A2", 2, "P2", None)],
    }


def test_a_totals_row_in_the_client_column_of_a_csv_is_left_out(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "Заказы на 27.11;;;\nClient;Article;Qty;PVZ\nAcme;A1;2;P1\nTotal;;2;\n", encoding="utf-8"
    )
    p = plan(db, path)
    assert p.ok, p.errors()
    assert p.units() == 2
    assert "row 4 left out: a totals row (“Total”)" in p.notes


def test_a_header_below_the_first_rows_is_not_looked_for(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    notes = [f"note {n};;;" for n in range(1, 11)]
    path.write_text("\n".join([*notes, "Клиент;Артикул;Количество;ПВЗ", "Акме;A1;1;P1"]), "utf-8")
    with pytest.raises(
        KnownError,
        match=r"row 1 \(header\) has no client, article, quantity, pickup point column; "
        r"nothing was imported\. Name the columns like: .* in one of the first 10 rows "
        r"\(the header has: note 1\)",
    ):
        plan(db, path)


def test_a_list_of_only_a_header_and_totals_has_no_order_rows(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Клиент;Артикул;Количество;ПВЗ\nИтого;;0;\n", encoding="utf-8")
    with pytest.raises(KnownError, match="the list has no order rows; nothing was imported"):
        plan(db, path)


# -- pickup points as the New Order dialog lists them -------------------------------------


def test_a_pickup_point_as_the_new_order_dialog_lists_it_is_taken(db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "client;article;qty;pvz\nAcme;A1;1;P1 — Tverskaya 1\nAcme;A2;1;p2 -  lenina 2\n",
        encoding="utf-8",
    )
    write_orders(db, plan(db, path), max_units_per_line=LIMIT)
    assert stored_orders(db) == {"Acme": [("A1", 1, "P1", None), ("A2", 1, "P2", None)]}


def test_a_listed_pickup_point_with_another_address_names_the_catalogs(
    db, market, tmp_path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("client;article;qty;pvz\nAcme;A1;1;P1 – Lenina 2\n", encoding="utf-8")
    assert plan(db, path).errors() == [
        "orders.csv, row 2, field 'pickup point': 'P1 – Lenina 2': pickup point P1 of Market "
        "mem is at 'Tverskaya 1'; give its code alone, or its address as the catalog has it"
    ]


def test_an_open_catalogs_listed_pickup_point_is_not_a_new_one(db, wildberries, tmp_path) -> None:
    with db.session() as s:
        (wb_id,) = s.scalars(select(MarketPlace.id).where(MarketPlace.code == "wb")).all()
        s.add(PickupPoint(marketplace_id=wb_id, code="PVZ-003", address="Москва, ул. Ленина, 1"))
        s.commit()
    path = tmp_path / "заявки.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Клиент", "Маркетплейс", "Артикул", "Количество", "ПВЗ"])
    sheet.append(["ООО Ромашка", "WB", 187654321, 2, "PVZ-003 — Москва, ул. Ленина, 1"])
    book.save(path)

    p = plan(db, path)

    assert p.ok, p.errors()
    assert [(r.new_article, r.new_pickup_point) for r in p.rows] == [(True, False)]
    write_orders(db, p, max_units_per_line=LIMIT)
    assert stored_orders(db) == {"ООО Ромашка": [("187654321", 2, "PVZ-003", None)]}
    assert catalog_sizes(db) == (1, 1)
