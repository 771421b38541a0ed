"""Marketplaces the operator sets up: presets fill every field, a bad value is refused
naming its field with nothing written, no two marketplaces answer to one name, and a
marketplace is found by what people type ("WB", "Вайлдберриз", "Яндекс Маркет")."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import row_counts
from sqlalchemy import select

from app.core.domain.markets import PRESETS, MarketKind, preset_for, product_address
from app.core.domain.models import MarketPlace
from app.core.orders.marketplaces import (
    MarketFields,
    add_marketplace,
    checked,
    from_preset,
    marketplace_rows,
    set_marketplace_enabled,
    update_marketplace,
)
from app.core.storage.markets import MarketIndex
from app.core.support.text import Refused


def add(db, fields: MarketFields) -> int:
    with db.session() as s:
        mp = add_marketplace(s, fields)
        s.commit()
        return mp.id


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_is_accepted_as_it_is(key) -> None:
    fields = checked(from_preset(key))
    assert fields.code == PRESETS[key].code
    assert "{article}" in fields.product_url
    assert fields.enabled


def test_wildberries_preset_gives_its_product_page_and_article_format() -> None:
    wb = from_preset("wildberries")
    assert (wb.code, wb.name, wb.kind) == ("wb", "Wildberries", MarketKind.ASSISTED)
    assert product_address(wb.product_url, wb.base_url, "187654321") == (
        "https://www.wildberries.ru/catalog/187654321/detail.aspx"
    )
    assert "Вайлдберриз" in wb.aliases
    assert preset_for("ВБ") is PRESETS["wildberries"]
    assert preset_for("яндекс.маркет") is PRESETS["yandex-market"]
    assert preset_for("AliExpress") is None


def test_an_unknown_preset_is_refused_with_the_presets() -> None:
    with pytest.raises(Refused) as refused:
        from_preset("amazon")
    assert "unknown preset 'amazon'" in str(refused.value)
    assert "wildberries, ozon, yandex-market, sandbox" in str(refused.value)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"code": "вб"}, "code 'вб'"),
        ({"code": ""}, "code ''"),
        ({"name": "  "}, "enter the marketplace's name"),
        ({"kind": "robot"}, "kind 'robot': choose assisted or sandbox"),
        ({"base_url": "www.wildberries.ru"}, "address 'www.wildberries.ru'"),
        ({"base_url": "ftp://x"}, "address 'ftp://x'"),
        ({"product_url": "https://x/item"}, "put {article} where the article number goes"),
        ({"article_pattern": "(\\d"}, "article format '(\\d' is not a regular expression"),
        ({"article_example": "ABC"}, "the example article 'ABC' does not fit"),
        ({"currency": "рубль"}, "currency 'РУБЛЬ': use a 3-letter code"),
    ],
)
def test_a_bad_field_is_refused_naming_it(change, says) -> None:
    with pytest.raises(Refused) as refused:
        checked(replace(from_preset("wildberries"), **change))
    assert says in str(refused.value)


def test_checked_tidies_what_was_typed() -> None:
    typed = replace(
        from_preset("ozon"),
        code=" OZON ",
        base_url="https://www.ozon.ru/",
        currency="rub",
        aliases="Озон,\n ozon.ru ,, ",
    )
    f = checked(typed)
    assert (f.code, f.base_url, f.currency, f.aliases) == (
        "ozon",
        "https://www.ozon.ru",
        "RUB",
        "Озон, ozon.ru",
    )


def test_a_refused_marketplace_writes_nothing(db) -> None:
    before = row_counts(db)
    with pytest.raises(Refused):
        add(db, replace(from_preset("wildberries"), base_url="wildberries"))
    assert row_counts(db) == before


def test_a_second_marketplace_may_not_share_a_code_name_or_alias(db) -> None:
    add(db, from_preset("wildberries"))
    before = row_counts(db)
    with pytest.raises(Refused, match="the code 'wb' is already set up"):
        add(db, replace(from_preset("ozon"), code="wb"))
    with pytest.raises(Refused, match="'вб' is already Wildberries's"):
        add(db, replace(from_preset("ozon"), aliases="ВБ"))
    with pytest.raises(Refused, match="'wildberries' is already Wildberries's"):
        add(db, replace(from_preset("ozon"), code="wb2", name="WILDBERRIES"))
    assert row_counts(db) == before


def test_an_edit_keeps_the_code_and_may_keep_its_own_names(db) -> None:
    mp_id = add(db, from_preset("ozon"))
    with db.session() as s:
        changed = replace(from_preset("ozon"), code="other", name="Ozon RU", currency="KZT")
        update_marketplace(s, mp_id, changed)
        s.commit()
    with db.reading() as s:
        [row] = marketplace_rows(s)
    assert (row.fields.code, row.fields.name, row.fields.currency) == ("ozon", "Ozon RU", "KZT")


def test_rows_count_accounts_and_orders(db, market) -> None:
    add(db, from_preset("wildberries"))
    with db.reading() as s:
        rows = {r.fields.code: r for r in marketplace_rows(s)}
    assert (rows["mem"].accounts, rows["mem"].articles, rows["mem"].pickup_points) == (20, 3, 2)
    assert (rows["wb"].accounts, rows["wb"].orders) == (0, 0)


@pytest.mark.parametrize("typed", ["WB", "wb", "Wildberries", "вайлдберриз", "wildberries.ru"])
def test_wildberries_is_found_by_what_people_type(db, typed) -> None:
    add(db, from_preset("wildberries"))
    add(db, from_preset("yandex-market"))
    with db.reading() as s:
        assert MarketIndex.load(s).get(typed).code == "wb"


@pytest.mark.parametrize("typed", ["Яндекс Маркет", "яндекс.маркет", "ym", "Yandex Market"])
def test_yandex_market_is_found_by_what_people_type(db, typed) -> None:
    add(db, from_preset("wildberries"))
    add(db, from_preset("yandex-market"))
    with db.reading() as s:
        assert MarketIndex.load(s).get(typed).code == "ym"


def test_a_disabled_marketplace_is_refused_with_the_fix(db) -> None:
    mp_id = add(db, from_preset("wildberries"))
    with db.session() as s:
        set_marketplace_enabled(s, mp_id, False)
        s.commit()
    with db.reading() as s:
        index = MarketIndex.load(s)
        assert index.find("WB") is not None  # still known, to say why it is refused
        with pytest.raises(Refused) as refused:
            index.get("WB")
    assert "Wildberries is disabled; enable it in Marketplaces" in str(refused.value)
    with db.reading() as s:
        assert s.scalar(select(MarketPlace.enabled)) is False


def test_names_not_set_up_are_refused_with_what_to_do(db) -> None:
    with db.reading() as s:
        empty = MarketIndex.load(s)
    with pytest.raises(Refused, match="no marketplace is set up yet; add one in Marketplaces"):
        empty.get("Lamoda")
    with pytest.raises(Refused, match=r"main\.py marketplaces add wb --preset wildberries"):
        empty.get("ВБ")
    add(db, from_preset("ozon"))
    with db.reading() as s, pytest.raises(Refused, match=r"set up here: ozon \(Ozon\)"):
        MarketIndex.load(s).get("Lamoda")
