"""The Accounts view as an operator uses it: the import dialog's preview and Cancel, and
Enable, Disable and Check now acting on the selected accounts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from helpers import row_counts, seed_market
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import select, update

from app.core.domain.models import MarketPlaceAccount as A
from app.core.drivers.memory import MemoryDriver
from app.core.service import EngineService
from app.ui.common import status_color
from app.ui.i18n import apply_language
from app.ui.views.accounts_view import COLUMNS, AccountsView


@pytest.fixture
def view(qtbot, db) -> Iterator[AccountsView]:
    seed_market(db, accounts=3, code="sandbox")
    service = EngineService(db, lambda _market: MemoryDriver())
    service.start()
    widget = AccountsView(db, service.check_accounts)
    qtbot.addWidget(widget)
    widget.resize(1200, 400)
    widget.show()
    widget.reload()
    qtbot.waitUntil(lambda: widget.accounts.rowCount() == 3, timeout=5000)
    yield widget
    service.stop()


def statuses(db) -> dict[str, str]:
    with db.session() as s:
        return dict(s.execute(select(A.login, A.status)).all())


def shown(view: AccountsView, column: str) -> list[str]:
    return [getattr(r, column) for r in view.accounts.rows]


def test_import_preview_shows_outcomes_and_cancel_writes_nothing(qtbot, db, view, tmp_path):
    listing = tmp_path / "accounts.csv"
    listing.write_bytes(
        "Логин;Пароль;Лимит в день\nnew1;pw;2\nsandbox-acc000;pw;\nnew1;pw;\n;pw;\n".encode(
            "cp1251"
        )
    )
    before = row_counts(db)
    view.account_actions["import"].trigger()
    dialog = view.import_dialog
    dialog.choose(listing)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 4, timeout=5000)
    model = dialog.model
    assert [model.data(model.index(n, 3)) for n in range(4)] == ["add", "skip", "skip", "reject"], [
        model.data(model.index(n, 4)) for n in range(4)
    ]
    assert model.data(model.index(0, 3), Qt.ItemDataRole.ForegroundRole) == status_color(
        "purchased"
    )
    assert model.data(model.index(3, 3), Qt.ItemDataRole.ForegroundRole) == status_color("failed")
    assert "'login'" in model.data(model.index(3, 4))
    assert "1 to add" in dialog.summary.text() and "cp1251" in dialog.summary.text()
    assert dialog.import_button.isEnabled()
    dialog.resize(900, 360)
    dialog.grab().save(str(tmp_path / "import.png"))
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    assert row_counts(db) == before


def test_import_writes_the_accepted_rows_and_the_view_shows_them(qtbot, db, view, tmp_path):
    listing = tmp_path / "accounts.csv"
    listing.write_text("login;password;phone\nnew1;pw;+7 900 000-00-01\n", encoding="utf-8")
    view.account_actions["import"].trigger()
    dialog = view.import_dialog
    dialog.path_edit.setFocus()
    dialog.choose(listing)
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=5000)
    # Clicking Import takes the focus from the path field: that must not re-plan it away.
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "new1" in shown(view, "login"), timeout=5000)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert "+7 900 000-00-01" in shown(view, "phone")
    assert "1 added" in view.message.text()


def test_refused_file_shows_why_and_cannot_be_imported(qtbot, db, view, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    view.account_actions["import"].trigger()
    dialog = view.import_dialog
    dialog.choose(empty)
    qtbot.waitUntil(lambda: "empty" in dialog.summary.text(), timeout=5000)
    assert not dialog.import_button.isEnabled()
    assert dialog.model.rowCount() == 0


def test_disable_and_enable_change_the_selected_accounts(qtbot, db, view):
    assert not view.account_actions["disable"].isEnabled()  # nothing selected
    view.table.selectRow(1)
    view.account_actions["disable"].trigger()
    qtbot.waitUntil(lambda: shown(view, "status")[1] == "disabled", timeout=5000)
    assert statuses(db) == {
        "sandbox-acc000": "active",
        "sandbox-acc001": "disabled",
        "sandbox-acc002": "active",
    }
    assert view.message.text() == "1 account disabled"
    view.table.selectAll()
    view.account_actions["enable"].trigger()
    qtbot.waitUntil(lambda: set(shown(view, "status")) == {"active"}, timeout=5000)
    assert set(statuses(db).values()) == {"active"}
    assert view.message.text() == "1 account enabled"  # the one that was disabled
    view.table.selectAll()
    view.account_actions["disable"].trigger()
    qtbot.waitUntil(lambda: view.message.text() == "3 accounts disabled", timeout=5000)


def test_disable_says_how_many_in_russian(qtbot, db, view):
    apply_language("ru")
    try:
        view.table.selectRow(1)
        view.account_actions["disable"].trigger()
        qtbot.waitUntil(lambda: view.message.text() == "Отключён 1 аккаунт", timeout=5000)
        view.table.selectAll()
        view.account_actions["disable"].trigger()  # the two still active
        qtbot.waitUntil(lambda: view.message.text() == "Отключены 2 аккаунта", timeout=5000)
    finally:
        apply_language("en")


def test_check_now_records_health_without_blocking(qtbot, db, view, tmp_path):
    assert not view.account_actions["check"].isEnabled()  # nothing selected yet
    view.table.selectAll()
    view.account_actions["check"].trigger()
    assert not view.account_actions["check"].isEnabled()  # the check runs on the engine's thread
    qtbot.waitUntil(lambda: shown(view, "health") == ["valid"] * 3, timeout=10000)
    assert all(shown(view, "checked_at"))
    assert "Checked 3 accounts: valid 3" in view.message.text()
    assert view.account_actions["check"].isEnabled()
    view.grab().save(str(tmp_path / "accounts.png"))


def test_only_the_accounts_own_errors_are_red_and_every_cell_has_its_whole_text(
    qtbot, db, view, tmp_path
) -> None:
    cancelled = "cancelled by the operator before submitting"
    with db.session() as s:
        s.execute(update(A).where(A.login == "sandbox-acc000").values(last_error=cancelled))
        s.execute(
            update(A)
            .where(A.login == "sandbox-acc001")
            .values(status="blocked", last_error="the marketplace blocked the account")
        )
        s.execute(
            update(A)
            .where(A.login == "sandbox-acc002")
            .values(
                cooldown_until=datetime.now(UTC) + timedelta(minutes=10),
                last_error="the marketplace did not answer in 30 s",
            )
        )
        s.commit()
    view.reload()
    qtbot.waitUntil(lambda: shown(view, "last_error")[0] == cancelled, timeout=5000)
    model = view.accounts
    error = COLUMNS.index("Last error")

    def cell(row: int, column: int, role: Qt.ItemDataRole) -> object:
        return model.data(model.index(row, column), role)

    # The operator's cancellation is not the account's fault; a blocked account's error
    # is; a failure that rests the account is shown in the colour of its rest.
    assert cell(0, error, Qt.ItemDataRole.ForegroundRole) is None
    assert cell(1, error, Qt.ItemDataRole.ForegroundRole) == status_color("failed")
    assert cell(2, error, Qt.ItemDataRole.ForegroundRole) == status_color("waiting_account")

    tip = Qt.ItemDataRole.ToolTipRole
    assert cell(0, error, tip) == cancelled
    login = COLUMNS.index("Login")
    for column in set(range(model.columnCount())) - {login}:
        assert cell(2, column, tip) == (cell(2, column, Qt.ItemDataRole.DisplayRole) or None)
    assert cell(2, login, tip).split("\n")[0] == "sandbox-acc002"
    view.table.horizontalHeader().resizeSection(error, 260)
    view.table.scrollTo(model.index(0, error))
    view.grab().save(str(tmp_path / "accounts_errors.png"))
