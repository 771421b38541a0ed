"""Order input: every kind of bad input is refused with the line and field named, and
nothing is written."""

from __future__ import annotations

import pytest
from helpers import make_supervisor, row_counts

from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import InvalidOrder, LineSpec, OrderSpec, parse_money


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [("1299.90", 129990), ("1 299,90", 129990), ("1\u00a0299", 129900), (15, 1500), ("0.01", 1)],
)
def test_money_as_people_type_it(text: str, kopecks: int) -> None:
    assert parse_money(text) == kopecks


@pytest.mark.parametrize("text", ["-5", "0", "abc", "12.345", "1e20", "NaN", ""])
def test_money_that_is_not_a_price_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money(text)


BAD_LINES = [
    (LineSpec("A1", 0, "P1"), "Line 1, quantity", "at least 1"),
    (LineSpec("A1", -3, "P1"), "Line 1, quantity", "at least 1"),
    (LineSpec("A1", 5001, "P1"), "Line 1, quantity", "over the limit of 1000"),
    (LineSpec("A1", "five", "P1"), "Line 1, quantity", "not a whole number"),
    (LineSpec("A1", "2.5", "P1"), "Line 1, quantity", "not a whole number"),
    (LineSpec("ZZZ", 1, "P1"), "Line 1, article", "'ZZZ' is not in Market mem's catalog"),
    (LineSpec("", 1, "P1"), "Line 1, article", "enter an article"),
    (LineSpec("A1", 1, "P9"), "Line 1, pickup point", "'P9' is not a pickup point"),
    (LineSpec("A1", 1, "P1", "-10"), "Line 1, max unit price", "not a positive amount"),
    (LineSpec("A1", 1, "P1", "cheap"), "Line 1, max unit price", "not an amount"),
]


@pytest.mark.parametrize(("line", "where", "what"), BAD_LINES)
async def test_bad_line_is_refused_naming_line_and_field(db, market, line, where, what) -> None:
    sup = make_supervisor(db, MemoryDriver())
    before = row_counts(db)
    with pytest.raises(InvalidOrder) as err:
        await sup.submit(OrderSpec("Client", "mem", [line]))
    assert f"{where}: " in str(err.value)
    assert what in str(err.value)
    assert row_counts(db) == before


async def test_every_problem_is_reported_at_once_and_nothing_written(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver())
    before = row_counts(db)
    spec = OrderSpec(
        "  ",
        "mem",
        [LineSpec("A1", 2, "P1"), LineSpec("A1", 0, "P1"), LineSpec("NOPE", 1, "P7", "x")],
    )
    with pytest.raises(InvalidOrder) as err:
        await sup.submit(spec)
    fields = {(e.line, e.field) for e in err.value.errors}
    assert fields == {
        (None, "client"),
        (2, "quantity"),
        (3, "article"),
        (3, "pickup point"),
        (3, "max unit price"),
    }
    assert row_counts(db) == before


async def test_order_without_lines_is_refused(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver())
    before = row_counts(db)
    with pytest.raises(InvalidOrder, match="no lines"):
        await sup.submit(OrderSpec("Client", "mem", []))
    assert row_counts(db) == before


async def test_the_unit_limit_is_configurable(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver(), max_units_per_line=3)
    with pytest.raises(InvalidOrder, match="over the limit of 3"):
        await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 4, "P1")]))
    assert await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1")])) > 0
