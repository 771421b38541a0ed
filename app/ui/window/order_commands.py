"""The operator's commands on the selected Order: start or resume, pause, cancel, retry
its failed units and edit its lines; each enabled by the Order's status, sent to the
engine, and answered in the window without waiting for it."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.domain.states import CANCELLABLE, ORDER_OPEN, RETRYABLE, OrderStatus
from app.core.service import EngineService
from app.core.support.errors import KnownError, internal_error
from app.ui.common import fill, number, when_done
from app.ui.views.orders_view import OrdersView

log = logging.getLogger(__name__)


class OrderCommands(QObject):
    """Attributes:
    done: called with what to say in the status bar after a command went through.
    failed: called with the message to show when it did not.
    edit_dialog: the Edit lines dialog last opened.
    """

    def __init__(
        self,
        parent: QWidget,
        orders_view: OrdersView,
        engine: EngineService,
        *,
        done: Callable[[str], None],
        failed: Callable[[str], None],
    ):
        super().__init__(parent)
        self._parent = parent
        self._orders = orders_view
        self._engine = engine
        self._done = done
        self._failed = failed

    def enable(self, actions: dict[str, QAction]) -> None:
        """Enables the commands that apply to the selected Order's status."""
        row = self._orders.current_row()
        status = row.status if row else None
        actions["start"].setEnabled(status is OrderStatus.PAUSED)
        actions["pause"].setEnabled(status in ORDER_OPEN)
        actions["cancel"].setEnabled(status in CANCELLABLE)
        actions["retry"].setEnabled(bool(row and row.failed) and status in RETRYABLE)
        actions["export_report"].setEnabled(row is not None)
        actions["edit_lines"].setEnabled(row is not None and status is not OrderStatus.CANCELLED)

    def start(self) -> None:
        if (order_id := self._orders.current_order()) is not None:
            self._send(self._engine.resume(order_id), fill(self.tr("Order #%1 started"), order_id))

    def pause(self) -> None:
        if (order_id := self._orders.current_order()) is not None:
            self._send(self._engine.pause(order_id), fill(self.tr("Order #%1 paused"), order_id))

    def cancel(self) -> None:
        row = self._orders.current_row()
        if row is None:
            return
        answer = QMessageBox.question(
            self._parent,
            self.tr("Cancel order"),
            fill(
                self.tr(
                    "Cancel order #%1 for %2?\n\n%3 of %4 units are bought and stay bought. "
                    "Units not started are cancelled; a purchase already being placed finishes "
                    "and is recorded."
                ),
                row.id,
                row.client,
                number(row.purchased),
                number(row.total),
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._send(self._engine.cancel(row.id), fill(self.tr("Order #%1 cancelled"), row.id))

    def retry_failed(self) -> None:
        if (order_id := self._orders.current_order()) is not None:
            self._send(self._engine.retry_failed(order_id), self.tr("Failed units queued again"))

    def edit_lines(self) -> None:
        """The selected Order's lines in a dialog: caps and quantities to change, saved
        with or without its failed units queued again."""
        from app.ui.dialogs.edit_lines import EditLinesDialog

        order_id = self._orders.current_order()
        if order_id is None:
            return
        engine = self._engine
        dialog = EditLinesDialog(
            engine.db,
            order_id,
            engine.edit_lines,
            max_units_per_line=engine.supervisor.ctx.settings.max_units_per_line,
            parent=self._parent,
        )
        dialog.saved.connect(
            lambda queued: self._done(
                fill(
                    self.tr("Order #%1's lines saved; %2 failed units queued again"),
                    order_id,
                    number(queued),
                )
                if queued
                else fill(self.tr("Order #%1's lines saved"), order_id)
            )
        )
        self.edit_dialog = dialog
        dialog.open()

    def _send(self, fut: concurrent.futures.Future[Any], done_message: str) -> None:
        def failed(exc: BaseException) -> None:
            # A defect says it is one, with where the log is.
            if isinstance(exc, KnownError):
                self._failed(str(exc))
            else:
                log.error("a command failed", exc_info=exc)
                self._failed(internal_error(exc))

        when_done(fut, lambda _result: self._done(done_message), failed)
