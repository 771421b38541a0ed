"""The Orders table as the operator reads it."""

from __future__ import annotations

import asyncio

from helpers import make_supervisor, seed_market, tasks
from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QMainWindow, QStyleOptionViewItem
from sqlalchemy import select, update

from app.core.domain.models import Order, Task
from app.core.domain.states import OrderStatus, TaskStatus
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import OrderProgress
from app.core.engine.rollup import roll_up
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.queries import order_rows
from app.ui.common import status_color
from app.ui.views.orders_view import (
    DELIVERED,
    PROBLEMS,
    PROGRESS_ROLE,
    PURCHASED,
    STATUS,
    OrdersView,
    ProgressDelegate,
)
from app.ui.window.notices import Notices


class Half(QModelIndex):
    """An index whose progress is 1 of 2."""

    def data(self, role: int = 0) -> object:  # type: ignore[override]
        return (1, 2) if role == PROGRESS_ROLE else None


def test_progress_bars_fill_from_left_to_right(qtbot) -> None:
    image = QImage(200, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 200, 30)
    painter = QPainter(image)
    ProgressDelegate().paint(painter, option, Half())
    painter.end()

    def filled(x: int, y: int) -> bool:  # the bar's colour, not the groove's grey or white
        return image.pixelColor(x, y).saturation() > 80

    # Half filled along the width (a vertical bar would fill the bottom half instead).
    assert filled(25, 8) and filled(25, 22)
    assert not filled(175, 8) and not filled(175, 22)


def test_an_order_that_ended_with_some_units_bought_reads_partly_bought(
    qtbot, db, tmp_path
) -> None:
    seed_market(db, accounts=7)
    order_id = asyncio.run(
        make_supervisor(db, MemoryDriver()).submit(
            OrderSpec("Acme", "mem", [LineSpec("A1", 7, "P1")])
        )
    )
    ids = [t.id for t in tasks(db, order_id)]
    with db.session() as s:  # 6 units bought and at the pickup point, 1 out of stock
        s.execute(update(Task).where(Task.id.in_(ids[:6])).values(status="delivered"))
        s.execute(update(Task).where(Task.id == ids[6]).values(status="failed"))
        progress = roll_up(s.connection(), {order_id})
        s.commit()
        rows = order_rows(s)
    # The engine's progress stays "failed" (its failed unit may be retried) ...
    with db.session() as s:
        assert s.scalar(select(Order.status).where(Order.id == order_id)) == "failed"
    # ... the operator reads, and is notified, that the Order is partly bought.
    assert [p.status for p in progress] == [OrderStatus.PARTLY_BOUGHT]

    view = OrdersView()
    qtbot.addWidget(view)
    view.orders.set_rows(rows)
    model = view.orders

    def cell(column: int, role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole) -> object:
        return model.data(model.index(0, column), role)

    tip = Qt.ItemDataRole.ToolTipRole
    assert cell(STATUS) == "partly bought"
    assert cell(STATUS, Qt.ItemDataRole.ForegroundRole) == status_color("partly_bought")
    assert status_color("partly_bought") != status_color("failed")
    assert cell(PROBLEMS) == "1"
    # Every figure says what it counts, and every cell's whole text is in its tooltip.
    assert cell(PURCHASED, tip) == "6 of 7 units bought"
    assert cell(DELIVERED, tip) == "6 of 7 units delivered to the pickup point"
    assert cell(PROBLEMS, tip) == "Units failed: 1"
    assert cell(STATUS, tip) == "partly bought: 6 of 7 units bought"
    assert cell(1, tip) == "Acme" and cell(2, tip) == "Market mem"

    view.resize(1100, 120)
    view.show()
    qtbot.waitExposed(view)
    view.grab().save(str(tmp_path / "orders_partly_bought.png"))


def test_a_partly_bought_order_is_notified_as_such(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    notices = Notices(window, OrdersView(window))
    said: list[tuple[str, str]] = []
    notices.notified.connect(lambda *args: said.append(args))
    counts = {TaskStatus.DELIVERED: 6, TaskStatus.FAILED: 1}
    notices.order_progress(OrderProgress(9, OrderStatus.PARTLY_BOUGHT, 7, counts))
    assert said == [
        (
            "Order partly bought",
            "Order #9 for a client is partly bought: 6 of 7 units bought; the rest need attention.",
        )
    ]
