"""An Order's report: every bought unit with its marketplace order number, account and
client, and why a unit was not bought, in an XLSX and a CSV that Russian Excel opens,
where no text opens as a formula; in the words it is given (the console's language)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from helpers import make_supervisor, tasks
from sqlalchemy import select, update

from app.core.domain.models import (
    Article,
    BuyBack,
    Client,
    MarketPlaceAccount,
    Order,
    PickupPoint,
    Task,
)
from app.core.drivers.memory import MemoryDriver
from app.core.orders.report import COLUMNS, export_order
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.support.errors import KnownError

CLIENT = "ООО «Ромашка»"


@pytest.fixture
async def bought(db, market) -> tuple[int, dict[str, str]]:
    """A Cyrillic client's Order of 5 units, all bought; its order numbers → accounts."""
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(
        OrderSpec(CLIENT, "mem", [LineSpec("A1", 3, "P1"), LineSpec("A2", 2, "P2", "1500")])
    )
    await sup.run(until_idle=True)
    with db.session() as s:
        numbers = dict(s.query(BuyBack.task_id, BuyBack.order_number).all())
    units = tasks(db, order_id)
    assert [u.status for u in units] == ["purchased"] * 5
    return order_id, {numbers[u.id]: u.login for u in units}


def read_xlsx(path: Path) -> list[list]:
    sheet = openpyxl.load_workbook(path).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter=";"))


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_report_lists_every_unit_with_its_number_account_and_client(
    db, bought, tmp_path, suffix
) -> None:
    order_id, accounts = bought
    path = tmp_path / f"заказ {order_id}{suffix}"
    with db.session() as s:
        assert export_order(s, order_id, path) == 5

    rows = read_xlsx(path) if suffix == ".xlsx" else read_csv(path)
    assert tuple(rows[0]) == COLUMNS
    col = {name: i for i, name in enumerate(COLUMNS)}
    body = rows[1:]
    assert {r[col["Marketplace order"]]: r[col["Account"]] for r in body} == accounts
    assert {r[col["Client"]] for r in body} == {CLIENT}
    assert [r[col["Article"]] for r in body] == ["A1"] * 3 + ["A2"] * 2
    assert all(r[col["Status"]] == "purchased" and r[col["Purchased"]] for r in body)
    assert not list(tmp_path.glob(".*.part"))
    if suffix == ".csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs


def test_no_secret_reaches_the_report(db, bought, tmp_path) -> None:
    order_id, _ = bought
    path = tmp_path / "report.csv"
    with db.session() as s:
        export_order(s, order_id, path)
    assert "pw" not in {c for row in read_csv(path) for c in row}  # the accounts' password


def test_an_unknown_order_or_file_type_is_refused_clearly(db, bought, tmp_path) -> None:
    order_id, _ = bought
    with db.session() as s:
        with pytest.raises(KnownError, match="no order #999"):
            export_order(s, 999, tmp_path / "r.xlsx")
        with pytest.raises(KnownError, match=r"\.xlsx or \.csv"):
            export_order(s, order_id, tmp_path / "r.pdf")
    assert not list(tmp_path.glob("r.*"))


# Texts a spreadsheet would run as formulas: a link that leaks what it is sent, a DDE
# command, a sum, arithmetic, and a formula behind a tab, a line break or a space.
HOSTILE = (
    '=HYPERLINK("http://x/y","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
)
TEXT_COLUMNS = ("Client", "Title", "Account", "Pickup point", "Marketplace order")


def make_hostile(db, order_id: int, accounts: dict[str, str], payload: str) -> dict[str, set]:
    """Starts every text of the Order that came from outside (client, article title, account
    login, pickup point, marketplace order number) with `payload`, and makes the first unit's
    price negative; returns the texts the report should show, by column."""
    with db.session() as s:
        s.get(Client, s.get(Order, order_id).client_id).name = f"{payload} client"
        for article in s.scalars(select(Article)):
            article.title = f"{payload} {article.sku}"
        for point in s.scalars(select(PickupPoint)):
            point.code = f"{payload} {point.code}"
        for account in s.scalars(select(MarketPlaceAccount)):
            account.login = f"{payload} {account.login}"
        for i, buy in enumerate(s.scalars(select(BuyBack).order_by(BuyBack.id))):
            buy.order_number = f"{payload} {buy.order_number}"
            if i == 0:
                buy.price_minor = -250
        s.commit()
    return {
        "Client": {f"{payload} client"},
        "Title": {f"{payload} A1", f"{payload} A2"},
        "Account": {f"{payload} {login}" for login in accounts.values()},
        "Pickup point": {f"{payload} P1", f"{payload} P2"},
        "Marketplace order": {f"{payload} {number}" for number in accounts},
    }


@pytest.mark.parametrize("payload", HOSTILE)
def test_csv_text_that_would_start_a_formula_is_marked_as_text(
    db, bought, tmp_path, payload
) -> None:
    order_id, accounts = bought
    texts = make_hostile(db, order_id, accounts, payload)
    path = tmp_path / "report.csv"
    with db.session() as s:
        export_order(s, order_id, path)

    rows = read_csv(path)
    col = {name: i for i, name in enumerate(COLUMNS)}
    body = rows[1:]
    assert len(body) == 5
    # Excel reads a cell that starts with a quote as text; the rest is the stored text.
    shown = {name: {r[col[name]] for r in body} for name in TEXT_COLUMNS}
    assert shown == {name: {"'" + t for t in texts[name]} for name in TEXT_COLUMNS}
    # Numbers are numbers: a negative price is not text and gets no mark.
    assert "-2,50" in {r[col["Price, ₽"]] for r in body}
    assert {r[col["Order"]] for r in body} == {str(order_id)}


@pytest.mark.parametrize("payload", HOSTILE)
def test_xlsx_text_that_would_start_a_formula_stays_text(db, bought, tmp_path, payload) -> None:
    order_id, accounts = bought
    texts = make_hostile(db, order_id, accounts, payload)
    path = tmp_path / "report.xlsx"
    with db.session() as s:
        export_order(s, order_id, path)

    sheet = openpyxl.load_workbook(path).active
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    col = {name: i for i, name in enumerate(COLUMNS)}
    body = list(sheet.iter_rows(min_row=2))
    assert len(body) == 5
    # The text reads exactly as stored, in a text cell with the mark Excel gives a typed
    # '=...: editing the cell does not make it a formula either.
    cells = [r[col[name]] for r in body for name in TEXT_COLUMNS]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    shown = {name: {r[col[name]].value for r in body} for name in TEXT_COLUMNS}
    # XML reads a carriage return in a cell's text as a line feed (Excel too).
    assert shown == {name: {t.replace("\r", "\n") for t in texts[name]} for name in texts}
    # Prices and times are still numbers and dates, a negative price too.
    prices = [r[col["Price, ₽"]].value for r in body]
    assert all(type(p) in (int, float) for p in prices) and -2.5 in prices
    assert all(isinstance(r[col["Purchased"]].value, datetime) for r in body)


@pytest.fixture
async def partly_failed(db, market) -> int:
    """An Order whose first line is bought and whose second line's price is over its cap:
    those units fail with the reason the engine wrote. Of these, one is then in review and
    one queued again (its last error kept)."""
    sup = make_supervisor(db, MemoryDriver(prices={"A2": 250000}))
    order_id = await sup.submit(
        OrderSpec(CLIENT, "mem", [LineSpec("A1", 1, "P1"), LineSpec("A2", 3, "P2", "1500")])
    )
    await sup.run(until_idle=True)
    units = tasks(db, order_id)
    assert [u.status for u in units] == ["purchased", "failed", "failed", "failed"]
    with db.session() as s:
        for unit, status in zip(units[2:], ("needs_review", "retry_wait"), strict=True):
            s.execute(update(Task).where(Task.id == unit.id).values(status=status))
        s.commit()
    return order_id


CAPPED = "Article A2 costs 2500.00 ₽, above the cap of 1500.00 ₽"


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_report_says_why_a_unit_was_not_bought(db, partly_failed, tmp_path, suffix) -> None:
    path = tmp_path / f"report{suffix}"
    with db.session() as s:
        export_order(s, partly_failed, path)

    rows = read_xlsx(path) if suffix == ".xlsx" else read_csv(path)
    assert tuple(rows[0]) == COLUMNS and COLUMNS[-1] == "Failure reason"
    col = {name: i for i, name in enumerate(COLUMNS)}
    assert [(r[col["Status"]], r[col["Failure reason"]] or "") for r in rows[1:]] == [
        ("purchased", ""),
        ("failed", CAPPED),
        ("needs review", CAPPED),
        ("retry wait", ""),  # not failed (yet): it is tried again
    ]


RUSSIAN = {
    ("Report", "Order"): "Заказ",
    ("Report", "Client"): "Клиент",
    ("Report", "Status"): "Статус",
    ("Report", "Failure reason"): "Причина ошибки",
    ("Status", "purchased"): "выкуплено",
    ("Status", "failed"): "ошибка",
}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_report_is_written_in_the_words_it_is_given(
    db, partly_failed, tmp_path, suffix
) -> None:
    path = tmp_path / f"report{suffix}"
    reasons = {CAPPED: "Артикул A2 стоит 2 500,00 ₽, выше макс. цены 1 500,00 ₽"}
    with db.session() as s:
        export_order(
            s,
            partly_failed,
            path,
            words=lambda context, source: RUSSIAN.get((context, source), source),
            reasons=lambda reason: reasons.get(reason, reason),
        )

    rows = read_xlsx(path) if suffix == ".xlsx" else read_csv(path)
    header = [RUSSIAN.get(("Report", c), c) for c in COLUMNS]
    assert list(rows[0]) == header
    col = {name: i for i, name in enumerate(header)}
    assert [(r[col["Статус"]], r[col["Причина ошибки"]] or "") for r in rows[1:3]] == [
        ("выкуплено", ""),
        ("ошибка", reasons[CAPPED]),
    ]
    assert {r[col["Клиент"]] for r in rows[1:]} == {CLIENT}
    if suffix == ".xlsx":
        assert openpyxl.load_workbook(path).active.title == f"Заказ {partly_failed}"


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_failure_reason_that_would_start_a_formula_stays_text(
    db, partly_failed, tmp_path, payload, suffix
) -> None:
    with db.session() as s:
        s.execute(update(Task).where(Task.status == "failed").values(last_error=payload))
        s.commit()
    path = tmp_path / f"report{suffix}"
    with db.session() as s:
        export_order(s, partly_failed, path)

    reason = COLUMNS.index("Failure reason")
    if suffix == ".csv":
        assert read_csv(path)[2][reason] == "'" + payload
    else:
        cell = openpyxl.load_workbook(path).active.cell(3, reason + 1)
        assert cell.data_type == "s" and cell.quotePrefix
        assert cell.value == payload.replace("\r", "\n")
