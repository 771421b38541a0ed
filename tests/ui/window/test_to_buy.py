"""The To buy view end to end, on the sandbox set up as a marketplace where a person buys:
the test checks what the console would start, plays the operator by buying on the shop
with that account in a real browser, records the order in the console, and the shop's
ledger agrees; "could not buy" and "skip" lead where they should."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import seed_market
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox
from sqlalchemy import select, update

from app.core.accounts.admin import upsert_accounts
from app.core.domain.models import BuyBack, MarketPlace, MarketPlaceAccount, Task
from app.core.drivers.assisted import BrowserLaunch
from app.core.drivers.base import AccountRef, PurchaseRequest, Receipt
from app.core.drivers.memory import MemoryDriver
from app.core.drivers.sandbox import SandboxDriver
from app.core.engine.assisted import NotBought
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings
from app.core.orders.catalog import upsert_marketplace
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from app.core.support.paths import data_dir
from app.sandbox import seed
from app.sandbox.server import SandboxOptions, SandboxServer
from app.ui.views import to_buy
from app.ui.views.to_buy import ToBuyView
from app.ui.window.main_window import MainWindow

ARTICLE, POINT = seed.ARTICLES[0], seed.PICKUP_POINTS[1]
ME = "operator:ivan@ws1"


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[str]:
    server = SandboxServer(tmp_path / "ledger.sqlite3", SandboxOptions(accounts=3))
    yield server.start_in_thread()
    server.stop_thread()


class _NoSessions:
    async def load(self, account_id: int) -> None:
        return None

    async def save(self, account_id: int, state: object) -> None:
        return None


def practice_market(db: Database, url: str) -> None:
    """The sandbox as a marketplace where a person buys (for training)."""
    with db.session() as s:
        mp = upsert_marketplace(
            s,
            code="practice",
            name="Sandbox practice",
            base_url=url,
            driver="assisted",
            articles=[(a.sku, a.title) for a in seed.ARTICLES],
            pickup_points=[(p.code, p.address) for p in seed.PICKUP_POINTS],
        )
        upsert_accounts(s, mp.id, [(a.login, a.password) for a in seed.demo_accounts(3)])
        s.commit()


def buy_as_the_operator(url: str, login: str, tmp_path: Path) -> Receipt:
    """What the operator does in the browser: buys the unit on the shop with the account."""
    password = {a.login: a.password for a in seed.demo_accounts(3)}[login]

    async def buy() -> Receipt:
        driver = SandboxDriver(url, _NoSessions(), shop="practice", screenshot_dir=tmp_path)
        await driver.start()
        try:

            async def go_on() -> None:
                return None

            request = PurchaseRequest(
                0, AccountRef(0, login, password, url), ARTICLE.sku, POINT.code
            )
            return await driver.purchase(request, go_on)
        finally:
            await driver.close()

    return asyncio.run(buy())


def task_states(db: Database) -> dict[int, tuple[str, str | None, int | None]]:
    with db.reading() as s:
        rows = s.execute(select(Task.id, Task.status, Task.last_error, Task.account_id))
        return {i: (st, err, acc) for i, st, err, acc in rows}


def lease_of(db: Database, login: str) -> str | None:
    with db.reading() as s:
        return s.scalar(
            select(MarketPlaceAccount.lease_owner).where(MarketPlaceAccount.login == login)
        )


def _selected_other_than(view: ToBuyView, *task_ids: int) -> bool:
    """The view shows a unit selected, none of `task_ids` (the unit just taken, once the
    view has read it)."""
    unit = view.selected_unit()
    return unit is not None and unit.task_id not in task_ids


@pytest.mark.browser
def test_a_person_buys_through_the_to_buy_view_and_the_shop_agrees(
    qtbot, tmp_path: Path, shop: str
) -> None:
    db = Database(str(tmp_path / "console.sqlite3"))
    practice_market(db, shop)
    drivers = driver_factory(db, DriverOptions(screenshot_dir=tmp_path))
    service = EngineService(db, drivers, EngineSettings(concurrency=2, poll_s=0.2, rollup_s=0.2))
    service.start()
    cap = ARTICLE.price_minor * 2
    order_id = service.submit(
        OrderSpec("Client", "practice", [LineSpec(ARTICLE.sku, 3, POINT.code, str(cap / 100))])
    ).result(timeout=30)
    window = MainWindow(db, service)
    qtbot.addWidget(window)
    view = window.to_buy_view
    started: list[BrowserLaunch] = []
    view.start_browser = started.append  # what the console would start, not a browser
    window.show()
    try:
        window.menu_actions["take_next"].trigger()
        qtbot.waitUntil(lambda: len(view.launched) == 1, timeout=10000)
        qtbot.waitUntil(lambda: view.selected_unit() is not None, timeout=5000)
        unit = view.selected_unit()
        assert unit is not None and window.tabs.currentWidget() is view
        launch = started[0]
        assert launch.url == f"{shop}/product/{ARTICLE.sku}"
        assert launch.profile == data_dir() / "profiles" / f"practice-{unit.account_id}"
        assert launch.command[1:] == [
            f"--user-data-dir={launch.profile}",
            "--no-first-run",
            "--new-window",
            launch.url,
        ]
        assert POINT.code in view.detail.text() and unit.login in view.detail.text()

        receipt = buy_as_the_operator(shop, unit.login, tmp_path)
        qtbot.mouseClick(view.bought_button, Qt.MouseButton.LeftButton)
        dialog = view.record_dialog
        qtbot.keyClicks(dialog.number, receipt.order_number)
        qtbot.keyClicks(
            dialog.price, f"{receipt.price_minor // 100},{receipt.price_minor % 100:02d}"
        )
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=10000)

        with urllib.request.urlopen(f"{shop}/admin/orders.json", timeout=10) as r:
            ledger = json.load(r)
        with db.reading() as s:
            recorded = s.execute(select(BuyBack.order_number, BuyBack.price_minor)).all()
        assert [(o["order_number"], o["login"], o["article"]) for o in ledger] == [
            (receipt.order_number, unit.login, ARTICLE.sku)
        ]
        assert recorded == [(receipt.order_number, receipt.price_minor)]
        assert task_states(db)[unit.task_id][0] == "purchased"
        assert lease_of(db, unit.login) is None

        # A second unit: out of stock, with a note.
        window.menu_actions["take_next"].trigger()
        qtbot.waitUntil(lambda: len(view.launched) == 2, timeout=10000)
        qtbot.waitUntil(lambda: _selected_other_than(view, unit.task_id), timeout=5000)
        second = view.selected_unit()
        assert second is not None and second.login != unit.login
        qtbot.mouseClick(view.not_bought_button, Qt.MouseButton.LeftButton)
        nb = view.not_bought_dialog
        nb.reasons[NotBought.OUT_OF_STOCK].setChecked(True)
        qtbot.keyClicks(nb.note, "sold out")
        qtbot.mouseClick(nb.ok_button, Qt.MouseButton.LeftButton)
        assert not nb.ok_button.isEnabled()  # recorded once, however often it is clicked
        qtbot.waitUntil(lambda: nb.result() == QDialog.DialogCode.Accepted, timeout=10000)
        assert task_states(db)[second.task_id][:2] == ("failed", "out of stock: sold out")

        # A third: skipped, back in the queue with its account free.
        window.menu_actions["take_next"].trigger()
        qtbot.waitUntil(lambda: len(view.launched) == 3, timeout=10000)
        qtbot.waitUntil(
            lambda: _selected_other_than(view, unit.task_id, second.task_id), timeout=5000
        )
        third = view.selected_unit()
        assert third is not None and lease_of(db, third.login) is not None
        qtbot.mouseClick(view.skip_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: task_states(db)[third.task_id][0] == "pending", timeout=10000)
        assert lease_of(db, third.login) is None
        qtbot.waitUntil(lambda: [r.id for r in view.queue.rows] == [third.task_id], timeout=5000)
        assert not view.hands.rows
        with urllib.request.urlopen(f"{shop}/admin/orders.json", timeout=10) as r:
            assert len(json.load(r)) == 1  # the console placed no order itself
        assert order_id
    finally:
        window.close()
        service.stop()
        db.close()


def test_arrivals_are_marked_in_the_tasks_list_or_imported_from_a_list(qtbot, tmp_path) -> None:
    db = Database(str(tmp_path / "console.sqlite3"))
    seed_market(db, accounts=3, code="wb")
    with db.session() as s:
        s.execute(update(MarketPlace).values(driver="assisted", base_url="https://wb.example"))
        s.commit()
    service = EngineService(
        db, lambda _m: MemoryDriver(), EngineSettings(concurrency=2, poll_s=0.2, rollup_s=0.2)
    )
    service.start()
    order_id = service.submit(OrderSpec("Client", "wb", [LineSpec("A1", 3, "P1")])).result(30)
    for n in range(3):
        unit = service.take_next(ME).result(10)
        service.record_bought(unit.task_id, f"WB-{n}", 1000).result(10)
    window = MainWindow(db, service)
    qtbot.addWidget(window)
    window.show()
    try:
        tasks = window.tasks_view
        qtbot.waitUntil(lambda: tasks.model.rowCount() == 3, timeout=5000)
        tasks.table.selectRow(0)
        window.menu_actions["mark_arrived"].trigger()
        qtbot.waitUntil(lambda: statuses(db).count("delivered") == 1, timeout=5000)

        path = tmp_path / "deliveries.csv"
        path.write_bytes(
            "Номер заказа;Статус\nWB-1;Готов к выдаче\nWB-2;в пути\nWB-9;в пути\n".encode("cp1251")
        )
        window.import_deliveries(str(path))
        qtbot.waitUntil(lambda: getattr(window, "deliveries_box", None) is not None, timeout=5000)
        box = window.deliveries_box
        assert "1 unit at the pickup point, 1 with a new status" in box.text()
        assert "WB-9" in box.detailedText()
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: statuses(db).count("delivered") == 2, timeout=5000)
        qtbot.waitUntil(
            lambda: (
                [(r.id, r.status) for r in window.orders_view.orders.rows]
                == [(order_id, "purchased")]
            ),
            timeout=5000,
        )
    finally:
        window.close()
        service.stop()
        db.close()


def statuses(db: Database) -> list[str]:
    with db.reading() as s:
        return list(s.scalars(select(Task.status).order_by(Task.id)))


def test_a_unit_taken_while_the_view_reads_shows_once_that_read_is_done(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read under way may have begun before a unit was taken; asked to reload then,
    the view reads again after it, rather than showing that read's lists alone (a unit
    already recorded still selected) until something else reloads it."""
    db = Database(str(tmp_path / "console.sqlite3"))
    seed_market(db, accounts=3, code="wb")
    with db.session() as s:
        s.execute(update(MarketPlace).values(driver="assisted", base_url="https://wb.example"))
        s.commit()
    service = EngineService(db, lambda _m: MemoryDriver(), EngineSettings(poll_s=0.2))
    service.start()
    gate, reading = threading.Event(), threading.Event()
    real = to_buy.hand_units

    def slow_first_read(s):  # the read's snapshot is taken (queued_units) before this
        if not gate.is_set():
            reading.set()
            assert gate.wait(10)
        return real(s)

    monkeypatch.setattr(to_buy, "hand_units", slow_first_read)
    view = ToBuyView(db, service)  # on its own: no window refreshes it every few seconds
    qtbot.addWidget(view)
    try:
        service.submit(OrderSpec("Client", "wb", [LineSpec("A1", 2, "P1")])).result(30)
        view.reload()
        assert reading.wait(10)
        unit = service.take_next(ME).result(10)  # another workstation's, or this one's
        view.reload()  # asked while the first read is under way
        gate.set()
        qtbot.waitUntil(lambda: [r.id for r in view.hands.rows] == [unit.task_id], timeout=5000)
        assert view.selected_unit() is not None
        assert view.selected_unit().task_id == unit.task_id
        assert view.counts.text() == "1 unit waiting · 1 in hand"
    finally:
        gate.set()
        service.stop()
        db.close()
