"""The Import orders dialog: the preview marks the articles and pickup points an assisted
marketplace's catalog does not have yet, so a typo is seen before it is saved."""

from __future__ import annotations

import openpyxl
from helpers import row_counts
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.core.orders.marketplaces import add_marketplace, from_preset
from app.ui.dialogs.orders_import import DETAILS, NEW_BACKGROUND, PICKUP_POINT, OrderImportDialog


def test_the_preview_marks_new_articles_and_pickup_points(qtbot, db, tmp_path) -> None:
    with db.session() as s:
        add_marketplace(s, from_preset("wildberries"))
        s.commit()
    path = tmp_path / "orders.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Клиент", "Артикул", "Количество", "ПВЗ"])
    sheet.append(["ООО Ромашка", 187654321, 2, "Москва, Тверская ул., 1"])
    sheet.append(["ООО Ромашка", 187654321, 1, "PVZ-1024"])
    book.save(path)
    before = row_counts(db)

    dialog = OrderImportDialog(db, max_units_per_line=1000)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.marketplace_box.count() == 1, timeout=5000)
    dialog.choose(path)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=5000)

    model = dialog.model
    assert [model.data(model.index(n, DETAILS)) for n in range(2)] == [
        "new article, new pickup point",
        "new article, new pickup point",
    ]
    assert model.data(model.index(0, PICKUP_POINT), Qt.ItemDataRole.BackgroundRole) == (
        NEW_BACKGROUND
    )
    assert "New in the catalog: 1 article, 2 pickup points." in dialog.summary.text()
    assert row_counts(db) == before

    with qtbot.waitSignal(dialog.imported, timeout=5000) as done:
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert len(done.args[0]) == 1
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert row_counts(db)["article"] == 1 and row_counts(db)["pickup_point"] == 2


def test_a_workbook_with_a_title_and_a_totals_row_previews_its_orders(
    qtbot, db, market, tmp_path
) -> None:
    path = tmp_path / "заказы.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Заказы"
    sheet.append(["Заказы на 27.11"])
    sheet.merge_cells("A1:E1")
    sheet.append(["Клиент", "Артикул", "Количество", "ПВЗ", "Макс. цена"])
    sheet.append(["ООО Ромашка", "A1", 2, "P1 — Tverskaya 1", 1500])
    sheet.append(["ООО Ромашка", "A2", 1, "P2", None])
    sheet.append(["ИТОГО:", None, 3, None, 1500])
    book.save(path)
    dialog = OrderImportDialog(db, max_units_per_line=1000)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.marketplace_box.count() == 1, timeout=5000)

    dialog.choose(path)

    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=5000)
    assert [dialog.model.data(dialog.model.index(n, 0)) for n in range(2)] == [3, 4]
    assert dialog.summary.text() == (
        "1 order, 3 units to create. Read the first sheet, “Заказы”; row 2 taken as the header "
        "(the row above it left out); row 5 left out: a totals row (“ИТОГО:”)."
    )


def test_one_bad_row_is_counted_as_one(qtbot, db, market, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("client;article;qty;pvz\nAcme;A1;2;P1\nAcme;ZZZ;1;P1\n", encoding="utf-8")
    dialog = OrderImportDialog(db, max_units_per_line=1000)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.marketplace_box.count() == 1, timeout=5000)

    dialog.choose(path)

    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=5000)
    assert dialog.summary.text() == (
        "1 row with errors; nothing will be imported until the list is fixed."
    )
    assert not dialog.import_button.isEnabled()
