"""New Order dialog: what the operator types or pastes, what is marked wrong, and what
reaches the engine."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from ui_helpers import type_line

from app.core.domain.states import UnitRule
from app.core.orders.spec import FieldError, InvalidOrder, LineSpec, OrderSpec
from app.ui.dialogs.new_order import ARTICLE, MAX_PRICE, PICKUP_POINT, QUANTITY, NewOrderDialog

CLIENTS = ["ООО Ромашка", "ИП Петров"]


@pytest.fixture
def dialog(qtbot, catalogs, engine) -> NewOrderDialog:
    dlg = NewOrderDialog(catalogs, CLIENTS, engine.submit)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def is_marked(widget) -> bool:
    editor = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    return bool(editor.property("invalid"))


def messages(dialog: NewOrderDialog) -> list[str]:
    return dialog.message_label.text().splitlines()


def fill_valid_order(qtbot, dialog: NewOrderDialog) -> None:
    qtbot.keyClicks(dialog.client_box, "Lutik LLC")
    type_line(qtbot, dialog, 0, "100001", "2", "PVZ-001")


def test_a_typed_order_is_submitted_once_and_the_dialog_closes_with_its_id(
    qtbot, dialog, engine
) -> None:
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.client_box, "Lutik LLC")
    type_line(qtbot, dialog, 0, "100001", "2", "PVZ-001", "1 299,90")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    type_line(qtbot, dialog, 1, "100002", "3", "PVZ-002")
    dialog.rule_box.setCurrentIndex(1)
    qtbot.mouseClick(dialog.start_check, Qt.MouseButton.LeftButton)

    assert dialog.ok_button.isEnabled()
    assert dialog.message_label.text() == ""
    assert dialog.summary_label.text() == "Lines: 2  ·  units: 5"
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert engine.specs == [
        OrderSpec(
            client="Lutik LLC",
            marketplace="sandbox",
            lines=[
                LineSpec("100001", "2", "PVZ-001", "1 299,90"),
                LineSpec("100002", "3", "PVZ-002", None),
            ],
            unit_rule=UnitRule.PER_ORDER,
            hold=True,
            # The dialog's own request: a save sent again finds the Order it created.
            request_id=engine.specs[0].request_id,
        )
    ]
    assert (engine.specs[0].request_id or "").startswith("dialog-")
    assert dialog.summary_label.text() == "Saving…"
    assert not dialog.ok_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert dialog.isVisible()

    engine.finish(result=42)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted)
    assert dialog.order_id == 42
    assert not dialog.isVisible()
    assert len(engine.specs) == 1


def test_a_typed_sku_that_prefixes_another_is_that_sku(qtbot, dialog) -> None:
    type_line(qtbot, dialog, 0, "100001")
    assert dialog.spec().lines[0].article == "100001"  # not "1000010", also offered


def test_ctrl_enter_creates_the_order(qtbot, dialog, engine) -> None:
    fill_valid_order(qtbot, dialog)
    qtbot.keyClick(dialog.cell(0, QUANTITY), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(engine.specs) == 1


def test_invalid_input_is_marked_and_listed_and_never_submitted(qtbot, dialog, engine) -> None:
    type_line(qtbot, dialog, 0, "999999", "0", "PVZ-001", "abc")

    assert messages(dialog) == [
        "Client: enter the client's name",
        "Line 1, article: '999999' is not in Sandbox Market's catalog; check the number",
        "Line 1, quantity: must be at least 1 (got 0)",
        "Line 1, max unit price: 'abc' is not an amount; enter rubles such as 1299.90",
    ]
    assert is_marked(dialog.client_box)
    for column in (ARTICLE, QUANTITY, MAX_PRICE):
        assert is_marked(dialog.cell(0, column))
    assert not is_marked(dialog.cell(0, PICKUP_POINT))
    assert dialog.cell(0, QUANTITY).toolTip() == "must be at least 1 (got 0)"
    assert not dialog.ok_button.isEnabled()

    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(dialog.cell(0, QUANTITY), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert engine.specs == []


def test_fixing_a_value_clears_its_mark(qtbot, dialog) -> None:
    fill_valid_order(qtbot, dialog)
    quantity = dialog.cell(0, QUANTITY)
    qtbot.keyClicks(quantity, "x")
    assert is_marked(quantity)
    assert messages(dialog) == [
        "Line 1, quantity: '2x' is not a whole number of units; enter e.g. 5"
    ]
    qtbot.keyClick(quantity, Qt.Key.Key_Backspace)
    assert not is_marked(quantity)
    assert messages(dialog) == []
    assert dialog.ok_button.isEnabled()


def test_over_the_line_limit_is_refused(qtbot, catalogs, engine) -> None:
    dlg = NewOrderDialog(catalogs, CLIENTS, engine.submit, max_units_per_line=10)
    qtbot.addWidget(dlg)
    type_line(qtbot, dlg, 0, "100001", "11", "PVZ-001")
    assert "Line 1, quantity: 11 units is over the limit of 10 per line" in messages(dlg)[-1]


def test_changing_marketplace_rechecks_the_lines_against_its_catalog(qtbot, dialog) -> None:
    fill_valid_order(qtbot, dialog)
    dialog.marketplace_box.setCurrentIndex(1)
    assert messages(dialog) == [
        "Line 1, article: '100001' is not in Other Market's catalog; check the number",
        "Line 1, pickup point: 'PVZ-001' is not a pickup point of Other Market",
    ]
    assert dialog.cell(0, ARTICLE).itemData(0) == "A1"
    assert not dialog.ok_button.isEnabled()


PASTED = "article\tqty\tpvz\n100001\t2\tPVZ-001\n\n100002;3;PVZ-002;1500\n"


def test_pasted_rows_become_lines(qtbot, dialog) -> None:
    QApplication.clipboard().setText(PASTED)
    qtbot.mouseClick(dialog.paste_button, Qt.MouseButton.LeftButton)

    assert dialog.table.rowCount() == 2  # the empty starting row was replaced
    assert dialog.spec().lines == [
        LineSpec("100001", "2", "PVZ-001", None),
        LineSpec("100002", "3", "PVZ-002", "1500"),
    ]
    assert dialog.cell(1, ARTICLE).currentText() == "100002 — Mug"
    assert messages(dialog) == ["Client: enter the client's name"]
    dialog.client_box.setCurrentIndex(1)  # a known client, from the list
    assert dialog.ok_button.isEnabled()
    assert dialog.summary_label.text() == "Lines: 2  ·  units: 5"


def test_ctrl_v_of_rows_in_a_cell_appends_lines(qtbot, dialog) -> None:
    type_line(qtbot, dialog, 0, "100001", "1", "PVZ-001")
    QApplication.clipboard().setText(PASTED)
    qtbot.keyClick(dialog.cell(0, QUANTITY), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert [line.quantity for line in dialog.spec().lines] == ["1", "2", "3"]


def test_pasted_invalid_values_stay_visible_and_marked(qtbot, dialog) -> None:
    QApplication.clipboard().setText("100009;1;PVZ-001\n100001;-2;PVZ-009;0,001")
    dialog.paste_lines()

    assert dialog.cell(0, ARTICLE).currentText() == "100009"
    assert dialog.cell(1, QUANTITY).text() == "-2"
    assert dialog.cell(1, PICKUP_POINT).currentText() == "PVZ-009"
    assert dialog.cell(1, MAX_PRICE).text() == "0,001"
    assert all(
        is_marked(dialog.cell(row, col))
        for row, col in [(0, ARTICLE), (1, QUANTITY), (1, PICKUP_POINT), (1, MAX_PRICE)]
    )
    assert "Line 2, max unit price: '0,001' has more than two decimals (kopecks)" in messages(
        dialog
    )


def test_removing_a_line_renumbers_the_problems(qtbot, dialog) -> None:
    fill_valid_order(qtbot, dialog)
    qtbot.keyClick(dialog.cell(0, QUANTITY), Qt.Key.Key_Insert)
    type_line(qtbot, dialog, 1, "100002", "0", "PVZ-002")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    type_line(qtbot, dialog, 2, "100002", "x", "PVZ-002")
    assert [m.split(":")[0] for m in messages(dialog)] == ["Line 2, quantity", "Line 3, quantity"]

    dialog.cell(1, ARTICLE).setFocus()  # its row is the one Remove line removes
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert dialog.table.rowCount() == 2
    assert [m.split(":")[0] for m in messages(dialog)] == ["Line 2, quantity"]


def test_a_refused_order_stays_open_with_the_engines_reasons(qtbot, dialog, engine) -> None:
    fill_valid_order(qtbot, dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    engine.finish(error=InvalidOrder([FieldError(1, "article", "'100001' was withdrawn")]))

    qtbot.waitUntil(lambda: "Line 1, article: '100001' was withdrawn" in messages(dialog))
    assert messages(dialog)[0] == "The order was not saved:"
    assert is_marked(dialog.cell(0, ARTICLE))
    assert dialog.isVisible() and dialog.order_id is None
    assert dialog.cancel_button.isEnabled()


def test_a_failed_save_shows_why_and_lets_the_operator_retry(qtbot, dialog, engine) -> None:
    fill_valid_order(qtbot, dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    engine.finish(error=RuntimeError("database is locked"))

    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled())
    assert messages(dialog) == ["The order was not saved: database is locked"]
    assert dialog.cancel_button.isEnabled() and dialog.isVisible()
    assert dialog.summary_label.text() == "Lines: 1  ·  units: 2"

    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    engine.finish(result=7)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted)
    assert dialog.order_id == 7
    # The retry is the same request: had the first save reached the database after all,
    # the engine finds that Order instead of creating a second one.
    first, retry = engine.specs
    assert first.request_id and retry.request_id == first.request_id


def test_escape_while_saving_does_not_lose_the_order(qtbot, dialog, engine) -> None:
    fill_valid_order(qtbot, dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    engine.finish(result=3)
    qtbot.waitUntil(lambda: dialog.order_id == 3)


@pytest.mark.parametrize("how", ["button", "escape"])
def test_cancel_submits_nothing(qtbot, dialog, engine, how) -> None:
    fill_valid_order(qtbot, dialog)
    if how == "button":
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    else:
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert engine.specs == [] and dialog.order_id is None


# -- an assisted marketplace's open catalog ---------------------------------------------


@pytest.fixture
def open_dialog(qtbot, catalogs, engine) -> NewOrderDialog:
    from app.core.orders.catalog import Catalog

    wb = Catalog(
        3,
        "wb",
        "Wildberries",
        {"187654321": 5},
        {"187654321": "Электрический чайник"},
        {"PVZ-1024": 4},
        {"PVZ-1024": "Москва, Тверская ул., 1"},
        kind="assisted",
        article_pattern=r"\d{6,12}",
        article_example="187654321",
    )
    off = Catalog(4, "ozon", "Ozon", {}, {}, {}, {}, kind="assisted", enabled=False)
    dlg = NewOrderDialog({**catalogs, "wb": wb, "ozon": off}, CLIENTS, engine.submit)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.marketplace_box.setCurrentIndex(dlg.marketplace_box.findData("wb"))
    return dlg


def new_mark(dialog: NewOrderDialog, row: int, column: int) -> str:
    """The "new …" word shown inside a cell, or "" when none shows."""
    from PySide6.QtWidgets import QLabel

    mark = dialog.cell(row, column).lineEdit().findChild(QLabel, "newMark")
    return mark.text() if mark.isVisible() else ""


def test_a_new_article_and_pickup_point_are_marked_new_and_submitted(
    qtbot, open_dialog, engine
) -> None:
    dialog = open_dialog
    assert [dialog.marketplace_box.itemText(i) for i in range(dialog.marketplace_box.count())] == [
        "Sandbox Market",
        "Other Market",
        "Wildberries",
    ]  # the disabled Ozon takes no new orders
    qtbot.keyClicks(dialog.client_box, "Lutik LLC")
    type_line(qtbot, dialog, 0, "999999", "2", "Kazan, Baumana st. 5")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    type_line(qtbot, dialog, 1, "187654321", "1", "pvz-1024")

    assert new_mark(dialog, 0, ARTICLE) == "new article"
    assert new_mark(dialog, 0, PICKUP_POINT) == "new pickup point"
    assert "Wildberries's catalog" in dialog.cell(0, ARTICLE).toolTip()
    assert new_mark(dialog, 1, ARTICLE) == new_mark(dialog, 1, PICKUP_POINT) == ""
    assert messages(dialog) == []
    assert dialog.ok_button.isEnabled()

    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert engine.specs[0].marketplace == "wb"
    assert engine.specs[0].lines[0] == LineSpec("999999", "2", "Kazan, Baumana st. 5", None)


def test_a_wrong_article_is_marked_wrong_not_new(qtbot, open_dialog) -> None:
    type_line(qtbot, open_dialog, 0, "abc", "1", "PVZ-1")
    assert new_mark(open_dialog, 0, ARTICLE) == ""
    assert is_marked(open_dialog.cell(0, ARTICLE))
    assert new_mark(open_dialog, 0, PICKUP_POINT) == "new pickup point"
    assert (
        "Line 1, article: 'abc' does not look like a Wildberries article number (like 187654321)"
        in messages(open_dialog)
    )
    # Fixed, the article is new instead.
    for _ in "abc":
        qtbot.keyClick(open_dialog.cell(0, ARTICLE), Qt.Key.Key_Backspace)
    qtbot.keyClicks(open_dialog.cell(0, ARTICLE), "1234567")
    assert new_mark(open_dialog, 0, ARTICLE) == "new article"


def test_a_closed_catalog_marks_nothing_new(qtbot, dialog) -> None:
    type_line(qtbot, dialog, 0, "999999", "1", "PVZ-777")
    assert new_mark(dialog, 0, ARTICLE) == new_mark(dialog, 0, PICKUP_POINT) == ""
    assert is_marked(dialog.cell(0, ARTICLE)) and is_marked(dialog.cell(0, PICKUP_POINT))
