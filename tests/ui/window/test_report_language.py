"""An Order's report exported from the console is in the console's language: its headers,
the units' statuses as the Tasks table names them, and why a unit was not bought, with
money as the console writes it."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest
from helpers import seed_market, tasks
from PySide6.QtCore import QLocale
from translator import REPORT, RUSSIAN, translated

from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.report import COLUMNS
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.ui.i18n import apply_language
from app.ui.window.main_window import MainWindow


@pytest.fixture
def russian(qapp) -> Iterator[None]:
    apply_language("ru", QLocale("C"))
    with translated(RUSSIAN):
        yield
    apply_language("en")


@pytest.fixture
def window(qtbot, db, russian) -> Iterator[MainWindow]:
    seed_market(db, accounts=5)
    service = EngineService(
        db,
        lambda _m: MemoryDriver(prices={"A2": 250000}),
        EngineSettings(concurrency=2, poll_s=0.1, rollup_s=0.1),
    )
    service.start()
    win = MainWindow(db, service)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    service.stop()


def test_a_report_exported_from_the_russian_console_is_in_russian(
    qtbot, db, window, tmp_path
) -> None:
    lines = [LineSpec("A1", 1, "P1"), LineSpec("A2", 1, "P2", "1500")]
    order_id = window.engine.submit(OrderSpec("ООО Ромашка", "mem", lines)).result(10)
    qtbot.waitUntil(
        lambda: [u.status for u in tasks(db, order_id)] == ["purchased", "failed"], timeout=10000
    )
    qtbot.waitUntil(lambda: bool(window.orders_view.orders.rows), timeout=5000)
    window.orders_view.selectRow(0)
    out = tmp_path / "отчёт.csv"
    window.export_report(str(out))
    qtbot.waitUntil(out.exists, timeout=5000)

    with out.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f, delimiter=";"))
    assert header == [REPORT[c] for c in COLUMNS]
    status, reason = header.index("Статус"), header.index("Причина ошибки")
    assert [(r[status], r[reason]) for r in rows] == [
        ("выкуплено", ""),
        ("ошибка", "Артикул A2 стоит 2\u00a0500,00\u00a0₽ — выше макс. цены 1\u00a0500,00\u00a0₽"),
    ]
