"""The live Tasks table model: rows fetched on demand and kept, rows changed by the engine
shown anew, a newer filter winning over an older one still on its way, and a burst of
engine events repainted in a few strokes."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from helpers import make_supervisor, seed_market, tasks
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout
from sqlalchemy import select, update

from app.core.domain.models import MarketPlaceAccount, Task
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import TaskChanged
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.storage.queries import TaskFilter
from app.ui.common import local_time, status_label, when_done
from app.ui.views import tasks_model
from app.ui.views.tasks_model import COLUMNS, TasksModel
from app.ui.views.tasks_view import TaskDetailDialog, TasksView

COLUMN = {key: n for n, (key, _) in enumerate(COLUMNS)}


def submit(db: Database, *lines: LineSpec) -> int:
    """Places an Order the way the engine does (its Tasks are pending); returns its id."""
    sup = make_supervisor(db, MemoryDriver())
    return asyncio.run(sup.submit(OrderSpec("Client", "mem", list(lines))))


def shown(model: TasksModel, n: int, key: str):
    """The text the table shows in row `n`, column `key` (None while being fetched)."""
    return model.data(model.index(n, COLUMN[key]))


def changed(order_id: int, task, status: str, *, account_id: int | None = None) -> TaskChanged:
    """The engine's event for this Task (a row of helpers.tasks) moving to `status`."""
    return TaskChanged(
        task.id,
        order_id,
        task.job_id,
        status,
        datetime.now(UTC),
        account_id=account_id,
        attempts=1,
    )


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The Task ids of every row query the model makes (it reads rows with task_rows)."""
    calls: list[list[int]] = []
    real = tasks_model.task_rows

    def counted(s, ids):
        calls.append(list(ids))
        return real(s, ids)

    monkeypatch.setattr(tasks_model, "task_rows", counted)
    return calls


def loaded(qtbot, db: Database, flt: TaskFilter | None = None) -> TasksModel:
    """A model showing the Tasks of the filter, its id list in place."""
    model = TasksModel(db)
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        model.set_filter(flt or TaskFilter())
    return model


def test_rows_are_fetched_when_shown_and_then_kept(qtbot, db, fetched) -> None:
    seed_market(db, accounts=3)
    order_id = submit(db, LineSpec("A1", 150, "P1"), LineSpec("A2", 150, "P2"))
    model = loaded(qtbot, db)
    rows = tasks(db, order_id)
    assert model.rowCount() == 300
    assert fetched == []  # the id list alone: no row read yet

    # The first look at row 0 asks for its block once, however often it is painted. (A
    # read that ends before its answer is awaited is handed over at once, so only the
    # first look is sure to find nothing.)
    assert shown(model, 0, "article") is None
    for key, _title in COLUMNS:
        shown(model, 0, key)
    qtbot.waitUntil(lambda: shown(model, 0, "article") == "A1", timeout=5000)
    assert len(fetched) == 1
    first = set(fetched[0])
    assert rows[0].id in first and rows[250].id not in first  # not the whole table

    assert [shown(model, 0, k) for k in ("id", "order", "article", "pickup_point")] == [
        str(rows[0].id),
        str(order_id),
        "A1",
        "P1",
    ]
    assert shown(model, 0, "status") == status_label("pending")
    assert shown(model, 0, "attempts") == "0"
    # Painted again and again, the rows of that block come from the cache.
    for _ in range(3):
        for n in (0, 1, 100):
            for key, _title in COLUMNS:
                model.data(model.index(n, COLUMN[key]))
    assert len(fetched) == 1
    assert shown(model, 100, "id") == str(rows[100].id)

    # A row further down is read when it comes into view, without the cached ones.
    assert shown(model, 250, "article") is None
    qtbot.waitUntil(lambda: shown(model, 250, "article") == "A2", timeout=5000)
    assert len(fetched) == 2
    assert rows[250].id in fetched[1] and not first & set(fetched[1])
    assert shown(model, 250, "pickup_point") == "P2"
    assert shown(model, 0, "article") == "A1" and len(fetched) == 2


def test_a_row_whose_account_changed_is_read_again(qtbot, db, fetched) -> None:
    seed_market(db, accounts=3)
    order_id = submit(db, LineSpec("A1", 3, "P1"))
    first, second, _third = tasks(db, order_id)
    model = loaded(qtbot, db)
    qtbot.waitUntil(lambda: shown(model, 1, "status") == status_label("pending"), timeout=5000)
    assert len(fetched) == 1 and shown(model, 1, "account") == ""

    # The engine leases an account to the second Task and says so.
    with db.session() as s:
        account_id, login = s.execute(
            select(MarketPlaceAccount.id, MarketPlaceAccount.login).order_by(MarketPlaceAccount.id)
        ).first()
        s.execute(
            update(Task)
            .where(Task.id == second.id)
            .values(status="running", account_id=account_id, attempts=1)
        )
        s.commit()
    assert model.apply([changed(order_id, second, "running", account_id=account_id)]) == 1

    # Its row is read again (only it) and shows the account's login and the new status.
    qtbot.waitUntil(lambda: shown(model, 1, "account") == login, timeout=5000)
    assert fetched[1:] == [[second.id]]
    assert shown(model, 1, "status") == status_label("running")
    assert shown(model, 0, "status") == status_label("pending")  # the others untouched
    assert shown(model, 0, "id") == str(first.id)


def test_a_row_read_before_its_task_changed_is_read_again(qtbot, db, fetched, monkeypatch) -> None:
    """The engine's event overtakes a read of the row already under way: the older answer
    must not stay on screen."""
    seed_market(db, accounts=3)
    order_id = submit(db, LineSpec("A1", 3, "P1"))
    first, second, third = tasks(db, order_id)
    model = loaded(qtbot, db)

    read = threading.Event()  # the first read of rows is done (its session closed) ...
    answer = threading.Event()  # ... and its answer may go on to the table
    real_background = tasks_model.in_background

    def answer_late(fn, on_done, on_error=None):
        if read.is_set():  # only the first read is held
            return real_background(fn, on_done, on_error)

        def run():
            rows = fn()
            read.set()
            assert answer.wait(10)
            return rows

        return real_background(run, on_done, on_error)

    monkeypatch.setattr(tasks_model, "in_background", answer_late)
    assert shown(model, 0, "status") is None
    qtbot.waitUntil(read.is_set, timeout=5000)
    assert fetched[0] == [first.id, second.id, third.id]

    with db.session() as s:  # the first Task is bought meanwhile
        s.execute(update(Task).where(Task.id == first.id).values(status="purchased", attempts=1))
        s.commit()
    model.apply([changed(order_id, first, "purchased")])
    answer.set()

    # The old answer shows the rows it holds and drops the one that changed, which is
    # read again and shows what the database says now.
    qtbot.waitUntil(lambda: shown(model, 1, "status") == status_label("pending"), timeout=5000)
    qtbot.waitUntil(lambda: shown(model, 0, "status") == status_label("purchased"), timeout=5000)
    assert fetched[1:] == [[first.id]]
    assert shown(model, 0, "attempts") == "1"


def test_the_last_filter_asked_for_wins_over_an_older_answer(qtbot, db, monkeypatch) -> None:
    seed_market(db, accounts=3)
    kettles = submit(db, LineSpec("A1", 3, "P1"))
    mugs = submit(db, LineSpec("A2", 2, "P2"))
    mug_ids = [t.id for t in tasks(db, mugs)]

    answer = threading.Event()  # the ids for the first filter may go on to the table
    futures = []  # the model's background reads, in the order asked
    real_background = tasks_model.in_background

    def first_answers_late(fn, on_done, on_error=None):
        def late():
            ids = fn()
            assert answer.wait(10)
            return ids

        futures.append(real_background(late if not futures else fn, on_done, on_error))
        return futures[-1]

    monkeypatch.setattr(tasks_model, "in_background", first_answers_late)
    model = TasksModel(db)
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(model.rowCount()))

    # The operator picks one Order, then at once another.
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        model.set_filter(TaskFilter(order_id=kettles))
        model.set_filter(TaskFilter(order_id=mugs))
    assert model.ids == mug_ids

    # Now the answer for the first filter arrives, late. Once it has been handed to the
    # model (a delivery asked for after the model's own has come), the mugs are still shown.
    handed: list[bool] = []
    when_done(futures[0], lambda _ids: handed.append(True))
    answer.set()
    qtbot.waitUntil(lambda: handed == [True], timeout=5000)
    assert model.ids == mug_ids and resets == [2]
    assert model.rowCount() == 2
    qtbot.waitUntil(lambda: shown(model, 1, "article") == "A2", timeout=5000)
    assert [shown(model, n, "order") for n in range(2)] == [str(mugs)] * 2
    assert model.task_filter == TaskFilter(order_id=mugs)


def test_a_burst_of_events_repaints_in_a_few_strokes(qtbot, db, fetched) -> None:
    seed_market(db, accounts=3)
    order_id = submit(db, LineSpec("A1", 80, "P1"))
    rows = tasks(db, order_id)
    model = loaded(qtbot, db)
    qtbot.waitUntil(lambda: all(shown(model, n, "id") for n in range(80)), timeout=5000)
    reads = len(fetched)
    painted: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, _roles=(): painted.append((a.row(), b.row(), a.column(), b.column()))
    )
    last = len(COLUMNS) - 1

    # One drain of the engine's events (what the window's pump hands over 10 times a
    # second): every unit of rows 0-9 and 20-24 goes through four states.
    burst = [
        changed(order_id, rows[n], status)
        for status in ("assigned", "running", "submitting", "purchased")
        for n in (*range(10), *range(20, 25))
    ]
    model.apply(burst)
    assert painted == [(0, 9, 0, last), (20, 24, 0, last)]
    assert [shown(model, n, "status") for n in (0, 9, 20, 24)] == [status_label("purchased")] * 4
    assert shown(model, 10, "status") == status_label("pending")
    assert len(fetched) == reads  # the events carry the news: nothing read again

    # Scattered over many separate rows (every other one of 80), one stroke covers them.
    painted.clear()
    scattered = [changed(order_id, rows[n], "running") for n in range(0, 80, 2) for _ in range(3)]
    model.apply(scattered)
    assert painted == [(0, 78, 0, last)]
    assert shown(model, 78, "status") == status_label("running")
    assert shown(model, 79, "status") == status_label("pending")
    assert len(fetched) == reads


def test_events_repaint_only_the_rows_on_screen(qtbot, db, fetched) -> None:
    """A range of rows reaching off screen repaints the whole table: the view says which
    rows it shows, and only those are repainted, each run of them in one signal."""
    seed_market(db, accounts=3)
    order_id = submit(db, LineSpec("A1", 80, "P1"))
    rows = tasks(db, order_id)
    model = loaded(qtbot, db)
    qtbot.waitUntil(lambda: all(shown(model, n, "id") for n in range(80)), timeout=5000)
    model.on_screen = lambda: range(20, 40)
    painted: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): painted.append((a.row(), b.row())))

    model.apply([changed(order_id, rows[n], "running") for n in (2, 21, 22, 23, 30, 60)])
    assert painted == [(21, 23), (30, 30)]
    assert [shown(model, n, "status") for n in (2, 60)] == [status_label("running")] * 2

    model.on_screen = lambda: range(0)  # the table is hidden: shown afresh when it shows
    painted.clear()
    model.apply([changed(order_id, rows[21], "purchased")])
    assert painted == []
    assert shown(model, 21, "status") == status_label("purchased")


def test_a_unit_waiting_to_retry_says_when_in_the_table_and_its_detail(
    qtbot, db, fetched, tmp_path
) -> None:
    seed_market(db, accounts=3)
    order_id = submit(db, LineSpec("A1", 3, "P1"))
    first, second, _third = tasks(db, order_id)
    today = datetime.now().astimezone().replace(hour=14, minute=5, second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)
    error = "temporary error 1 of 3, tried again later: the marketplace did not answer in 30 s"
    with db.session() as s:
        s.execute(
            update(Task)
            .where(Task.id == first.id)
            .values(status="retry_wait", attempts=1, next_attempt_at=today, last_error=error)
        )
        s.commit()
    view = TasksView(db)
    qtbot.addWidget(view)
    model = view.model
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        view.apply_filter()
    view.resize(1300, 160)
    view.show()
    qtbot.waitUntil(lambda: shown(model, 0, "status") is not None, timeout=5000)

    # Today's next try as a time of day; every cell's whole text in its tooltip.
    assert shown(model, 0, "status") == f"retry at {local_time(today)}"
    assert "14:05" in shown(model, 0, "status") or "2:05" in shown(model, 0, "status")
    assert shown(model, 1, "status") == status_label("pending")

    def tooltip(n: int, key: str) -> str | None:
        return model.data(model.index(n, COLUMN[key]), Qt.ItemDataRole.ToolTipRole)

    assert tooltip(0, "status") == shown(model, 0, "status")
    assert tooltip(0, "error") == error
    assert tooltip(0, "article") == "A1 — Kettle"
    assert tooltip(0, "pickup_point") == "P1"
    qtbot.waitExposed(view)
    view.grab().save(str(tmp_path / "tasks_retry_wait.png"))

    # The engine puts another unit to wait until tomorrow: its row is read again for the
    # time (the event does not carry it), which then shows with its date.
    with db.session() as s:
        s.execute(
            update(Task)
            .where(Task.id == second.id)
            .values(status="retry_wait", attempts=1, next_attempt_at=tomorrow)
        )
        s.commit()
    reads = len(fetched)
    model.apply([changed(order_id, second, "retry_wait")])
    qtbot.waitUntil(
        lambda: shown(model, 1, "status") == f"retry at {local_time(tomorrow, True)}",
        timeout=5000,
    )
    assert fetched[reads:] == [[second.id]]

    # The Task's detail says when, with the date.
    dialog = TaskDetailDialog(db, first.id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.summary.rowCount() > 1, timeout=5000)
    rows = {
        dialog.summary.itemAt(n, QFormLayout.ItemRole.LabelRole).widget().text(): (
            dialog.summary.itemAt(n, QFormLayout.ItemRole.FieldRole).widget().text()
        )
        for n in range(dialog.summary.rowCount())
    }
    assert rows["Next try:"] == local_time(today, True)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.grab().save(str(tmp_path / "task_detail_retry_wait.png"))
