"""Shared pieces of the console: running work off the GUI thread, engine futures, status
colours and names, display formats (from app.ui.i18n), and copying a table's rows."""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QTableView

from app.core.orders.spec import FieldError
from app.core.support.errors import KnownError, internal_error
from app.core.support.text import CONTEXT, QT_TRANSLATE_NOOP, Message, Refused
from app.ui.i18n import local_time, money, number  # noqa: F401  (the views' formats)

log = logging.getLogger(__name__)

_pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="ui-read")


class _Relay(QObject):
    """Carries a finished future's outcome into the GUI thread (signals emitted from
    another thread are queued to the receiver's thread)."""

    finished = Signal(object, object, object)  # future, on_done, on_error


def _deliver(
    fut: concurrent.futures.Future[Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None,
) -> None:
    exc = fut.exception()
    try:
        if exc is None:
            on_done(fut.result())
        elif on_error is not None:
            on_error(exc)
        else:
            log.error("background work failed", exc_info=exc)
    except RuntimeError as gone:
        # The widget that asked was destroyed meanwhile (a closed dialog, the window a
        # language switch replaced): nobody is waiting for this answer any more.
        if "already deleted" not in str(gone):
            raise
        log.debug("dropped a result for a destroyed widget: %s", gone)


_relay: _Relay | None = None


def relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
        _relay.finished.connect(_deliver)
    return _relay


def when_done(
    fut: concurrent.futures.Future[Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Calls `on_done(result)` or `on_error(exc)` in the GUI thread once `fut` finishes;
    never blocks."""
    r = relay()
    fut.add_done_callback(lambda f: r.finished.emit(f, on_done, on_error))


def in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
) -> concurrent.futures.Future[Any]:
    """Runs `fn` (a database read) on a worker thread and hands its result to the GUI."""
    fut = _pool.submit(fn)
    when_done(fut, on_done, on_error)
    return fut


STATUS_COLORS = {
    "pending": "#6b7280",
    "waiting_account": "#b45309",
    "assigned": "#2563eb",
    "running": "#2563eb",
    "submitting": "#7c3aed",
    "purchased": "#15803d",
    "delivered": "#166534",
    "retry_wait": "#b45309",
    "failed": "#b91c1c",
    "cancelled": "#9ca3af",
    "needs_review": "#be185d",
    # Orders
    "queued": "#6b7280",
    "paused": "#b45309",
    "done": "#166534",
    # Some units bought, the rest not: worth a look, not a loss like "failed".
    "partly_bought": "#c2410c",
    # Accounts and their health
    "active": "#15803d",
    "disabled": "#9ca3af",
    "blocked": "#b91c1c",
    "valid": "#15803d",
    "session_expired": "#b45309",
    "bad_credentials": "#b91c1c",
}

STATUS_BACKGROUNDS = {
    "purchased": "#ecfdf5",
    "delivered": "#dcfce7",
    "failed": "#fef2f2",
    "needs_review": "#fdf2f8",
    "waiting_account": "#fffbeb",
    "retry_wait": "#fffbeb",
    "running": "#eff6ff",
    "submitting": "#f5f3ff",
}


@functools.cache  # data() asks for these thousands of times a second
def status_color(status: str) -> QColor:
    return QColor(STATUS_COLORS.get(status, "#111827"))


@functools.cache
def status_background(status: str) -> QColor | None:
    color = STATUS_BACKGROUNDS.get(status)
    return QColor(color) if color else None


# Status names as the operator reads them (context "Status" in the translations).
STATUS_LABELS = {
    "pending": QT_TRANSLATE_NOOP("Status", "pending"),
    "waiting_account": QT_TRANSLATE_NOOP("Status", "waiting for account"),
    "assigned": QT_TRANSLATE_NOOP("Status", "assigned"),
    "running": QT_TRANSLATE_NOOP("Status", "running"),
    "submitting": QT_TRANSLATE_NOOP("Status", "submitting"),
    "purchased": QT_TRANSLATE_NOOP("Status", "purchased"),
    "delivered": QT_TRANSLATE_NOOP("Status", "delivered"),
    "retry_wait": QT_TRANSLATE_NOOP("Status", "retry wait"),
    "failed": QT_TRANSLATE_NOOP("Status", "failed"),
    "cancelled": QT_TRANSLATE_NOOP("Status", "cancelled"),
    "needs_review": QT_TRANSLATE_NOOP("Status", "needs review"),
    # Orders
    "queued": QT_TRANSLATE_NOOP("Status", "queued"),
    "paused": QT_TRANSLATE_NOOP("Status", "paused"),
    "done": QT_TRANSLATE_NOOP("Status", "done"),
    "partly_bought": QT_TRANSLATE_NOOP("Status", "partly bought"),
    # Deliveries
    "in_transit": QT_TRANSLATE_NOOP("Status", "in transit"),
    "at_pickup_point": QT_TRANSLATE_NOOP("Status", "at pickup point"),
    "ordered": QT_TRANSLATE_NOOP("Status", "ordered"),
    "unknown": QT_TRANSLATE_NOOP("Status", "unknown"),
    # Accounts and their health
    "active": QT_TRANSLATE_NOOP("Status", "active"),
    "disabled": QT_TRANSLATE_NOOP("Status", "disabled"),
    "blocked": QT_TRANSLATE_NOOP("Status", "blocked"),
    "valid": QT_TRANSLATE_NOOP("Status", "valid"),
    "session_expired": QT_TRANSLATE_NOOP("Status", "session expired"),
    "bad_credentials": QT_TRANSLATE_NOOP("Status", "bad credentials"),
}


def status_label(status: str) -> str:
    """A state's name in the operator's language (`pending`, `needs review`, ...)."""
    source = STATUS_LABELS.get(status)
    if source is None:
        return status.replace("_", " ")
    return QCoreApplication.translate("Status", source)


def say(message: Message | str) -> str:
    """An engine message (app.core.support.text) in the operator's language; the English text
    when its translation does not fit the values."""
    if isinstance(message, str):
        return message
    values = dict(message.values)
    try:
        return QCoreApplication.translate(CONTEXT, message.template).format(**values)
    except (KeyError, IndexError, ValueError):
        log.warning("translation of %r does not fit its values", message.template)
        return str(message)


def error_text(exc: BaseException) -> str:
    """What stopped an engine command, in one line in the operator's language: a refusal
    of the input, an environment problem, or a defect that says it is one (logged)."""
    if isinstance(exc, Refused):
        return say(exc.message)
    if isinstance(exc, KnownError):
        return str(exc)
    log.error("a command failed", exc_info=exc)
    return internal_error(exc)


def field_error(error: FieldError, *, with_line: bool = True) -> str:
    """A validation problem as the operator reads it: "Line 2, quantity: must be …"."""
    name = QCoreApplication.translate(CONTEXT, error.field)
    if error.line and with_line:
        where = fill(QCoreApplication.translate("FieldError", "Line %1, %2"), error.line, name)
    else:
        where = name[:1].upper() + name[1:]
    return f"{where}: {say(error.message)}"


def counted(text: str, n: int) -> str:
    """A count with its noun, from a numerus text as `tr("%Ln order(s)", "", n)` gives
    it: a translation's form for `n` ("5 заказов"), or in English, the code's language,
    which has no translation, the source with "(s)" as `n` wants it ("1 order")."""
    return text.replace("(s)", "" if n == 1 else "s")


_PLACEHOLDER = re.compile(r"%(\d)")


def fill(template: str, *values: object) -> str:
    """Qt's %1…%9 filled in one pass, so that a value holding "%2" (a client's name, an
    error text) stays as it is; a translation may put the placeholders in any order."""

    def value(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return str(values[n - 1]) if 0 < n <= len(values) else m.group(0)

    return _PLACEHOLDER.sub(value, template)


def column_title(source: str) -> str:
    """A column header marked with QT_TRANSLATE_NOOP("Column", ...), translated."""
    return QCoreApplication.translate("Column", source)


Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """A table over a short list of row objects that have an `id`, replaced as a whole on
    each refresh; subclasses set `columns` and answer `data`.

    Attributes:
        rows: the row objects, in display order.
    """

    columns: tuple[str, ...] = ()

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list[Any] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return column_title(self.columns[section])
        return None

    def set_rows(self, rows: list[Any]) -> None:
        """Same rows in the same order: repaint in place (keeps selection and scroll);
        otherwise reset."""
        if [r.id for r in rows] == [r.id for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1)
                )
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


# Inside a copied cell, what would end it or its row when a spreadsheet pastes the text.
_CELL_BREAKS = re.compile(r"\r\n|[\t\n\r\v\f\u2028\u2029]")


def copy_rows(view: QTableView) -> None:
    """Puts the selected rows on the clipboard as a spreadsheet pastes them: one line a row
    in the table's order, the shown text of every visible column in the columns' order,
    separated by tabs, no header. Tabs and line breaks in a cell become spaces."""
    selection = view.selectionModel()
    model = view.model()
    if selection is None or model is None:
        return
    rows = sorted(
        {i.row() for i in selection.selectedIndexes() if not view.isRowHidden(i.row())},
        key=view.verticalHeader().visualIndex,
    )
    if not rows:
        return
    header = view.horizontalHeader()
    columns = [
        c
        for c in (header.logicalIndex(v) for v in range(header.count()))
        if not view.isColumnHidden(c)
    ]

    def cell(row: int, column: int) -> str:
        text = model.data(model.index(row, column), Qt.ItemDataRole.DisplayRole)
        return "" if text is None else _CELL_BREAKS.sub(" ", str(text))

    QGuiApplication.clipboard().setText(
        "\n".join("\t".join(cell(r, c) for c in columns) for r in rows)
    )
