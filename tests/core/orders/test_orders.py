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


@pytest.mark.parametrize("text", ["-5", "0", "abc", "12.345", "1e20", "NaN", "", "1e30", "1e-30"])
def test_money_that_is_not_a_price_is_refused(text: str) -> None:
    # A refusal the operator reads (ValueError), never another error: quantizing 1e30
    # raised decimal.InvalidOperation, which the console took for its own defect.
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


# -- open catalogs (assisted marketplaces) and closed ones (the sandbox) -----------------


def catalog_of(db, code: str) -> tuple[dict[str, str], dict[str, str]]:
    """The marketplace's articles (sku -> title) and pickup points (code -> address)."""
    from sqlalchemy import select

    from app.core.domain.models import Article, MarketPlace, PickupPoint

    with db.session() as s:
        mp_id = s.scalar(select(MarketPlace.id).where(MarketPlace.code == code))
        articles = s.execute(
            select(Article.sku, Article.title).where(Article.marketplace_id == mp_id)
        )
        points = s.execute(
            select(PickupPoint.code, PickupPoint.address).where(PickupPoint.marketplace_id == mp_id)
        )
        return dict(articles.all()), dict(points.all())


def order_lines(db, order_id: int) -> list[tuple[str, str, int]]:
    from sqlalchemy import select

    from app.core.domain.models import Article, OrderLine, PickupPoint

    with db.session() as s:
        rows = s.execute(
            select(Article.sku, PickupPoint.code, OrderLine.quantity)
            .join(Article, Article.id == OrderLine.article_id)
            .join(PickupPoint, PickupPoint.id == OrderLine.pickup_point_id)
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.line_no)
        )
        return [tuple(r) for r in rows]


@pytest.fixture
def wildberries(db) -> None:
    from app.core.orders.marketplaces import add_marketplace, from_preset

    with db.session() as s:
        add_marketplace(s, from_preset("wildberries"))
        s.commit()


async def test_an_assisted_marketplace_takes_new_articles_and_pickup_points(
    db, wildberries
) -> None:
    sup = make_supervisor(db, MemoryDriver())
    spec = OrderSpec(
        "Acme",
        "Вайлдберриз",  # an alias of Wildberries
        [
            LineSpec("187654321", 2, "Москва, Тверская ул., 1"),
            LineSpec("187654321", 1, "  москва,  тверская ул., 1 "),  # the same point
            LineSpec("55555555", 1, "PVZ-1024"),
        ],
    )

    order_id = await sup.submit(spec)

    assert catalog_of(db, "wb") == (
        {"187654321": "", "55555555": ""},
        {"Москва, Тверская ул., 1": "Москва, Тверская ул., 1", "PVZ-1024": ""},
    )
    assert order_lines(db, order_id) == [
        ("187654321", "Москва, Тверская ул., 1", 2),
        ("187654321", "Москва, Тверская ул., 1", 1),
        ("55555555", "PVZ-1024", 1),
    ]
    # Typed again, in another case, by code or by address: the same entries, none added.
    again = await sup.submit(
        OrderSpec(
            "Acme",
            "wb",
            [
                LineSpec("55555555", 1, "pvz-1024"),
                LineSpec("187654321", 1, "МОСКВА, ТВЕРСКАЯ УЛ., 1"),
            ],
        )
    )
    assert order_lines(db, again) == [
        ("55555555", "PVZ-1024", 1),
        ("187654321", "Москва, Тверская ул., 1", 1),
    ]
    assert len(catalog_of(db, "wb")[1]) == 2


async def test_an_article_not_of_the_marketplaces_format_is_refused_and_nothing_written(
    db, wildberries
) -> None:
    sup = make_supervisor(db, MemoryDriver())
    before = row_counts(db)
    spec = OrderSpec(
        "Acme",
        "WB",
        [
            LineSpec("abc", 1, "PVZ-1"),
            LineSpec("187654321", 1, "PVZ-2"),  # fine, yet not added: the Order is refused
            LineSpec("187654322", 0, "PVZ-3"),
        ],
    )
    with pytest.raises(InvalidOrder) as err:
        await sup.submit(spec)
    assert [str(e) for e in err.value.errors] == [
        "Line 1, article: 'abc' does not look like a Wildberries article number (like 187654321)",
        "Line 3, quantity: must be at least 1 (got 0)",
    ]
    assert row_counts(db) == before


async def test_the_sandbox_catalog_stays_closed(db) -> None:
    from app.core.orders.catalog import upsert_marketplace
    from app.core.orders.marketplaces import add_marketplace, from_preset

    with db.session() as s:
        add_marketplace(s, from_preset("sandbox"))
        upsert_marketplace(
            s,
            code="sandbox",
            name="Sandbox Market",
            base_url="http://127.0.0.1:8080",
            driver="sandbox",
            articles=[("100001", "Kettle")],
            pickup_points=[("PVZ-001", "Tverskaya 1")],
        )
        s.commit()
    sup = make_supervisor(db, MemoryDriver())
    before = row_counts(db)
    with pytest.raises(InvalidOrder) as err:
        await sup.submit(OrderSpec("Acme", "sandbox", [LineSpec("999999", 1, "PVZ-777")]))
    assert [str(e) for e in err.value.errors] == [
        "Line 1, article: '999999' is not in Sandbox Market's catalog; check the number",
        "Line 1, pickup point: 'PVZ-777' is not a pickup point of Sandbox Market",
    ]
    assert row_counts(db) == before
    # Its own points are still found by code or address, in any case.
    order_id = await sup.submit(
        OrderSpec("Acme", "Sandbox", [LineSpec("100001", 1, "tverskaya 1")])
    )
    assert order_lines(db, order_id) == [("100001", "PVZ-001", 1)]


async def test_a_disabled_marketplace_takes_no_order(db, wildberries) -> None:
    from app.core.domain.models import MarketPlace

    with db.session() as s:
        for mp in s.query(MarketPlace):
            mp.enabled = False
        s.commit()
    sup = make_supervisor(db, MemoryDriver())
    with pytest.raises(InvalidOrder, match="Wildberries is disabled; enable it in Marketplaces"):
        await sup.submit(OrderSpec("Acme", "wb", [LineSpec("187654321", 1, "PVZ-1")]))
