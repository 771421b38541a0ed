"""`main.py deliveries import`: a list of the marketplace's order numbers and statuses
marks units at their pickup points; rows that match nothing are named and left out."""

from __future__ import annotations

import json

import openpyxl
from helpers import make_supervisor, run_main, seed_market
from sqlalchemy import select, update

from app.core.domain.codes import DeliveryStatus
from app.core.domain.models import BuyBack, MarketPlace, Order
from app.core.drivers.memory import MemoryDriver
from app.core.engine import assisted
from app.core.orders.spec import LineSpec, OrderSpec

ME = "operator:ivan@ws1"


async def bought_units(db, n: int) -> int:
    """An Order of `n` units on an assisted marketplace, each bought by hand as WB-0.."""
    seed_market(db, accounts=n, code="wb")
    with db.session() as s:
        s.execute(update(MarketPlace).values(driver="assisted", base_url="https://wb.example"))
        s.commit()
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(OrderSpec("Client", "wb", [LineSpec("A1", n, "P1")]))
    for i in range(n):
        unit = await assisted.take(sup.ctx, ME)
        await assisted.bought(sup.ctx, unit.task_id, f"WB-{i}", 1000, False)
    await sup.rollup()
    return order_id


async def test_a_cp1251_list_marks_arrivals_and_names_bad_rows(db, tmp_path) -> None:
    order_id = await bought_units(db, 3)
    path = tmp_path / "deliveries.csv"
    path.write_bytes(
        "Номер заказа;Статус\n"
        "WB-0;Готов к выдаче\n"
        "WB-1;В пути\n"
        "WB-404;в пункте выдачи\n"
        "WB-2;потерян\n".encode("cp1251")
    )
    db_arg = str(tmp_path / "console.sqlite3")

    dry = run_main(tmp_path, "deliveries", "import", str(path), "--dry-run", "--db", db_arg)
    with db.reading() as s:
        assert set(s.scalars(select(BuyBack.delivery_status))) == {DeliveryStatus.ORDERED}

    done = run_main(tmp_path, "deliveries", "import", str(path), "--json", "--db", db_arg)
    assert dry.returncode == done.returncode == 1, done.stderr  # rows were rejected
    report = json.loads(done.stdout.splitlines()[-1])
    assert (report["arrived"], report["status"]) == (1, 1)
    assert [r["row"] for r in report["rejected"]] == [4, 5]
    assert "WB-404" in done.stdout and "потерян" in done.stdout
    with db.reading() as s:
        states = dict(s.execute(select(BuyBack.order_number, BuyBack.delivery_status)).all())
        status = s.scalar(select(Order.status).where(Order.id == order_id))
    assert states == {
        "WB-0": DeliveryStatus.AT_PICKUP_POINT,
        "WB-1": DeliveryStatus.IN_TRANSIT,
        "WB-2": DeliveryStatus.ORDERED,
    }
    assert status == "purchased"  # not every unit is at its pickup point yet

    rest = tmp_path / "rest.csv"
    rest.write_text("order number,status\nWB-1,arrived\nWB-2,delivered\nWB-0,arrived\n")
    last = run_main(tmp_path, "deliveries", "import", str(rest), "--json", "--db", db_arg)
    assert last.returncode == 0, last.stdout + last.stderr
    assert json.loads(last.stdout.splitlines()[-1])["unchanged"] == 1
    with db.reading() as s:
        assert s.scalar(select(Order.status).where(Order.id == order_id)) == "done"


def test_a_list_without_the_columns_is_refused_in_one_line(tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("foo;bar\n1;2\n")
    result = run_main(tmp_path, "deliveries", "import", str(path))
    assert result.returncode != 0
    assert "Номер заказа" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


async def test_a_workbook_with_a_title_and_a_totals_row_is_recorded(db, tmp_path) -> None:
    await bought_units(db, 2)
    path = tmp_path / "статусы.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Статусы заказов на 27.11"])
    sheet.merge_cells("A1:B1")
    sheet.append(["Номер заказа", "Статус"])
    sheet.append(["WB-0", "Готов к выдаче"])
    sheet.append(["WB-1", "В пути"])
    sheet.append(["Итого", 2])
    book.save(path)

    done = run_main(
        tmp_path, "deliveries", "import", str(path), "--db", str(tmp_path / "console.sqlite3")
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: row 2 taken as the header (the row above it left out)" in done.stdout
    assert "note: row 5 left out: a totals row (“Итого”)" in done.stdout
    assert (
        "Recorded: 1 unit at the pickup point, 1 with a new status, 0 unchanged, "
        "0 rows rejected." in done.stdout
    )
    with db.reading() as s:
        states = dict(s.execute(select(BuyBack.order_number, BuyBack.delivery_status)).all())
    assert states == {"WB-0": DeliveryStatus.AT_PICKUP_POINT, "WB-1": DeliveryStatus.IN_TRANSIT}
