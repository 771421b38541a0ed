"""The marketplaces an operator sets up: added from a preset (Wildberries, Ozon, Yandex
Market, the sandbox) or by hand, edited, disabled; checked field by field so that a bad
value is refused with what to do and nothing is written."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.core.domain.markets import (
    OPERATOR_KINDS,
    PRESETS,
    MarketKind,
    Preset,
    names_of,
    split_aliases,
)
from app.core.domain.models import Article, MarketPlace, MarketPlaceAccount, Order, PickupPoint
from app.core.support.text import QT_TRANSLATE_NOOP, Refused

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")


@dataclass(frozen=True)
class MarketFields:
    """A marketplace's settings as the operator edits them."""

    code: str
    name: str
    kind: str
    base_url: str
    product_url: str
    article_pattern: str = ""
    article_example: str = ""
    currency: str = "RUB"
    aliases: str = ""
    enabled: bool = True

    @classmethod
    def of(cls, mp: MarketPlace) -> MarketFields:
        return cls(
            mp.code,
            mp.name,
            mp.driver,
            mp.base_url,
            mp.product_url,
            mp.article_pattern,
            mp.article_example,
            mp.currency,
            mp.aliases,
            mp.enabled,
        )


def from_preset(
    preset: str | Preset,
    *,
    code: str | None = None,
    name: str | None = None,
    base_url: str | None = None,
    kind: str | None = None,
) -> MarketFields:
    """A preset's settings, with what the operator gave instead."""
    if isinstance(preset, str):
        found = PRESETS.get(preset.strip().casefold())
        if found is None:
            raise Refused(
                QT_TRANSLATE_NOOP("Engine", "unknown preset '{preset}'; the presets are {names}"),
                preset=preset,
                names=", ".join(PRESETS),
            )
        preset = found
    return MarketFields(
        code=code or preset.code,
        name=name or preset.name,
        kind=kind or preset.kind,
        base_url=base_url or preset.base_url,
        product_url=preset.product_url,
        article_pattern=preset.article_pattern,
        article_example=preset.article_example,
        currency=preset.currency,
        aliases=", ".join(preset.aliases),
    )


def checked(fields: MarketFields) -> MarketFields:
    """The fields cleaned up (spaces trimmed, code in lower case); raises Refused naming
    the first field that is wrong and how to fix it."""
    f = replace(
        fields,
        code=fields.code.strip().casefold(),
        name=fields.name.strip(),
        base_url=fields.base_url.strip().rstrip("/"),
        product_url=fields.product_url.strip(),
        article_pattern=fields.article_pattern.strip(),
        article_example=fields.article_example.strip(),
        currency=fields.currency.strip().upper(),
        aliases=", ".join(split_aliases(fields.aliases)),
    )
    if not _CODE.fullmatch(f.code):
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine",
                "code '{code}': use 1-50 Latin letters, digits, '-' or '_' (like wb or ozon)",
            ),
            code=f.code,
        )
    if not f.name:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "enter the marketplace's name"))
    if f.kind not in {*OPERATOR_KINDS, MarketKind.MEMORY}:
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "kind '{kind}': choose assisted or sandbox"), kind=f.kind
        )
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", f.base_url):
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine", "address '{url}': enter the site's address, like https://www.ozon.ru"
            ),
            url=f.base_url,
        )
    if "{article}" not in f.product_url:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine",
                "product page '{url}': put {{article}} where the article number goes",
            ),
            url=f.product_url,
        )
    if f.article_pattern:
        try:
            re.compile(f.article_pattern)
        except re.error as exc:
            raise Refused(
                QT_TRANSLATE_NOOP(
                    "Engine", "article format '{pattern}' is not a regular expression: {error}"
                ),
                pattern=f.article_pattern,
                error=str(exc),
            ) from None
        if f.article_example and not re.fullmatch(f.article_pattern, f.article_example):
            raise Refused(
                QT_TRANSLATE_NOOP(
                    "Engine", "the example article '{example}' does not fit the article format"
                ),
                example=f.article_example,
            )
    if not re.fullmatch(r"[A-Z]{3}", f.currency):
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "currency '{currency}': use a 3-letter code like RUB"),
            currency=f.currency,
        )
    return f


def _check_names(s: Session, f: MarketFields, mp_id: int | None) -> None:
    """No two marketplaces answer to the same code, name or alias."""
    mine = names_of(f.code, f.name, f.aliases)
    for other in s.scalars(select(MarketPlace).where(MarketPlace.id != (mp_id or -1))):
        if other.code == f.code:
            raise Refused(
                QT_TRANSLATE_NOOP(
                    "Engine", "a marketplace with the code '{code}' is already set up ({name})"
                ),
                code=f.code,
                name=other.name,
            )
        shared = mine & names_of(other.code, other.name, other.aliases)
        if shared:
            raise Refused(
                QT_TRANSLATE_NOOP(
                    "Engine",
                    "the name or alias '{alias}' is already {name}'s; give this one another",
                ),
                alias=sorted(shared)[0],
                name=other.name,
            )


def add_marketplace(s: Session, fields: MarketFields) -> MarketPlace:
    """Adds a marketplace (the caller commits)."""
    f = checked(fields)
    _check_names(s, f, None)
    mp = MarketPlace(**_columns(f))
    s.add(mp)
    s.flush()
    return mp


def update_marketplace(s: Session, mp_id: int, fields: MarketFields) -> MarketPlace:
    """Changes a marketplace's settings (the caller commits). Its code stays: files and
    other workstations refer to it."""
    mp = s.get(MarketPlace, mp_id)
    if mp is None:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "this marketplace is no longer in the database"))
    f = checked(replace(fields, code=mp.code))
    _check_names(s, f, mp_id)
    for key, value in _columns(f).items():
        setattr(mp, key, value)
    s.flush()
    return mp


def set_marketplace_enabled(s: Session, mp_id: int, enabled: bool) -> MarketPlace:
    """Enables or disables a marketplace (the caller commits); its other settings are
    not checked again, so one set up before the checks can still be switched."""
    mp = s.get(MarketPlace, mp_id)
    if mp is None:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "this marketplace is no longer in the database"))
    mp.enabled = enabled
    s.flush()
    return mp


def _columns(f: MarketFields) -> dict[str, object]:
    values = asdict(f)
    values["driver"] = values.pop("kind")
    return values


@dataclass(frozen=True)
class MarketRow:
    """A marketplace as the Marketplaces view and `marketplaces list` show it."""

    id: int
    fields: MarketFields
    accounts: int
    orders: int
    articles: int
    pickup_points: int


def marketplace_rows(s: Session) -> list[MarketRow]:
    def counts(column: InstrumentedAttribute[int]) -> dict[int, int]:
        return {k: n for k, n in s.execute(select(column, func.count()).group_by(column))}

    accounts = counts(MarketPlaceAccount.marketplace_id)
    orders = counts(Order.marketplace_id)
    articles = counts(Article.marketplace_id)
    points = counts(PickupPoint.marketplace_id)
    return [
        MarketRow(
            mp.id,
            MarketFields.of(mp),
            accounts.get(mp.id, 0),
            orders.get(mp.id, 0),
            articles.get(mp.id, 0),
            points.get(mp.id, 0),
        )
        for mp in s.scalars(select(MarketPlace).order_by(MarketPlace.name))
    ]
