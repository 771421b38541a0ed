"""Shared pieces of the console: running work off the GUI thread, engine futures, status
colours and names, display formats (from app.ui.i18n), and copying a table's rows."""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
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

# A future's work and callbacks (on_done, on_error), kept for the GUI thread.
_Waiting = tuple[
    Callable[[], Any] | None, Callable[[Any], None], Callable[[BaseException], None] | None
]


class _Relay(QObject):
    """Carries a finished future's outcome into the GUI thread (signals emitted from
    another thread are queued to the receiver's thread).

    Only a key travels with the future: its work and callbacks wait in `waiting` until
    the GUI thread takes them. They hold widgets (a dialog's bound methods), and a worker
    thread that dropped the last reference to a widget would destroy it on that thread,
    which crashes the console (so went a Workers dialog closed while it read).

    Attributes:
        waiting: _Waiting by key, until delivered.
    """

    finished = Signal(object, object)  # future, key

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[int, _Waiting] = {}
        self._keys = itertools.count()

    def keep(self, waiting: _Waiting) -> int:
        """Keeps `waiting` until delivered; its key."""
        key = next(self._keys)
        self.waiting[key] = waiting
        return key


def _deliver(fut: concurrent.futures.Future[Any], key: int) -> None:
    fn, on_done, on_error = relay().waiting.pop(key)
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
    finally:
        if exc is not None and fn is not None:
            # The failed work's frames hold what it held (a dialog, if the work was one
            # of its methods), and the future may end on the worker thread.
            traceback.clear_frames(exc.__traceback__)


_relay: _Relay | None = None


def relay() -> _Relay:
    """The relay (made on the GUI thread, at the first call)."""
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
    never blocks. Called on the GUI thread."""
    _hand_over(fut, relay().keep((None, on_done, on_error)))


def in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None] | None = None,
) -> concurrent.futures.Future[Any]:
    """Runs `fn` (a database read) on a worker thread and hands its result to the GUI.
    Called on the GUI thread."""
    r = relay()
    key = r.keep((fn, on_done, on_error))
    fut = _pool.submit(_run, r, key)
    _hand_over(fut, key)
    return fut


class Newest:
    """Numbers the reads that fill one view. Reads run two at a time and may finish out
    of order: one that finishes after a newer one was shown would put back what the
    newer one replaced (an Order just created gone, an account just disabled enabled
    again) until the next refresh. `ask()` numbers a read as it starts; `fresh(n)` says
    whether read n may be shown, and makes it the newest shown."""

    def __init__(self) -> None:
        self._asked = 0
        self._shown = 0

    def ask(self) -> int:
        self._asked += 1
        return self._asked

    @property
    def asked(self) -> int:
        """The number of the last read asked."""
        return self._asked

    def fresh(self, n: int) -> bool:
        if n < self._shown:
            return False
        self._shown = n
        return True


def _run(r: _Relay, key: int) -> Any:
    """A worker thread's part: the work kept under `key` (where it stays referenced)."""
    fn = r.waiting[key][0]
    assert fn is not None  # in_background keeps one
    return fn()


def _hand_over(fut: concurrent.futures.Future[Any], key: int) -> None:
    r = relay()
    fut.add_done_callback(lambda f: r.finished.emit(f, key))


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

# The layout signals' overload that carries a hint (the row order changed, not the rows);
# PySide's stubs know no signal overloads, hence the type: ignore where it is used.
LAYOUT_ARGS = ("QList<QPersistentModelIndex>", "QAbstractItemModel::LayoutChangeHint")

T = TypeVar("T")


def ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted runs of consecutive row numbers: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for r in sorted(set(rows)):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


@dataclass(frozen=True, slots=True)
class Swap:
    """How the shown id list becomes a new one while the rows stay on screen: the runs
    of rows no longer listed are removed, the new ids appended, then all put in order.

    Attributes:
        ids, row_of: the new list and each id's row in it.
        gone: runs of the old list's rows that are not in the new one.
        added: ids that are new, in the new list's order.
        reorder: whether the kept and added rows need moving to their places.
    """

    ids: list[int]
    row_of: dict[int, int]
    gone: list[tuple[int, int]]
    added: list[int]
    reorder: bool


def plan_swap(old: list[int], old_row_of: dict[int, int], ids: list[int]) -> Swap:
    """The Swap from `old` to `ids` (O(rows): a long list's is planned off the GUI thread)."""
    row_of = {key: n for n, key in enumerate(ids)}
    gone = ranges(n for n, key in enumerate(old) if key not in row_of)
    added = [key for key in ids if key not in old_row_of]
    kept = [key for key in old if key in row_of] if gone else old
    return Swap(ids, row_of, gone, added, kept + added != ids)


def move_rows(
    model: QAbstractItemModel,
    items: list[T],
    swap: Swap,
    new: list[T],
    key: Callable[[T], int],
    store: Callable[[list[T]], None],
) -> None:
    """Carries out `swap` on `model`, whose rows are `items` (`store` sets them, `key`
    gives an item's id) and become `new`: removes, appends and moves rows as the views
    expect, so that the selection, the current row and the scroll position follow their
    rows (a reset would drop them)."""
    root = QModelIndex()
    for a, b in reversed(swap.gone):
        model.beginRemoveRows(root, a, b)
        items = items[:a] + items[b + 1 :]
        store(items)
        model.endRemoveRows()
    if swap.added:
        n = len(items)
        model.beginInsertRows(root, n, n + len(swap.added) - 1)
        items = items + [new[swap.row_of[k]] for k in swap.added]
        store(items)
        model.endInsertRows()
    if swap.reorder:
        hint = QAbstractItemModel.LayoutChangeHint.VerticalSortHint
        model.layoutAboutToBeChanged[LAYOUT_ARGS].emit([], hint)  # type: ignore[index]
        before = model.persistentIndexList()
        after = [model.index(swap.row_of[key(items[i.row()])], i.column()) for i in before]
        store(new)
        model.changePersistentIndexList(before, after)
        model.layoutChanged[LAYOUT_ARGS].emit([], hint)  # type: ignore[index]
    else:
        store(new)


class RowsModel(QAbstractTableModel):
    """A table over a short list of row objects that have an `id`, replaced as a whole on
    each refresh (the views' selection follows the ids); subclasses set `columns` and
    answer `data`.

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
        """Shows `rows`, every one repainted. The rows still listed keep their selection,
        current cell and place on screen wherever they move (another workstation's new
        Order or account must not take the row away from under an operator's click or
        open menu); rows no longer listed go, new ones come."""
        ids, old = [r.id for r in rows], [r.id for r in self.rows]
        if ids != old:

            def store(items: list[Any]) -> None:
                self.rows = items

            swap = plan_swap(old, {row_id: n for n, row_id in enumerate(old)}, ids)
            move_rows(self, self.rows, swap, rows, lambda r: r.id, store)
        self.rows = rows
        if rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1)
            )


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
