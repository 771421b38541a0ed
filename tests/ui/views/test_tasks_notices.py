"""The Tasks model and the changes other workers make (named by PostgreSQL's notices, here
told to the model directly): the rows named are read again and repainted only if they
differ, at once on screen and when scrolled to elsewhere, and a Task created elsewhere
joins the list."""

from __future__ import annotations

import asyncio

import pytest
from helpers import make_supervisor, seed_market, tasks
from sqlalchemy import update

from app.core.domain.models import Task
from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.storage.queries import TaskFilter
from app.ui.common import status_label
from app.ui.views import tasks_model
from app.ui.views.tasks_model import COLUMNS, TasksModel

STATUS = next(n for n, (key, _) in enumerate(COLUMNS) if key == "status")


def submit(db: Database, units: int) -> int:
    sup = make_supervisor(db, MemoryDriver())
    return asyncio.run(sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", units, "P1")])))


def status(model: TasksModel, n: int) -> str | None:
    return model.data(model.index(n, STATUS))


def set_status(db: Database, task_ids: list[int], to: str) -> None:
    """Another worker's write: the database changes, the model is not told how."""
    with db.session() as s:
        s.execute(update(Task).where(Task.id.in_(task_ids)).values(status=to))
        s.commit()


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    calls: list[list[int]] = []
    real = tasks_model.task_rows

    def counted(s, ids):
        calls.append(sorted(ids))
        return real(s, ids)

    monkeypatch.setattr(tasks_model, "task_rows", counted)
    return calls


@pytest.fixture
def model(qtbot, db: Database) -> TasksModel:
    """40 pending Tasks, every row read, rows 0-19 on screen."""
    seed_market(db, accounts=3)
    submit(db, 40)
    model = TasksModel(db)
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        model.set_filter(TaskFilter())
    qtbot.waitUntil(lambda: all(status(model, n) for n in range(40)), timeout=5000)
    model.on_screen = lambda: range(20)
    return model


def test_rows_changed_elsewhere_are_read_again_and_only_changed_ones_repainted(
    qtbot, db, model, fetched
) -> None:
    ids = model.ids
    painted: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): painted.append((a.row(), b.row())))
    set_status(db, [ids[3], ids[4]], "running")

    # The notice names rows 3 and 4 (changed) and 5 (a change that changed nothing shown:
    # the local engine's own, already applied from its event).
    model.refresh_rows([ids[3], ids[4], ids[5]])
    qtbot.waitUntil(lambda: status(model, 3) == status_label("running"), timeout=5000)
    assert fetched == [sorted([ids[3], ids[4], ids[5]])]  # those rows, in one read
    assert status(model, 4) == status_label("running")
    assert status(model, 5) == status_label("pending")
    assert painted == [(3, 4)]  # row 5 read the same: not repainted


def test_rows_off_screen_are_read_again_when_scrolled_to(qtbot, db, model, fetched) -> None:
    ids = model.ids
    set_status(db, [ids[30], ids[0]], "cancelled")
    model.refresh_rows([ids[30]])
    model.refresh_rows([ids[0]])  # on screen: read at once, alone
    qtbot.waitUntil(lambda: status(model, 0) == status_label("cancelled"), timeout=5000)
    assert fetched == [[ids[0]]]
    assert status(model, 30) == status_label("pending")  # shown until read again...

    model.on_screen = lambda: range(20, 40)
    qtbot.waitUntil(lambda: status(model, 30) == status_label("cancelled"), timeout=5000)
    assert len(fetched) == 2 and ids[30] in fetched[1]  # ...which painting it does


def test_a_row_changed_again_while_read_is_read_once_more(qtbot, db, model, fetched) -> None:
    ids = model.ids
    set_status(db, [ids[1]], "running")
    model.refresh_rows([ids[1]])  # its read is on its way when the next change comes
    set_status(db, [ids[1]], "failed")
    model.refresh_rows([ids[1]])
    qtbot.waitUntil(lambda: status(model, 1) == status_label("failed"), timeout=5000)


def test_tasks_created_elsewhere_join_the_list(qtbot, db, model, fetched) -> None:
    order_id = submit(db, 2)  # another console's new Order
    new = [t.id for t in tasks(db, order_id)]
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        model.refresh_rows(new)
    assert model.ids[-2:] == new and model.rowCount() == 42

    # Tasks the list leaves out (another Order's, filtered away) ask for nothing.
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        model.set_filter(TaskFilter(order_id=order_id))
    reloaded: list[bool] = []
    model.reloaded.connect(lambda: reloaded.append(True))
    model.refresh_rows([tasks(db)[0].id])
    qtbot.wait(tasks_model.RESORT_MS + 200)  # when the list would have been asked again
    assert reloaded == [] and model.ids == new
