"""The Catalog dialog as an operator uses it: a marketplace's articles and pickup points,
a title typed over and saved, and a list imported after its preview."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import row_counts
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from sqlalchemy import select

from app.core.domain.models import Article, PickupPoint
from app.core.orders.catalog import upsert_marketplace
from app.core.orders.marketplaces import add_marketplace, from_preset
from app.ui.dialogs.catalog import CatalogDialog


@pytest.fixture
def markets(db) -> dict[str, int]:
    with db.session() as s:
        wb = add_marketplace(s, from_preset("wildberries"))
        sandbox = add_marketplace(s, from_preset("sandbox"))
        s.flush()
        upsert_marketplace(
            s,
            code="wb",
            name="Wildberries",
            base_url=wb.base_url,
            driver="assisted",
            articles=[("187654321", "Kettle"), ("55555555", "")],
            pickup_points=[("PVZ-1024", "Tverskaya 1")],
        )
        s.commit()
        return {"wb": wb.id, "sandbox": sandbox.id}


@pytest.fixture
def dialog(qtbot, db, markets) -> Iterator[CatalogDialog]:
    dlg = CatalogDialog(db, None, markets["wb"])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.articles.rowCount() == 2, timeout=5000)
    yield dlg


def cells(view, column: int) -> list[str]:
    model = view.model()
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def titles(db) -> dict[str, str]:
    with db.session() as s:
        return dict(s.execute(select(Article.sku, Article.title)).all())


def test_it_shows_the_chosen_marketplaces_catalog(qtbot, dialog, markets) -> None:
    assert dialog.marketplace_box.currentText() == "Wildberries"
    assert cells(dialog.articles_view, 0) == ["187654321", "55555555"]
    assert cells(dialog.articles_view, 1) == ["Kettle", ""]
    assert cells(dialog.points_view, 1) == ["Tverskaya 1"]
    assert dialog.articles_label.text() == "Articles: 2"

    qtbot.keyClicks(dialog.filter_edit, "kett")
    assert cells(dialog.articles_view, 0) == ["187654321"]
    assert dialog.articles_label.text() == "Articles: 1 / 2"

    dialog.marketplace_box.setCurrentIndex(dialog.marketplace_box.findData(markets["sandbox"]))
    qtbot.waitUntil(lambda: dialog.articles.rowCount() == 0, timeout=5000)
    assert dialog.points.rowCount() == 0


def test_a_title_typed_over_is_saved(qtbot, db, dialog) -> None:
    view = dialog.articles_view
    index = view.model().index(1, 1)  # 55555555's empty title
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    qtbot.keyClicks(editor, "Ceramic mug")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.keyClick(editor, Qt.Key.Key_Return)

    assert titles(db) == {"187654321": "Kettle", "55555555": "Ceramic mug"}
    assert cells(view, 1) == ["Kettle", "Ceramic mug"]
    assert "Saved: 55555555 — Ceramic mug" in dialog.status_label.text()


def test_a_refused_edit_is_shown_and_the_stored_text_comes_back(qtbot, db, dialog) -> None:
    model = dialog.articles_view.model()
    model.setData(model.index(0, 1), "x" * 501)
    qtbot.waitUntil(lambda: "Not saved" in dialog.status_label.text(), timeout=5000)
    assert "longer than 500 characters" in dialog.status_label.text()
    qtbot.waitUntil(lambda: cells(dialog.articles_view, 1)[0] == "Kettle", timeout=5000)
    assert titles(db)["187654321"] == "Kettle"


def test_import_previews_then_writes_into_the_shown_marketplace(qtbot, db, dialog, tmp_path):
    listing = tmp_path / "каталог.csv"
    listing.write_bytes(
        "Артикул;Название;ПВЗ;Адрес\n"
        "187654321;Электрический чайник;;\n"
        "abc;Кружка;;\n"
        ";;;Казань, ул. Баумана, 5\n".encode("cp1251")
    )
    before = row_counts(db)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    importer = dialog.import_dialog
    qtbot.waitUntil(lambda: importer.marketplace_box.currentText() == "wb", timeout=5000)
    importer.choose(listing)
    qtbot.waitUntil(lambda: importer.model.rowCount() == 3, timeout=5000)

    model = importer.model
    outcomes = [model.data(model.index(n, 6)) for n in range(3)]
    assert outcomes[0] == "new title" and outcomes[2] == "new pickup point"
    assert outcomes[1].startswith("Article: 'abc' does not look like a Wildberries article")
    assert "Articles: 0 new, 1 with a new title" in importer.summary.text()
    assert "1 row with errors left out." in importer.summary.text()
    assert row_counts(db) == before  # the preview writes nothing

    qtbot.mouseClick(importer.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.points.rowCount() == 2, timeout=5000)
    assert titles(db)["187654321"] == "Электрический чайник"
    with db.session() as s:
        assert "Казань, ул. Баумана, 5" in s.scalars(select(PickupPoint.address)).all()
    assert dialog.status_label.text() == (
        "Imported. Articles: 0 new, 1 updated. Pickup points: 1 new, 0 updated."
    )
    assert cells(dialog.articles_view, 1)[0] == "Электрический чайник"
