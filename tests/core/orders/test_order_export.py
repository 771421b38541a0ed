"""An Order's report: every bought unit with its marketplace order number, account and
client, in an XLSX and a CSV that Russian Excel opens."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from helpers import make_supervisor, tasks

from app.core.domain.models import BuyBack
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
