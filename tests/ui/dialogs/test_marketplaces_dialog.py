"""The Marketplaces dialog as an operator uses it: Wildberries added from its preset shows
in the table and is stored; a bad address is refused at its field and nothing is
written; a marketplace is edited, disabled and enabled again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import row_counts, seed_market
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.core.domain.models import MarketPlace
from app.ui.dialogs.marketplaces import MarketplacesDialog


@pytest.fixture
def open_dialog(qtbot, db) -> Iterator:
    def opened(*, adding: bool = False) -> MarketplacesDialog:
        dialog = MarketplacesDialog(db, adding=adding)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    yield opened


def shown(dialog: MarketplacesDialog) -> list[list[str]]:
    model = dialog.model
    return [
        [model.data(model.index(r, c)) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def stored(db) -> list[tuple]:
    with db.reading() as s:
        return list(
            s.execute(
                select(MarketPlace.code, MarketPlace.name, MarketPlace.driver, MarketPlace.enabled)
            ).all()
        )


def type_over(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def test_on_an_empty_database_the_form_opens_on_the_wildberries_preset(qtbot, open_dialog):
    dialog = open_dialog()
    qtbot.waitUntil(dialog.form.isVisible, timeout=5000)
    assert dialog.preset_box.currentText() == "Wildberries"
    assert dialog.code_edit.text() == "wb"
    assert dialog.url_edit.text() == "https://www.wildberries.ru"
    assert dialog.product_edit.text() == "https://www.wildberries.ru/catalog/{article}/detail.aspx"
    assert dialog.kind_box.currentText() == "a person, in a browser"


def test_adding_wildberries_from_its_preset_shows_it_and_stores_it(qtbot, db, open_dialog):
    dialog = open_dialog(adding=True)
    qtbot.waitUntil(dialog.form.isVisible, timeout=5000)
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)
    assert shown(dialog) == [
        [
            "Wildberries",
            "wb",
            "a person, in a browser",
            "https://www.wildberries.ru",
            "enabled",
            "0",
            "0",
        ]
    ]
    assert dialog.message.text() == "Wildberries added."
    assert not dialog.form.isVisible()
    assert stored(db) == [("wb", "Wildberries", "assisted", True)]


def test_choosing_another_preset_fills_every_field(qtbot, open_dialog):
    dialog = open_dialog(adding=True)
    qtbot.waitUntil(dialog.form.isVisible, timeout=5000)
    dialog.preset_box.setFocus()
    qtbot.keyClick(dialog.preset_box, Qt.Key.Key_Down)  # Wildberries → Ozon
    assert dialog.preset_box.currentText() == "Ozon"
    assert (dialog.code_edit.text(), dialog.name_edit.text()) == ("ozon", "Ozon")
    assert dialog.product_edit.text() == "https://www.ozon.ru/product/{article}/"
    assert dialog.aliases_edit.text() == "Озон, ozon.ru"
    dialog.preset_box.setCurrentIndex(dialog.preset_box.count() - 1)
    dialog.preset_box.activated.emit(dialog.preset_box.currentIndex())
    assert dialog.preset_box.currentText() == "Other (type its settings)"
    assert (dialog.code_edit.text(), dialog.url_edit.text()) == ("", "")


def test_a_bad_address_is_refused_at_its_field_and_nothing_is_written(qtbot, db, open_dialog):
    dialog = open_dialog(adding=True)
    qtbot.waitUntil(dialog.form.isVisible, timeout=5000)
    before = row_counts(db)
    type_over(qtbot, dialog.url_edit, "wildberries.ru")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == (
        "Address 'wildberries.ru': enter the site's address, like https://www.ozon.ru"
    )
    assert dialog.url_edit.property("invalid") is True
    assert dialog.form.isVisible()
    assert row_counts(db) == before
    qtbot.keyClicks(dialog.url_edit, "x")  # typing clears the mark
    assert not dialog.error_label.isVisible()
    assert not dialog.url_edit.property("invalid")


def test_a_name_another_marketplace_has_is_refused_from_the_database(qtbot, db, open_dialog):
    seed_market(db, accounts=2, code="wbshop")
    with db.session() as s:
        s.scalars(select(MarketPlace)).one().aliases = "ВБ"
        s.commit()
    dialog = open_dialog(adding=True)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1 and dialog.form.isVisible(), timeout=5000)
    before = row_counts(db)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error_label.isVisible, timeout=5000)
    assert dialog.error_label.text() == (
        "The name or alias 'вб' is already Market wbshop's; give this one another"
    )
    assert dialog.aliases_edit.property("invalid") is True
    assert dialog.save_button.isEnabled()
    assert row_counts(db) == before


def test_edit_disable_and_enable_a_marketplace(qtbot, db, open_dialog):
    dialog = open_dialog(adding=True)
    qtbot.waitUntil(dialog.form.isVisible, timeout=5000)
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        dialog.save()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)

    dialog.table.selectRow(0)
    qtbot.mouseClick(dialog.edit_button, Qt.MouseButton.LeftButton)
    assert dialog.form.isVisible() and dialog.code_edit.isReadOnly()
    type_over(qtbot, dialog.name_edit, "WB Russia")
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # Enter saves
    qtbot.waitUntil(lambda: shown(dialog)[0][0] == "WB Russia", timeout=5000)

    dialog.table.selectRow(0)
    assert dialog.switch_button.text() == "Disable"
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        qtbot.mouseClick(dialog.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown(dialog)[0][4] == "disabled", timeout=5000)
    assert dialog.message.text() == "WB Russia is disabled."
    assert stored(db) == [("wb", "WB Russia", "assisted", False)]
    assert dialog.switch_button.text() == "Enable"
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        qtbot.mouseClick(dialog.switch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: stored(db) == [("wb", "WB Russia", "assisted", True)], timeout=5000)
