"""What the engine says, shown in the window: the status bar, one non-modal box for
errors, notifications (the tray where there is one, else a list above the views) when an
Order finishes or fails or a unit needs review, notices said once (the secrets key's)
until the operator dismisses them, and why a marketplace's Orders cannot start."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from app.core.domain.clock import utcnow
from app.core.domain.states import OrderStatus
from app.core.engine.events import EngineNotice, MarketBlocked, OrderProgress, TaskChanged
from app.core.support.secrets import Vault, get_vault
from app.ui.common import fill, in_background, local_time, number, say, status_label
from app.ui.engine_texts import engine_text
from app.ui.views.orders_view import OrdersView

# Order states worth a notification: finished, or needing the operator.
NOTIFY_ORDER = frozenset(
    {OrderStatus.DONE, OrderStatus.PURCHASED, OrderStatus.FAILED, OrderStatus.PARTLY_BOUGHT}
)
KEEP = 20  # notifications the window keeps, newest first (pinned ones besides)
SECRETS_KEY = "secrets-key"  # the pinned notice about where the secrets key is kept


@dataclass
class Notice:
    """One line of the window's notifications."""

    title: str
    message: str
    at: datetime = field(default_factory=utcnow)
    pin: str = ""  # a notice said once, kept until dismissed: its key


class NoticeArea(QFrame):
    """Notifications in the window, above its views, newest first: those no tray shows and
    the notices said once, which stay first until the operator dismisses them. Hidden
    while it holds none.

    Attributes:
        notices: what it shows, in its order.
        list: one row per notice.
        dismiss_button: hides it and forgets what it showed (a dismissed pinned notice is
            not shown again by this console).
        dismissed: the keys of the pinned notices dismissed.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("notice-area")
        self.setStyleSheet(
            "#notice-area { background: #fffbeb; border-bottom: 1px solid #fcd34d; }"
            " QListWidget { background: transparent; border: none; }"
        )
        self.notices: list[Notice] = []
        self.dismissed: set[str] = set()
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.list.setMaximumHeight(self.list.fontMetrics().lineSpacing() * 4 + 8)
        self.dismiss_button = QPushButton(self.tr("Dismiss"))
        self.dismiss_button.setToolTip(self.tr("Hide these notifications"))
        self.dismiss_button.clicked.connect(self.dismiss)
        buttons = QVBoxLayout()
        buttons.addWidget(self.dismiss_button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.setVisible(False)

    def add(self, notice: Notice) -> None:
        """Shows `notice` first after the pinned ones (a pinned one: once, unless it was
        dismissed); the oldest beyond KEEP go."""
        if notice.pin:
            if notice.pin in self.dismissed or any(n.pin == notice.pin for n in self.notices):
                return
            self.notices.insert(0, notice)
        else:
            pinned = [n for n in self.notices if n.pin]
            others = [n for n in self.notices if not n.pin]
            self.notices = [*pinned, notice, *others[: KEEP - 1]]
        self._show()

    def texts(self) -> list[str]:
        return [self.list.item(n).text() for n in range(self.list.count())]

    def dismiss(self) -> None:
        self.dismissed.update(n.pin for n in self.notices if n.pin)
        self.notices = []
        self._show()

    def _show(self) -> None:
        self.list.clear()
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for n in self.notices:
            if n.pin:
                item = QListWidgetItem(warning, f"{n.title}: {n.message}")
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            else:
                item = QListWidgetItem(f"{local_time(n.at)}  {n.title}: {n.message}")
            item.setToolTip(n.message)
            self.list.addItem(item)
        self.setVisible(bool(self.notices))


class Notices(QObject):
    """Shows its `area` above the window's central widget.

    Attributes:
        error_box: the box engine errors are shown in (None until the first one).
        tray: the system-tray icon, or None where the desktop has no tray.
        area: the notifications in the window (where there is no tray) and the notices
            said once.
        notified_orders: Order id → the status last notified (each said once).
        blocked: why purchases cannot start on a marketplace, by its name (the Orders
            view says it on the marketplace's Orders).
    Signals:
        notice(str): an engine notice was shown.
        notified(str, str): a notification (title, message) was raised, tray or not.
    """

    notice = Signal(str)
    notified = Signal(str, str)

    def __init__(
        self,
        window: QMainWindow,
        orders_view: OrdersView,
        blocked: Iterable[MarketBlocked] = (),
    ):
        super().__init__(window)
        self._window = window
        self._orders_view = orders_view
        self.error_box: QMessageBox | None = None
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(window.windowIcon(), window)
            self.tray.setToolTip(window.windowTitle())
            self.tray.show()
        self.area = NoticeArea()
        self._install(window)
        self.notified_orders: dict[int, OrderStatus] = {}
        self.blocked: dict[str, str] = {}
        for e in blocked:
            self.market_blocked(e)
        # Loading the key may ask the OS keyring (D-Bus): never on the GUI thread.
        in_background(get_vault, self._vault_loaded, lambda _exc: None)  # Accounts says why

    def _install(self, window: QMainWindow) -> None:
        views = window.takeCentralWidget()
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.area)
        if views is not None:
            layout.addWidget(views, 1)
        window.setCentralWidget(holder)

    def _vault_loaded(self, vault: Vault) -> None:
        if vault.notice:
            self.area.add(Notice(self.tr("Secrets key"), say(vault.notice), pin=SECRETS_KEY))

    def engine_notice(self, e: EngineNotice) -> None:
        self._window.statusBar().showMessage(e.message, 30000)
        self.notice.emit(e.message)
        if e.level == "error":
            self.error(e.message)
        else:  # the status bar's next message would replace it
            self.area.add(Notice(self.tr("Engine"), e.message))

    def market_blocked(self, e: MarketBlocked) -> None:
        """Purchases on a marketplace cannot start, or can again: its Orders say so."""
        if e.reason is None:
            self.blocked.pop(e.marketplace, None)
        else:
            self.blocked[e.marketplace] = e.reason
        self._orders_view.orders.set_notes(self.blocked)

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
        if e.status == OrderStatus.FAILED:
            title = self.tr("Order failed")
            text = self.tr("Order #%1 for %2 failed: %3 of %4 units bought; it needs attention.")
        elif e.status == OrderStatus.PARTLY_BOUGHT:
            title = self.tr("Order partly bought")
            text = self.tr(
                "Order #%1 for %2 is partly bought: %3 of %4 units bought; the rest need attention."
            )
        else:
            title = self.tr("Order finished")
            text = self.tr("Order #%1 for %2 is %5: %3 of %4 units bought.")
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
                engine_text(e.error) if e.error else self.tr("check it in the Tasks table"),
            ),
        )

    def notify(self, title: str, message: str) -> None:
        """Shows a tray message where the desktop has a tray, else adds it to the window's
        notifications; always emits `notified`."""
        if self.tray is not None:
            icon = QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage(title, message, icon, 10000)
        else:
            self.area.add(Notice(title, message))
        self.notified.emit(title, message)

    def take_over(self, old: Notices) -> None:
        """A successor window (language switch) keeps what was notified, the notifications
        shown (a pinned notice is said again in the new language, unless dismissed), why
        marketplaces cannot start, and shows again the errors on screen."""
        self.notified_orders = dict(old.notified_orders)
        self.area.dismissed |= old.area.dismissed
        for notice in reversed([n for n in old.area.notices if not n.pin]):
            self.area.add(notice)
        self.blocked = dict(old.blocked)
        self._orders_view.orders.set_notes(self.blocked)
        for message in old.showing_errors():
            self.error(message)
