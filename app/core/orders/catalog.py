"""Marketplaces and their catalogs (articles, pickup points): read for validation, and
created or refreshed from a list (the sandbox's seed, an import)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.domain.markets import PRESETS
from app.core.domain.models import Article, MarketPlace, PickupPoint


def upsert_marketplace(
    s: Session,
    *,
    code: str,
    name: str,
    base_url: str,
    driver: str,
    articles: Iterable[tuple[str, str]],
    pickup_points: Iterable[tuple[str, str]],
) -> MarketPlace:
    """Adds or refreshes a marketplace with its (sku, title) articles and (code, address)
    pickup points; never deletes, since Orders refer to them."""
    mp = s.scalar(select(MarketPlace).where(MarketPlace.code == code))
    if mp is None:
        preset = PRESETS.get(code)
        mp = MarketPlace(
            code=code,
            name=name,
            base_url=base_url,
            driver=driver,
            product_url=preset.product_url if preset else "{base_url}/product/{article}",
            aliases=", ".join(preset.aliases) if preset else "",
        )
        s.add(mp)
        s.flush()
    mp.name, mp.base_url, mp.driver = name, base_url, driver
    have_articles = {
        a.sku: a for a in s.scalars(select(Article).where(Article.marketplace_id == mp.id))
    }
    for sku, title in articles:
        if sku in have_articles:
            have_articles[sku].title = title
        else:
            s.add(Article(marketplace_id=mp.id, sku=sku, title=title))
    have_points = {
        p.code: p for p in s.scalars(select(PickupPoint).where(PickupPoint.marketplace_id == mp.id))
    }
    for code_, address in pickup_points:
        if code_ in have_points:
            have_points[code_].address = address
        else:
            s.add(PickupPoint(marketplace_id=mp.id, code=code_, address=address))
    s.flush()
    return mp


@dataclass(frozen=True)
class Catalog:
    """One marketplace's Articles and pickup points, as validation needs them."""

    marketplace_id: int
    code: str
    name: str
    articles: dict[str, int]  # sku -> Article.id
    article_titles: dict[str, str]
    pickup_points: dict[str, int]  # code -> PickupPoint.id
    pickup_addresses: dict[str, str]


def load_catalogs(session: Session) -> dict[str, Catalog]:
    """Every marketplace's catalog by marketplace code."""
    out = {}
    for mp in session.scalars(select(MarketPlace).order_by(MarketPlace.name)):
        arts = session.execute(
            select(Article.sku, Article.id, Article.title).where(Article.marketplace_id == mp.id)
        ).all()
        pts = session.execute(
            select(PickupPoint.code, PickupPoint.id, PickupPoint.address).where(
                PickupPoint.marketplace_id == mp.id
            )
        ).all()
        out[mp.code] = Catalog(
            mp.id,
            mp.code,
            mp.name,
            {sku: i for sku, i, _ in arts},
            {sku: t for sku, _, t in arts},
            {c: i for c, i, _ in pts},
            {c: a for c, _, a in pts},
        )
    return out
