"""The Workers dialog: every engine on this database (the consoles' own, headless `main.py
worker`s, `main.py run`s) with its host, kind, state and last heartbeat, this console's
marked. Non-modal; while it is open it reads the list again every few seconds on a worker
thread, and an unreachable database is said in the dialog over the last list read."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import OperationalError

from app.core.storage.db import Database
from app.core.storage.errors import known
from app.core.storage.workers import (
    HEARTBEAT_S,
    STALE_S,
    WorkerKind,
    WorkerRow,
    WorkerState,
    database_now,
    list_workers,
)
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import (
    Index,
    RowsModel,
    error_text,
    fill,
    in_background,
    local_time,
    number,
    status_color,
)

log = logging.getLogger(__name__)

REFRESH_MS = 3000  # the list is read again this often while the dialog is open

COLUMNS = (
    QT_TRANSLATE_NOOP("Column", "Host"),
    QT_TRANSLATE_NOOP("Column", "Process"),
    QT_TRANSLATE_NOOP("Column", "Kind"),
    QT_TRANSLATE_NOOP("Column", "State"),
    QT_TRANSLATE_NOOP("Column", "Last heartbeat"),
    QT_TRANSLATE_NOOP("Column", "Started"),
    QT_TRANSLATE_NOOP("Column", "Ended"),
    QT_TRANSLATE_NOOP("Column", "Version"),
)
KIND_LABELS = {
    WorkerKind.CONSOLE: QT_TRANSLATE_NOOP("Workers", "console"),
    WorkerKind.WORKER: QT_TRANSLATE_NOOP("Workers", "worker (no window)"),
    WorkerKind.RUN: QT_TRANSLATE_NOOP("Workers", "run command"),
}
STATE_LABELS = {
    WorkerState.ALIVE: QT_TRANSLATE_NOOP("Workers", "alive"),
    WorkerState.SILENT: QT_TRANSLATE_NOOP("Workers", "silent"),
    WorkerState.STOPPED: QT_TRANSLATE_NOOP("Workers", "stopped"),
    WorkerState.RESCUED: QT_TRANSLATE_NOOP("Workers", "rescued"),
}
# The states in the colours the other views give their likes.
STATE_COLORS = {
    WorkerState.ALIVE: "active",
    WorkerState.SILENT: "retry_wait",
    WorkerState.STOPPED: "disabled",
    WorkerState.RESCUED: "failed",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("Workers", text)


def kind_label(kind: WorkerKind) -> str:
    return _tr(KIND_LABELS[kind])


def state_label(state: WorkerState) -> str:
    return _tr(STATE_LABELS[state])


def ago(seconds: float) -> str:
    """How long ago, in the largest unit that fits: "3 s ago", "5 min ago", "2 h ago",
    "4 d ago". A time slightly ahead (two clocks) reads as now."""
    s = max(0, int(seconds))
    for size, template in (
        (86400, QT_TRANSLATE_NOOP("Workers", "%1 d ago")),
        (3600, QT_TRANSLATE_NOOP("Workers", "%1 h ago")),
        (60, QT_TRANSLATE_NOOP("Workers", "%1 min ago")),
    ):
        if s >= size:
            return fill(_tr(template), number(s // size))
    return fill(_tr(QT_TRANSLATE_NOOP("Workers", "%1 s ago")), number(s))


def state_tip(row: WorkerRow) -> str:
    """What the state means for the operator."""
    if row.state is WorkerState.ALIVE:
        return fill(
            QCoreApplication.translate("Workers", "Writes its heartbeat every %1 s"),
            number(int(HEARTBEAT_S)),
        )
    if row.state is WorkerState.SILENT:
        return fill(
            QCoreApplication.translate(
                "Workers",
                "No heartbeat for a while: busy, cut off or gone. After %1 s of silence "
                "another worker takes it for dead and hands its work on.",
            ),
            number(int(STALE_S)),
        )
    if row.state is WorkerState.STOPPED:
        return QCoreApplication.translate(
            "Workers", "Stopped cleanly: its purchases under way were finished and recorded"
        )
    return fill(
        QCoreApplication.translate("Workers", "Taken for dead; %1 handed its work on"),
        row.rescued_by or QCoreApplication.translate("Workers", "another worker"),
    )


class WorkersModel(RowsModel):
    """The workers (WorkerRow), the newest first, as read at `now` (the database's clock).

    Attributes:
        me: the worker id of this console's own engine (None: none runs here).
        now: when the rows were read.
    """

    columns = COLUMNS

    def __init__(self, me: str | None, parent: Any = None):
        super().__init__(parent)
        self.me = me
        self.now: datetime | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    def show(self, rows: list[WorkerRow], now: datetime) -> None:
        self.now = now
        self.set_rows(rows)

    def text(self, r: WorkerRow, col: str) -> str:
        if col == "Host":
            return r.host
        if col == "Process":
            return str(r.pid)
        if col == "Kind":
            return (
                QCoreApplication.translate("Workers", "this console")
                if r.id == self.me
                else kind_label(r.kind)
            )
        if col == "State":
            return state_label(r.state)
        if col == "Last heartbeat":
            return ago((self.now - r.heartbeat_at).total_seconds()) if self.now else ""
        if col == "Started":
            return local_time(r.started_at, with_date=True)
        if col == "Ended":
            return local_time(r.ended_at, with_date=True)
        return r.version

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: WorkerRow = self.rows[index.row()]
        col = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == "State":
                return state_tip(r)
            if col == "Last heartbeat":
                return local_time(r.heartbeat_at, with_date=True)
            return fill(QCoreApplication.translate("Workers", "Worker %1"), r.id)
        if role == Qt.ItemDataRole.ForegroundRole and col == "State":
            return status_color(STATE_COLORS[r.state])
        if role == Qt.ItemDataRole.FontRole and r.id == self.me:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and col == "Process":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def failure_text(exc: BaseException) -> str:
    """Why the list could not be read, in one line: the environment's trouble as the
    storage names it; a database's own operational error (a server that refuses the
    connection) in its own words; else a defect, logged."""
    refusal = known(exc)
    if refusal is not None:
        return str(refusal)
    if isinstance(exc, OperationalError):
        log.warning("cannot read the workers", exc_info=exc)
        lines = (line.strip().rstrip(".") for line in str(exc.orig).splitlines())
        return ". ".join(line for line in lines if line)
    return error_text(exc)


def read_workers(db: Database) -> tuple[list[WorkerRow], datetime]:
    """The workers and the database's time they were read at (a worker thread's work)."""
    with db.reading() as s:
        now = database_now(s.connection())
        return list_workers(s, now), now


class WorkersDialog(QDialog):
    """Every worker on the database, read again every REFRESH_MS while shown.

    Attributes:
        model, table: the workers.
        message: when the list was read, or why it could not be (in red).
        timer: what reads the list again.
    """

    def __init__(self, db: Database, me: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self._reading = False
        self.setWindowTitle(self.tr("Workers"))
        self.resize(1100, 360)

        self.model = WorkersModel(me, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        # A few rows: every column but the host fits its longest text (a date and time
        # with AM/PM in bold, Russian states), the host takes the rest.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Host"), QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        self.table.setStyleSheet("QTableView::item { padding: 0 6px; }")
        self.about = QLabel(
            self.tr(
                "Every console and headless worker on this database. A worker writes its "
                "heartbeat every few seconds; one silent too long is taken for dead and its "
                "work is handed on to the others."
            )
        )
        self.about.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        # Focus on Close, not on a cell: Enter or Esc closes, and no cell looks edited.
        self.close_button = close.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addWidget(close)

        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.reload)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.close_button.setFocus()
        self.reload()
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()  # closed: nothing to keep fresh
        super().hideEvent(event)

    def reload(self) -> None:
        """Reads the list on a worker thread, unless a read is still under way (a slow
        or unreachable database): the GUI never waits for it."""
        if self._reading:
            return
        self._reading = True
        db = self.db
        in_background(lambda: read_workers(db), self._show, self._failed)

    def _show(self, result: tuple[list[WorkerRow], datetime]) -> None:
        self._reading = False
        rows, now = result
        self.model.show(rows, now)
        self.message.setStyleSheet("color: #6b7280")
        self.message.setText(fill(self.tr("Read at %1"), local_time(now)))

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        why = failure_text(exc)
        self.message.setStyleSheet(f"color: {status_color('failed').name()}")
        shown = local_time(self.model.now) if self.model.now else None
        text = (
            fill(self.tr("Cannot read the workers (the list is as read at %1): %2"), shown, why)
            if shown
            else fill(self.tr("Cannot read the workers: %1"), why)
        )
        self.message.setText(text)
