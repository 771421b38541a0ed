"""The Task detail dialog's review verdict: "It was bought…" asks for the order number and
the price paid, refuses what is missing or mistyped before asking the engine, and shows the
engine's refusal in one line while staying open for the correction."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest
from helpers import make_supervisor, row_counts, seed_market
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import select, update

from app.core.domain.models import MarketPlaceAccount, Task
from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.support.errors import KnownError
from app.ui.views.tasks_view import RecordPurchaseDialog, TaskDetailDialog


class FakeResolve:
    """The engine's resolve_review: records each verdict and returns a future the test
    settles from another thread, as the engine's thread does."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str | None, int | None]] = []
        self.futures: list[concurrent.futures.Future[None]] = []

    def __call__(
        self, task_id: int, number: str | None, price: int | None
    ) -> concurrent.futures.Future[None]:
        self.calls.append((task_id, number, price))
        self.futures.append(concurrent.futures.Future())
        return self.futures[-1]

    def finish(self, error: Exception | None = None) -> None:
        future = self.futures[-1]
        thread = threading.Thread(
            target=(lambda: future.set_exception(error))
            if error
            else lambda: future.set_result(None)
        )
        thread.start()
        thread.join()


@pytest.fixture
def in_review(db: Database) -> int:
    """A unit in review (its account known), as a lost answer from the shop leaves it."""
    seed_market(db, accounts=1)
    order_id = asyncio.run(
        make_supervisor(db, MemoryDriver()).submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    )
    with db.session() as s:
        account = s.scalar(select(MarketPlaceAccount.id))
        s.execute(update(Task).values(status="needs_review", account_id=account))
        s.commit()
        return s.scalar(select(Task.id).where(Task.order_id == order_id))


def open_record(qtbot, db: Database, task_id: int, resolve: FakeResolve):
    dialog = TaskDetailDialog(db, task_id, resolve=resolve)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.bought_button.isVisible(), timeout=5000)
    qtbot.mouseClick(dialog.bought_button, Qt.MouseButton.LeftButton)
    record = dialog.record_dialog
    assert isinstance(record, RecordPurchaseDialog)
    qtbot.waitExposed(record)
    return dialog, record


@pytest.mark.parametrize(
    ("number", "price", "said"),
    [
        ("", "1299", "Enter the order number"),
        ("   ", "1299", "Enter the order number"),
        ("SB-12345678", "", "Enter the price paid"),
        ("SB-12345678", "-5", "is not a positive amount"),
        ("SB-12345678", "12,345", "more than two decimals"),
        ("SB-12345678", "free", "is not an amount"),
    ],
)
def test_a_missing_number_or_a_bad_price_is_refused_in_the_dialog(
    qtbot, db, in_review, number, price, said
) -> None:
    resolve = FakeResolve()
    before = row_counts(db)
    dialog, record = open_record(qtbot, db, in_review, resolve)
    qtbot.keyClicks(record.number, number)
    qtbot.keyClicks(record.price, price)
    qtbot.mouseClick(record.ok_button, Qt.MouseButton.LeftButton)
    assert said in record.message.text() and record.message.isVisible()
    assert resolve.calls == []  # nothing asked of the engine
    assert record.isVisible() and dialog.isVisible()
    assert row_counts(db) == before


def test_the_engine_refusal_shows_and_the_dialog_stays_for_the_correction(
    qtbot, db, in_review
) -> None:
    resolve = FakeResolve()
    dialog, record = open_record(qtbot, db, in_review, resolve)
    qtbot.keyClicks(record.number, " SB-00000000 ")
    qtbot.keyClicks(record.price, "1 234,50")
    qtbot.mouseClick(record.ok_button, Qt.MouseButton.LeftButton)
    assert resolve.calls == [(in_review, "SB-00000000", 123450)]
    assert not record.ok_button.isEnabled()  # while the engine checks the shop
    record.reject()  # Esc while checking: the outcome must be seen
    assert record.isVisible()

    refusal = (
        "Order SB-00000000 is not in the order history of buyer at Shop; nothing was recorded."
    )
    resolve.finish(KnownError(refusal))
    qtbot.waitUntil(lambda: record.message.text() == refusal, timeout=5000)
    assert record.isVisible() and dialog.isVisible()
    assert record.ok_button.isEnabled() and record.number.isEnabled()

    record.number.setText("SB-12345678")
    qtbot.mouseClick(record.ok_button, Qt.MouseButton.LeftButton)
    assert resolve.calls[-1] == (in_review, "SB-12345678", 123450)
    resolve.finish()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert not record.isVisible()


def test_a_defect_says_it_is_one(qtbot, db, in_review) -> None:
    resolve = FakeResolve()
    _dialog, record = open_record(qtbot, db, in_review, resolve)
    qtbot.keyClicks(record.number, "SB-12345678")
    qtbot.keyClicks(record.price, "10")
    qtbot.mouseClick(record.ok_button, Qt.MouseButton.LeftButton)
    resolve.finish(AttributeError("'NoneType' object has no attribute 'login'"))
    qtbot.waitUntil(lambda: "internal error" in record.message.text(), timeout=5000)
    assert record.isVisible()


def test_a_unit_in_review_opens_its_accounts_profile_in_the_browser(qtbot, db, in_review) -> None:
    opened: list[tuple[object, str]] = []
    dialog = TaskDetailDialog(
        db, in_review, resolve=FakeResolve(), open_account=lambda p, u: opened.append((p, u))
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.account_button.isVisible(), timeout=5000)
    qtbot.mouseClick(dialog.account_button, Qt.MouseButton.LeftButton)

    with db.reading() as s:
        account_id = s.scalar(select(MarketPlaceAccount.id))
    assert [(p.name, u) for p, u in opened] == [(f"mem-{account_id}", "mem://")]


def test_a_price_above_the_cap_is_recorded_only_after_a_yes(qtbot) -> None:
    from PySide6.QtWidgets import QMessageBox, QWidget

    from app.core.engine.assisted import OverCap

    calls: list[tuple[str, str, int]] = []

    def answered(kind: str, error: Exception | None):
        def record(number: str, price: int) -> concurrent.futures.Future[None]:
            calls.append((kind, number, price))
            future: concurrent.futures.Future[None] = concurrent.futures.Future()
            done = (
                (lambda: future.set_exception(error)) if error else lambda: future.set_result(None)
            )
            threading.Thread(target=done).start()
            return future

        return record

    parent = QWidget()
    qtbot.addWidget(parent)
    over = OverCap("the price paid, {price}, is above the line's cap of {cap}", price="2", cap="1")
    dialog = RecordPurchaseDialog(
        parent, answered("plain", over), record_over_cap=answered("confirmed", None)
    )
    dialog.show()
    qtbot.keyClicks(dialog.number, "WB-1")
    qtbot.keyClicks(dialog.price, "2,00")

    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(dialog, "over_cap_box", None) is not None, timeout=5000)
    box = dialog.over_cap_box
    assert "above the line's cap" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "above the line's cap" in dialog.message.text()

    dialog.over_cap_box = None
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(dialog, "over_cap_box", None) is not None, timeout=5000)
    qtbot.mouseClick(
        dialog.over_cap_box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert calls == [("plain", "WB-1", 200), ("plain", "WB-1", 200), ("confirmed", "WB-1", 200)]


def test_a_screenshot_saved_on_another_computer_says_where_it_is(
    qtbot, db, in_review, tmp_path
) -> None:
    """A team's database names files on every workstation's disk: one saved elsewhere is
    not looked for here; the dialog says which computer holds it."""
    shot = tmp_path / "failed.png"
    shot.write_bytes(b"not read")
    with db.session() as s:
        s.execute(
            update(Task)
            .where(Task.id == in_review)
            .values(screenshot=str(shot), screenshot_host="other-workstation")
        )
        s.commit()
    dialog = TaskDetailDialog(db, in_review, resolve=FakeResolve())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.shot_area.isVisible(), timeout=5000)
    assert dialog.screenshot.text() == (f"The screenshot is on computer other-workstation: {shot}")
    assert dialog.screenshot.pixmap().isNull()
