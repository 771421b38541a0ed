"""A browser profile folder is a path on one computer: the host it was imported on is
kept with it, and a workstation sharing the database neither shows it as its own nor
opens it: it says which host the folder is on and opens its own folder for the account."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from helpers import Market, make_supervisor
from sqlalchemy import select, update

from app.core.accounts.imports import apply_import, plan_import
from app.core.domain.models import MarketPlaceAccount as A
from app.core.domain.models import Task
from app.core.drivers.assisted import profile_folder
from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.storage.queries import account_rows, task_detail
from app.core.storage.workers import this_host
from app.core.support.paths import data_dir

OTHER = "workstation-far-away"


def make_profile(folder: Path) -> Path:
    (folder / "Default").mkdir(parents=True)
    (folder / "Local State").write_text("{}")
    (folder / "Default" / "Preferences").write_text("{}")
    return folder


def import_folder(db: Database, folder: Path) -> list[tuple[str, tuple[str, ...]]]:
    with db.session() as s:
        plan = plan_import(s, folder, default_marketplace="mem")
        apply_import(s, plan)
        s.commit()
    return [(str(r.outcome), r.changes) for r in plan.rows]


def profile_of(db: Database, login: str) -> tuple[str | None, str | None]:
    with db.reading() as s:
        row = s.execute(select(A.profile_dir, A.profile_host).where(A.login == login)).one()
    return row.profile_dir, row.profile_host


def test_an_imported_profile_folder_keeps_the_host_it_is_on(
    db: Database, market: Market, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_profile(tmp_path / "buyer7")
    assert import_folder(db, folder) == [("add", ())]
    assert profile_of(db, "buyer7") == (str(folder.resolve()), this_host())
    assert import_folder(db, folder) == [("skip", ())]  # the same folder of the same host

    # The same path imported on another workstation is that workstation's folder.
    monkeypatch.setattr("app.core.accounts.imports.this_host", lambda: OTHER)
    assert import_folder(db, folder) == [("update", ("profile",))]
    assert profile_of(db, "buyer7") == (str(folder.resolve()), OTHER)


def set_profile(db: Database, login: str, folder: str, host: str | None) -> None:
    with db.session() as s:
        s.execute(update(A).where(A.login == login).values(profile_dir=folder, profile_host=host))
        s.commit()


def test_the_accounts_list_says_which_host_a_profile_folder_is_on(
    db: Database, market: Market
) -> None:
    set_profile(db, "mem-acc000", "/home/op/wb-0", OTHER)
    set_profile(db, "mem-acc001", "/home/op/wb-1", this_host())
    set_profile(db, "mem-acc002", "/home/op/wb-2", None)  # imported before hosts were kept
    with db.reading() as s:
        rows = {r.login: (r.profile_dir, r.profile_host) for r in account_rows(s)}
    assert rows["mem-acc000"] == (f"/home/op/wb-0 (on host {OTHER})", OTHER)
    assert rows["mem-acc001"] == ("/home/op/wb-1", this_host())
    assert rows["mem-acc002"] == ("/home/op/wb-2", "")
    assert rows["mem-acc003"] == ("", "")


def test_the_browser_never_opens_another_hosts_folder_as_its_own(caplog) -> None:
    own = data_dir() / "profiles" / "wb-7"
    with caplog.at_level(logging.WARNING):
        assert profile_folder("wb", 7, "/home/op/wb-7", OTHER) == own
    assert f"profile folder /home/op/wb-7 is on host {OTHER}" in caplog.text
    assert "opens the console's own profile folder for it on this host" in caplog.text
    assert profile_folder("wb", 7, "/home/op/wb-7", this_host()) == Path("/home/op/wb-7")
    assert profile_folder("wb", 7, "/home/op/wb-7", None) == Path("/home/op/wb-7")
    assert profile_folder("wb", 7, None, None) == own


async def test_a_tasks_account_page_opens_this_hosts_folder(
    db: Database, market: Market, caplog
) -> None:
    sup = make_supervisor(db, MemoryDriver())
    await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    with db.reading() as s:
        task_id, login = s.execute(select(Task.id, A.login).join(A, A.id == Task.account_id)).one()

    set_profile(db, login, "/home/op/far", OTHER)
    with db.reading() as s, caplog.at_level(logging.WARNING):
        detail = task_detail(s, task_id)
    assert detail is not None and detail.account_page is not None
    assert detail.account_page[2] is None  # the console's own folder for it, on this host
    assert f"profile folder /home/op/far is on host {OTHER}" in caplog.text

    set_profile(db, login, "/home/op/near", this_host())
    with db.reading() as s:
        detail = task_detail(s, task_id)
    assert detail is not None and detail.account_page is not None
    assert detail.account_page[2] == "/home/op/near"
