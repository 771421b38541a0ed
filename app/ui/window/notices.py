"""What the engine says, shown in the window: the status bar, one non-modal box for
errors, and notifications (the tray where there is one) when an Order finishes or fails
or a unit needs review."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSystemTrayIcon

from app.core.domain.states import OrderStatus
from app.core.engine.events import EngineNotice, OrderProgress, TaskChanged
from app.ui.common import fill, number, status_label
from app.ui.views.orders_view import OrdersView

# Order states worth a notification: finished, or needing the operator.
NOTIFY_ORDER = frozenset({OrderStatus.DONE, OrderStatus.PURCHASED, OrderStatus.FAILED})


class Notices(QObject):
    """Attributes:
        error_box: the box engine errors are shown in (None until the first one).
        tray: the system-tray icon, or None where the desktop has no tray.
        notified_orders: Order id → the status last notified (each said once).
    Signals:
        notice(str): an engine notice was shown.
        notified(str, str): a notification (title, message) was raised, tray or not.
    """

    notice = Signal(str)
    notified = Signal(str, str)

    def __init__(self, window: QMainWindow, orders_view: OrdersView):
        super().__init__(window)
        self._window = window
        self._orders_view = orders_view
        self.error_box: QMessageBox | None = None
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(window.windowIcon(), window)
            self.tray.setToolTip(window.windowTitle())
            self.tray.show()
        self.notified_orders: dict[int, OrderStatus] = {}

    def engine_notice(self, e: EngineNotice) -> None:
        self._window.statusBar().showMessage(e.message, 30000)
        self.notice.emit(e.message)
        if e.level == "error":
            self.error(e.message)

    def error(self, message: str) -> None:
        """One non-modal box for errors: a modal one would run a nested event loop inside
        the event pump, and errors arriving meanwhile would stack more boxes."""
        box = self.error_box
        if box is None:
            box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Engine"), "", parent=self._window)
            box.setModal(False)
            self.error_box = box
        text = box.text()
        if message not in text.split("\n\n"):
            box.setText(f"{text}\n\n{message}" if box.isVisible() and text else message)
        box.show()

    def showing_errors(self) -> list[str]:
        """The messages in the error box while it is on screen."""
        box = self.error_box
        return box.text().split("\n\n") if box is not None and box.isVisible() else []

    def order_progress(self, e: OrderProgress) -> None:
        """A notification when an Order finishes or fails, once per such state."""
        if e.status not in NOTIFY_ORDER or self.notified_orders.get(e.order_id) == e.status:
            return
        self.notified_orders[e.order_id] = e.status
        row = next((r for r in self._orders_view.orders.rows if r.id == e.order_id), None)
        failed = e.status == OrderStatus.FAILED
        title = self.tr("Order failed") if failed else self.tr("Order finished")
        text = (
            self.tr("Order #%1 for %2 failed: %3 of %4 units bought; it needs attention.")
            if failed
            else self.tr("Order #%1 for %2 is %5: %3 of %4 units bought.")
        )
        self.notify(
            title,
            fill(
                text,
                e.order_id,
                row.client if row else self.tr("a client"),
                number(e.purchased),
                number(e.total),
                status_label(e.status),
            ),
        )

    def needs_review(self, e: TaskChanged) -> None:
        self.notify(
            self.tr("Needs review"),
            fill(
                self.tr("A unit of order #%1 needs review: %2"),
                str(e.order_id),
                e.error or self.tr("check it in the Tasks table"),
            ),
        )

    def notify(self, title: str, message: str) -> None:
        """Shows a tray message where the desktop has a tray; always emits `notified`."""
        if self.tray is not None:
            icon = QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage(title, message, icon, 10000)
        self.notified.emit(title, message)

    def take_over(self, old: Notices) -> None:
        """A successor window (language switch) keeps what was notified and shows again
        the errors on screen."""
        self.notified_orders = dict(old.notified_orders)
        for message in old.showing_errors():
            self.error(message)
