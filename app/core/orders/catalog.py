"""Marketplaces, their catalogs, pickup points and accounts in the console's database:
creating or refreshing them from a list (the sandbox's seed, an import)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.domain.models import Article, MarketPlace, MarketPlaceAccount, PickupPoint
from app.core.support.secrets import PREFIX, get_vault


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
        mp = MarketPlace(code=code, name=name, base_url=base_url, driver=driver)
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


def upsert_accounts(
    s: Session, marketplace_id: int, accounts: Iterable[tuple[str, str]], label: str = ""
) -> int:
    """Adds (login, password) accounts that are missing and refreshes passwords of the
    others; returns how many were added. Passwords are stored encrypted."""
    vault = get_vault()
    have = {
        a.login: a
        for a in s.scalars(
            select(MarketPlaceAccount).where(MarketPlaceAccount.marketplace_id == marketplace_id)
        )
    }
    added = 0
    for login, password in accounts:
        if login in have:
            stored = have[login].password
            # Re-encrypting an unchanged password would rewrite every row on each seed.
            if not stored.startswith(PREFIX) or vault.decrypt(stored) != password:
                have[login].password = vault.encrypt(password)
        else:
            s.add(
                MarketPlaceAccount(
                    marketplace_id=marketplace_id,
                    login=login,
                    password=vault.encrypt(password),
                    label=label,
                )
            )
            added += 1
    s.flush()
    return added
