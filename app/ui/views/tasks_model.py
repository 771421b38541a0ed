"""The live Tasks table model: holds only Task ids, fetches row contents on demand into a
bounded cache, and applies the engine's events to the rows that changed.

After Anki's browser table: 100,000 Tasks cost what the visible rows cost. Unlike Anki,
rows are fetched on a worker thread and painted when they arrive, so the GUI thread never
waits for the database.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.core.domain.states import TaskStatus
from app.core.engine.events import TaskChanged
from app.core.storage.db import Database
from app.core.storage.queries import TaskFilter, TaskRow, task_ids, task_rows
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import (
    column_title,
    in_background,
    local_time,
    status_background,
    status_color,
    status_label,
)

Index = QModelIndex | QPersistentModelIndex

# (key, header, sort key in app.core.storage.queries.TASK_SORT)
COLUMNS: list[tuple[str, str]] = [
    ("id", QT_TRANSLATE_NOOP("Column", "Task")),
    ("order", QT_TRANSLATE_NOOP("Column", "Order")),
    ("job", QT_TRANSLATE_NOOP("Column", "Job")),
    ("article", QT_TRANSLATE_NOOP("Column", "Article")),
    ("account", QT_TRANSLATE_NOOP("Column", "Account")),
    ("pickup_point", QT_TRANSLATE_NOOP("Column", "Pickup point")),
    ("status", QT_TRANSLATE_NOOP("Column", "Status")),
    ("attempts", QT_TRANSLATE_NOOP("Column", "Attempts")),
    ("updated", QT_TRANSLATE_NOOP("Column", "Updated")),
    ("order_number", QT_TRANSLATE_NOOP("Column", "Marketplace order no.")),
    ("error", QT_TRANSLATE_NOOP("Column", "Error")),
]
STATUS_COLUMN = 6

_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_ROLES = frozenset({_DISPLAY, _FOREGROUND, _BACKGROUND, _TOOLTIP, _ALIGN})
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_NUMERIC = frozenset(
    n for n, (key, _) in enumerate(COLUMNS) if key in ("id", "order", "job", "attempts")
)

# Rows fetched around a missing one: a screenful and a bit, in one query.
FETCH_BLOCK = 120
CACHE_ROWS = 5000
# Past this many separate runs of changed rows, one covering range is cheaper to emit.
MAX_RANGES = 32


def _display(row: TaskRow, key: str) -> str:
    match key:
        case "id":
            return str(row.id)
        case "order":
            return str(row.order_id)
        case "job":
            return str(row.job_id)
        case "article":
            return row.article
        case "account":
            return row.account
        case "pickup_point":
            return row.pickup_point
        case "status":
            return status_label(row.status)
        case "attempts":
            return str(row.attempts)
        case "updated":
            return local_time(row.updated_at)
        case "order_number":
            return row.order_number
        case "error":
            return row.error
    return ""


def ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted runs of consecutive row numbers: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for r in sorted(set(rows)):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


class TasksModel(QAbstractTableModel):
    """Tasks matching a filter, in a sort order.

    Attributes:
        ids: the Task ids shown, in display order.
        task_filter: the current filter.
    Signals:
        reloaded: the id list was replaced (after a filter, sort or refresh).
    """

    reloaded = Signal()

    def __init__(self, db: Database, parent: QObject | None = None):
        super().__init__(parent)
        self.db = db
        self.ids: list[int] = []
        self._row_of: dict[int, int] = {}
        self._cache: OrderedDict[int, TaskRow] = OrderedDict()
        self._fetching: set[int] = set()
        self._stale: set[int] = set()
        self._texts: dict[int, list[str]] = {}  # display strings of cached rows
        self.task_filter = TaskFilter()
        self._sort = ("id", False)
        self._generation = 0
        self.fetches = 0  # database round trips for rows, for tests and benchmarks

    # -- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return column_title(COLUMNS[section][1])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every cell, role and repaint: plain ints and cached strings only.
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        n = index.row()
        row = self.row(n)
        if row is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            texts = self._texts.get(row.id)
            if texts is None:
                texts = self._texts[row.id] = [_display(row, key) for key, _ in COLUMNS]
            return texts[column]
        if role == _BACKGROUND:
            return status_background(row.status)
        if role == _FOREGROUND:
            return status_color(row.status) if column == STATUS_COLUMN else None
        if role == _ALIGN:
            return _RIGHT if column in _NUMERIC else None
        if role == _TOOLTIP:
            key = COLUMNS[column][0]
            if key == "article":
                return row.article_title
            if key == "error" and row.error:
                return row.error
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder)
        self.reload()

    # -- rows --------------------------------------------------------------------------

    def row(self, n: int) -> TaskRow | None:
        """Row `n`'s contents if cached; otherwise None, and its block of rows is fetched
        off the GUI thread and repainted when it arrives."""
        if not 0 <= n < len(self.ids):
            return None
        task_id = self.ids[n]
        cached = self._cache.get(task_id)
        if cached is None and task_id not in self._fetching:
            self._fetch_around(n)
        return cached

    def _fetch_around(self, n: int) -> None:
        lo, hi = max(0, n - FETCH_BLOCK // 4), min(len(self.ids), n + FETCH_BLOCK)
        wanted = [i for i in self.ids[lo:hi] if i not in self._cache and i not in self._fetching]
        if not wanted:
            return
        self._fetching.update(wanted)
        generation = self._generation
        db = self.db

        def query() -> dict[int, TaskRow]:
            with db.reading() as s:
                return task_rows(s, wanted)

        def done(rows: dict[int, TaskRow]) -> None:
            self._fetching.difference_update(wanted)
            if generation != self._generation:
                return
            self.fetches += 1
            for task_id in self._stale.intersection(rows):
                del rows[task_id]  # changed while on its way: fetched again when painted
            self._stale.difference_update(wanted)
            self._cache.update(rows)
            for task_id in rows:
                self._texts.pop(task_id, None)
            while len(self._cache) > CACHE_ROWS:
                self._texts.pop(self._cache.popitem(last=False)[0], None)
            shown = [self._row_of[i] for i in wanted if i in self._row_of]
            self._emit_rows(shown)  # repaints the dropped ones too, which fetches them

        in_background(query, done, lambda _exc: self._fetching.difference_update(wanted))

    def task_id(self, n: int) -> int | None:
        return self.ids[n] if 0 <= n < len(self.ids) else None

    def apply(self, events: list[TaskChanged]) -> int:
        """Applies engine events to cached rows and repaints only the rows that changed;
        returns how many shown rows changed."""
        changed: list[int] = []
        for ev in events:
            n = self._row_of.get(ev.task_id)
            if n is None:
                continue
            if ev.task_id in self._fetching:
                self._stale.add(ev.task_id)  # the row on its way may predate this event
            row = self._cache.get(ev.task_id)
            self._texts.pop(ev.task_id, None)
            if row is not None:
                if ev.account_id is not None and ev.account_id != row.account_id:
                    del self._cache[ev.task_id]  # the account's login is fetched anew
                else:
                    row.status = ev.status
                    row.attempts = ev.attempts or row.attempts
                    row.updated_at = ev.at
                    if ev.order_number:
                        row.order_number = ev.order_number
                    row.error = ev.error or ("" if ev.status is TaskStatus.PURCHASED else row.error)
            changed.append(n)
        self._emit_rows(changed)
        return len(changed)

    def _emit_rows(self, rows: list[int]) -> None:
        """dataChanged for these rows only, as few signals as the runs allow."""
        spans = ranges(rows)
        if len(spans) > MAX_RANGES:
            spans = [(spans[0][0], spans[-1][1])]
        last = len(COLUMNS) - 1
        for a, b in spans:
            self.dataChanged.emit(self.index(a, 0), self.index(b, last))

    # -- the id list -------------------------------------------------------------------

    def set_filter(self, flt: TaskFilter) -> None:
        self.task_filter = flt
        self.reload()

    def reload(self, then: Callable[[], None] | None = None) -> None:
        """Queries the ids for the filter and sort off the GUI thread, then swaps them in."""
        self._generation += 1
        generation = self._generation
        flt, (sort, desc) = self.task_filter, self._sort

        def query() -> list[int]:
            with self.db.reading() as s:
                return task_ids(s, flt, sort, desc)

        def done(ids: list[int]) -> None:
            if generation != self._generation:
                return  # a newer filter or sort won
            self.set_ids(ids)
            if then is not None:
                then()

        in_background(query, done)

    def set_ids(self, ids: list[int]) -> None:
        self._generation += 1  # rows being fetched for the old list are dropped
        self.beginResetModel()
        self.ids = ids
        self._row_of = {task_id: n for n, task_id in enumerate(ids)}
        self._cache.clear()
        self._texts.clear()
        self.endResetModel()
        self.reloaded.emit()
