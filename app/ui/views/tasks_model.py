"""The live Tasks table model: holds only Task ids, fetches row contents on demand into a
bounded cache, and applies the engine's events to the rows that changed.

After Anki's browser table: 100,000 Tasks cost what the visible rows cost. Unlike Anki,
rows are fetched on a worker thread and painted when they arrive, so the GUI thread never
waits for the database.

Changes come two ways: the local engine's events carry the new values (`apply`), and
another worker's or console's changes on a shared database are named by PostgreSQL's
notices (`refresh_rows`): those rows are read again, and repainted only if they differ
(the local engine's own changes come back as notices too, and then read the same).

Each row's texts and colours are made once per change of the row (`look`): the Tasks
table (tasks_table.TasksTable) paints its plain cells from them in one call from Qt,
and `data()` answers from them for the rest (selected cells, cut texts, tooltips,
copying, accessibility). Any other Python thread running meanwhile takes the interpreter
between calls from Qt and stretches a repaint. Hence rows are read after the repaint that
wanted them, not during it, and an event repaints only the rows it changed on screen
(`on_screen`, set by the view): a range of rows reaching off screen would repaint the
whole table, and a signal per row would hand the interpreter over as often.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from app.core.domain.states import TaskStatus
from app.core.engine.events import TaskChanged
from app.core.storage.db import Database
from app.core.storage.queries import TaskFilter, TaskRow, task_ids, task_rows
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import (
    Swap,
    column_title,
    fill,
    in_background,
    local_time,
    move_rows,
    plan_swap,
    ranges,
    status_background,
    status_color,
    status_label,
)
from app.ui.engine_texts import engine_text

log = logging.getLogger(__name__)

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
_COLUMN_COUNT = len(COLUMNS)

_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
# The columns whose text is right-aligned (numbers).
NUMERIC = frozenset(
    n for n, (key, _) in enumerate(COLUMNS) if key in ("id", "order", "job", "attempts")
)

# Rows fetched around a missing one: a screenful and a bit, in one query.
FETCH_BLOCK = 120
CACHE_ROWS = 5000
# Past this many separate runs of changed rows, one covering range is cheaper to emit.
MAX_RANGES = 32
# A row the engine changed may belong elsewhere in the sort order: the order is asked for
# again at most this often while the changes go on.
RESORT_MS = 500
# The sort value each engine event may change, by sort key (TaskChanged and apply()).
_LIVE_SORT: dict[str, Callable[[TaskRow], object]] = {
    "account": lambda r: r.account_id,
    "status": lambda r: r.status,
    "attempts": lambda r: r.attempts,
    "updated": lambda r: r.updated_at,
    "order_number": lambda r: r.order_number,
    "error": lambda r: r.error,
}


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
            if row.status == TaskStatus.RETRY_WAIT and row.next_attempt_at is not None:
                return fill(
                    QCoreApplication.translate("TasksModel", "retry at %1"),
                    retry_time(row.next_attempt_at),
                )
            return status_label(row.status)
        case "attempts":
            return str(row.attempts)
        case "updated":
            return local_time(row.updated_at)
        case "order_number":
            return row.order_number
        case "error":
            return engine_text(row.error)
    return ""


def retry_time(at: datetime) -> str:
    """When a unit is tried again, in local time: the time alone on the day it is."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    today = aware.astimezone().date() == datetime.now().astimezone().date()
    return local_time(at, not today)


def _tooltip(row: TaskRow, key: str, shown: str) -> str | None:
    """A cell's whole text, however narrow its column; the article with its title."""
    if key == "article" and row.article_title:
        return f"{row.article} — {row.article_title}"
    return shown or None


@dataclass(frozen=True, slots=True)
class Look:
    """How one row is shown: its cells' texts, its colours, the article's full name."""

    row: TaskRow
    texts: tuple[str, ...]
    background: QColor | None
    status_color: QColor

    @classmethod
    def of(cls, row: TaskRow) -> Look:
        return cls(
            row,
            tuple(_display(row, key) for key, _ in COLUMNS),
            status_background(row.status),
            status_color(row.status),
        )


# What data() answers for each role it serves, from a row's Look and a column; other
# roles (font, decoration, check state, size) are Qt's defaults.
_ANSWERS: dict[int, Callable[[Look, int], Any]] = {
    _DISPLAY: lambda look, column: look.texts[column],
    _TOOLTIP: lambda look, column: _tooltip(look.row, COLUMNS[column][0], look.texts[column]),
    _BACKGROUND: lambda look, _column: look.background,
    _FOREGROUND: lambda look, column: look.status_color if column == STATUS_COLUMN else None,
    _ALIGN: lambda _look, column: _RIGHT if column in NUMERIC else None,
}


class TasksModel(QAbstractTableModel):
    """Tasks matching a filter, in a sort order.

    A new sort or a refresh keeps the rows on screen until the new order is there, then
    moves them (a layout change: selection and scroll position stay); only another filter
    starts the list afresh. A row the engine changed in the sorted column has its place
    asked for again (RESORT_MS).

    Attributes:
        ids: the Task ids shown, in display order.
        task_filter: the current filter.
        on_screen: the rows the view shows now, if it says (only those are repainted).
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
        self._looks: dict[int, Look] = {}  # how cached rows are shown, made when painted
        self._dated: set[int] = set()  # cached rows shown until read again (a refresh)
        self._painted = 0  # the row last asked for: the table's screenful is around it
        self._touched: set[int] = set()  # Tasks changed while an id list is on its way
        self._newest = 0  # the highest Task id known: a higher one is a new Task
        self._wanted: list[int] = []  # rows a repaint found missing, read once it is done
        self._read_wanted = QTimer(self, singleShot=True, interval=0)
        self._read_wanted.timeout.connect(self._fetch_wanted)
        self.on_screen: Callable[[], range] | None = None
        self.task_filter = TaskFilter()
        self._listed: TaskFilter | None = None  # the filter self.ids answer
        self._sort = ("id", False)
        self._generation = 0  # of the id list: an older answer is dropped
        self._loading = False  # an id list is on its way
        self._unsorted = False  # a shown row's sort value changed since it was asked for
        self._resort = QTimer(self, singleShot=True, interval=RESORT_MS)
        self._resort.timeout.connect(self._query)
        self.fetches = 0  # database round trips for rows, for tests and benchmarks

    # -- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        # The view asks for every cell it paints; the inherited index() calls back into
        # Python twice (rowCount, columnCount) to check what this checks in one.
        if 0 <= row < len(self.ids) and 0 <= column < _COLUMN_COUNT and not parent.isValid():
            return self.createIndex(row, column)
        return QModelIndex()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else _COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return column_title(COLUMNS[section][1])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A delegate asks for seven roles of a cell: a dict lookup and the row's look.
        answer = _ANSWERS.get(role)
        if answer is None:
            return None
        look = self.look(index.row())
        return None if look is None else answer(look, index.column())

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Asks for the ids in the new order; the rows shown stay until they come."""
        self._sort = (COLUMNS[column][0], order == Qt.SortOrder.DescendingOrder)
        self._query()  # the cached rows are as new as before: not read again

    # -- rows --------------------------------------------------------------------------

    def row(self, n: int) -> TaskRow | None:
        """Row `n`'s contents if cached; otherwise None, and its block of rows is fetched
        off the GUI thread and repainted when it arrives. A row cached before a refresh is
        returned, and read again the same way."""
        if not 0 <= n < len(self.ids):
            return None
        task_id = self.ids[n]
        self._painted = n
        cached = self._cache.get(task_id)
        if (cached is None or task_id in self._dated) and task_id not in self._fetching:
            self._fetch_around(n)
        return cached

    def _fetch_around(self, n: int) -> None:
        """Marks row `n`'s block of rows as on its way; they are read once the repaint
        that asked for them is over (a read running beside it would slow it down)."""
        lo, hi = max(0, n - FETCH_BLOCK // 4), min(len(self.ids), n + FETCH_BLOCK)
        wanted = [
            i
            for i in self.ids[lo:hi]
            if (i not in self._cache or i in self._dated) and i not in self._fetching
        ]
        if not wanted:
            return
        self._fetching.update(wanted)
        self._wanted.extend(wanted)
        if not self._read_wanted.isActive():
            self._read_wanted.start()

    def _fetch_wanted(self) -> None:
        wanted, self._wanted = self._wanted, []
        if not wanted:
            return
        db = self.db

        def query() -> dict[int, TaskRow]:
            with db.reading() as s:
                return task_rows(s, wanted)

        def done(rows: dict[int, TaskRow]) -> None:
            # Rows are cached by id, so an answer read for an older list is as good.
            self._fetching.difference_update(wanted)
            self.fetches += 1
            for task_id in self._stale.intersection(rows):
                del rows[task_id]  # changed while on its way: fetched again when painted
            self._stale.difference_update(wanted)
            value = _LIVE_SORT.get(self._sort[0])
            moved = value is not None and any(
                (before := self._cache.get(task_id)) is not None and value(before) != value(row)
                for task_id, row in rows.items()
            )
            changed = self._store(rows)
            dropped = [i for i in wanted if i not in rows]
            # The dropped ones are repainted too, which fetches them.
            self._emit_rows(self._row_of[i] for i in (*changed, *dropped) if i in self._row_of)
            if moved:
                self._ask_order_again()  # a row read again has another place now

        in_background(query, done, lambda _exc: self._fetching.difference_update(wanted))

    def _store(self, rows: dict[int, TaskRow]) -> list[int]:
        """Caches `rows`; returns the ids of those that were not cached as they are (only
        those need repainting)."""
        self._dated.difference_update(rows)
        changed = [task_id for task_id, row in rows.items() if self._cache.get(task_id) != row]
        self._cache.update(rows)
        for task_id in changed:
            self._looks.pop(task_id, None)
        while len(self._cache) > CACHE_ROWS:
            self._looks.pop(self._cache.popitem(last=False)[0], None)
        return changed

    def look(self, n: int) -> Look | None:
        """How row `n` is shown, made once per change of the row; None while it is read
        (as row())."""
        row = self.row(n)
        if row is None:
            return None
        look = self._looks.get(row.id)
        if look is None:
            look = self._looks[row.id] = Look.of(row)
        return look

    def task_id(self, n: int) -> int | None:
        return self.ids[n] if 0 <= n < len(self.ids) else None

    def apply(self, events: list[TaskChanged]) -> int:
        """Applies engine events to cached rows and repaints only the rows that changed;
        returns how many shown rows changed. A row not cached shows nothing that could
        change: it is read when painted. A row whose sort value changed (or may have: it
        was not cached) has the order asked for again soon."""
        changed: list[int] = []
        value = _LIVE_SORT.get(self._sort[0])  # None: no event moves a row in this order
        moved = False
        for ev in events:
            if self._loading:
                self._touched.add(ev.task_id)  # rows read with the ids may predate this
            n = self._row_of.get(ev.task_id)
            if n is None:
                continue
            if ev.task_id in self._fetching:
                self._stale.add(ev.task_id)  # the row on its way may predate this event
            row = self._cache.get(ev.task_id)
            before = value(row) if value is not None and row is not None else None
            self._looks.pop(ev.task_id, None)
            if row is not None:
                if ev.account_id is not None and ev.account_id != row.account_id:
                    del self._cache[ev.task_id]  # the account's login is fetched anew
                elif ev.status == TaskStatus.RETRY_WAIT:
                    del self._cache[ev.task_id]  # the time of its next try is fetched anew
                else:
                    row.status = ev.status
                    row.attempts = ev.attempts or row.attempts
                    row.updated_at = ev.at
                    if ev.order_number:
                        row.order_number = ev.order_number
                    row.error = ev.error or ("" if ev.status is TaskStatus.PURCHASED else row.error)
            if value is not None and not moved:
                now = self._cache.get(ev.task_id)
                moved = row is None or now is None or value(now) != before
            changed.append(n)
        self._emit_rows(changed)
        if moved:
            self._ask_order_again()
        return len(changed)

    def refresh_rows(self, task_ids: Iterable[int]) -> None:
        """These Tasks changed in the database (another worker's or console's changes,
        named by PostgreSQL's notices): the cached ones are read again, at once where on
        screen, else when next painted, and repainted if they differ; a Task newer than
        any listed (created elsewhere) has the list asked for again soon. A row not cached
        shows nothing that could change: it is read when painted."""
        ids = set(task_ids)
        if self._loading:
            self._touched.update(ids)  # rows read with the ids may predate this
        self._stale.update(ids.intersection(self._fetching))  # as may rows on their way
        cached = ids.intersection(self._cache)
        self._dated.update(cached)
        shown = self.on_screen() if self.on_screen is not None else None
        now = [
            i
            for i in cached
            if i not in self._fetching
            and (n := self._row_of.get(i)) is not None
            and (shown is None or n in shown)
        ]
        if now:
            self._fetching.update(now)
            self._wanted.extend(now)
            if not self._read_wanted.isActive():
                self._read_wanted.start()
        newest = max(ids, default=0)
        if newest > self._newest:
            if any(i > self._newest and i not in self._row_of for i in ids):
                self._ask_order_again()
            self._newest = newest

    def _ask_order_again(self) -> None:
        """The id list is asked for again soon (RESORT_MS), once for many changes."""
        self._unsorted = True
        if not self._loading and not self._resort.isActive():
            self._resort.start()  # not restarted by later changes: they wait no longer

    def _emit_rows(self, rows: Iterable[int]) -> None:
        """dataChanged for those of these rows on screen, as few signals as their runs
        allow; the others are painted afresh when scrolled to."""
        shown = self.on_screen() if self.on_screen is not None else None
        spans = ranges(rows if shown is None else (n for n in rows if n in shown))
        if len(spans) > MAX_RANGES:
            spans = [(spans[0][0], spans[-1][1])]
        last = _COLUMN_COUNT - 1
        for a, b in spans:
            self.dataChanged.emit(self.createIndex(a, 0), self.createIndex(b, last))

    # -- the id list -------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        """An id list (a filter's, a sort's, a refresh's) is on its way."""
        return self._loading

    def set_filter(self, flt: TaskFilter) -> None:
        self.task_filter = flt
        self.reload()

    def reload(self, then: Callable[[], None] | None = None) -> None:
        """Queries the ids for the filter and sort off the GUI thread, then swaps them in;
        the rows cached so far stay on screen and are read again when next painted."""
        self._dated = set(self._cache)
        self._stale.update(self._fetching)  # rows on their way may predate this refresh
        self._query(then)

    def _query(self, then: Callable[[], None] | None = None) -> None:
        self._generation += 1
        generation = self._generation
        self._loading = True
        self._unsorted = False  # the answer holds every change committed so far
        self._touched = set()
        self._resort.stop()
        flt, (sort, desc) = self.task_filter, self._sort
        old, old_row_of, db = self.ids, self._row_of, self.db
        # Rows that stay on screen (the same filter) come with their new order, read
        # around the rows painted last: the swap leaves nothing blank to fetch.
        reset, near = flt != self._listed, self._painted

        def query() -> tuple[Swap, dict[int, TaskRow], int]:
            with db.reading() as s:
                ids = task_ids(s, flt, sort, desc)
                shown = [] if reset else ids[max(0, near - FETCH_BLOCK) : near + FETCH_BLOCK]
                rows = task_rows(s, shown) if shown else {}
            return plan_swap(old, old_row_of, ids), rows, max(ids, default=0)

        def done(answer: tuple[Swap, dict[int, TaskRow], int]) -> None:
            if generation != self._generation or not shiboken6.isValid(self):
                return  # a newer filter, sort or refresh won, or the table is gone
            swap, rows, newest = answer
            self._loading = False
            self._newest = max(self._newest, newest)
            for task_id in self._touched.intersection(rows):
                del rows[task_id]  # changed while on its way: fetched again when painted
            changed = self._store(rows)
            self._swap(swap, reset=reset)
            self._listed = flt
            self._emit_rows([self._row_of[i] for i in changed if i in self._row_of])  # read anew
            if self._unsorted:
                self._resort.start()  # rows moved while this answer was on its way
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._loading = False
            log.error("reading the Tasks' ids failed", exc_info=exc)

        in_background(query, done, failed)

    def set_ids(self, ids: list[int]) -> None:
        """Shows `ids` in this order; the rows still listed stay cached, selected and
        on screen."""
        self._generation += 1  # an id list still on its way is older
        self._loading = False
        self._swap(plan_swap(self.ids, self._row_of, ids), reset=False)

    def _swap(self, swap: Swap, *, reset: bool) -> None:
        if reset or len(swap.gone) > MAX_RANGES:
            # Another filter's list starts at its top; its cached rows show at once.
            self.beginResetModel()
            self.ids, self._row_of = swap.ids, swap.row_of
            self.endResetModel()
        else:
            self._move_rows(swap)
        self.reloaded.emit()

    def _move_rows(self, swap: Swap) -> None:
        """Removes, appends and moves rows as the views expect, so that the selection and
        the current row follow their Tasks and the scroll position stays."""

        def store(ids: list[int]) -> None:
            self.ids = ids

        move_rows(self, self.ids, swap, swap.ids, lambda task_id: task_id, store)
        self.ids, self._row_of = swap.ids, swap.row_of
