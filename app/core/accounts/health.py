"""Operator actions on accounts: enabling and disabling them, and checking that each can
still log in to its marketplace (its health)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from app.core.accounts.pool import account_refs
from app.core.domain.clock import utcnow
from app.core.domain.codes import AccountStatus, Health, account_status_after
from app.core.domain.models import MarketPlace, MarketPlaceAccount
from app.core.drivers.base import AccountRef, DriverError, DriverFactory, MarketInfo
from app.core.drivers.browser import BrowserNotFound
from app.core.storage.db import Database
from app.core.support.errors import KnownError

log = logging.getLogger(__name__)
A = MarketPlaceAccount


@dataclass(frozen=True)
class CheckResult:
    """One account's check: `health` is None when the marketplace could not tell (the
    verdict stored before stays), `detail` says why."""

    account_id: int
    login: str
    marketplace: str
    health: Health | None
    detail: str
    checked_at: datetime


def accounts_to_check(s: Session, ids: list[int] | None = None) -> list[int]:
    """The given accounts, or every account the pool may use (all but disabled ones;
    blocked ones are checked to see whether they came back)."""
    stmt = select(A.id).order_by(A.marketplace_id, A.login)
    stmt = (
        stmt.where(A.id.in_(ids))
        if ids is not None
        else stmt.where(A.status != AccountStatus.DISABLED)
    )
    return list(s.scalars(stmt))


async def check_accounts(
    db: Database,
    drivers: DriverFactory,
    ids: list[int] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Logs each account (`ids`, or all that `accounts_to_check` gives) in through its
    marketplace's driver, one at a time, and records its health and the time of the
    check (and `blocked` / `disabled` as a purchase meeting the same answer would)."""
    markets, refs = await db.read(lambda s: _load(s, accounts_to_check(s, ids)))
    results: list[CheckResult] = []
    for market, accounts in markets:
        driver = drivers(market)
        try:
            await driver.start()
        except BrowserNotFound as exc:
            raise KnownError(str(exc)) from None
        try:
            for account_id in accounts:
                ref = refs[account_id]
                try:
                    health, detail = await driver.check(ref)
                except DriverError as exc:
                    health, detail = None, exc.reason
                result = CheckResult(account_id, ref.login, market.code, health, detail, utcnow())
                await db.write(partial(_record, r=result))
                log.info("checked account %s at %s: %s", ref.login, market.code, health)
                results.append(result)
                if on_result is not None:
                    on_result(result)
        finally:
            await driver.close()
    return results


def _load(
    s: Session, ids: list[int]
) -> tuple[list[tuple[MarketInfo, list[int]]], dict[int, AccountRef]]:
    rows = s.execute(
        select(A.id, MarketPlace)
        .join(MarketPlace, MarketPlace.id == A.marketplace_id)
        # The same order as accounts_to_check: by marketplace, then login.
        .where(A.id.in_(ids))
        .order_by(A.marketplace_id, A.login)
    ).all()
    markets: dict[int, tuple[MarketInfo, list[int]]] = {}
    for account_id, mp in rows:
        info = MarketInfo(mp.id, mp.code, mp.name, mp.base_url, mp.driver)
        markets.setdefault(mp.id, (info, []))[1].append(account_id)
    return list(markets.values()), account_refs(s, ids)


def _record(conn: Connection, r: CheckResult) -> None:
    if r.health is None:
        return
    values: dict[str, object] = {"health": r.health, "checked_at": r.checked_at}
    # What a purchase meeting the same answer does to the account (domain.codes).
    status = account_status_after(r.health)
    if status is not None:
        values["status"] = status
    conn.execute(update(A).where(A.id == r.account_id).values(**values))
    if r.health == Health.VALID:
        # A blocked account that logs in again is back in the pool; disabled stays off.
        conn.execute(
            update(A)
            .where(A.id == r.account_id, A.status == AccountStatus.BLOCKED)
            .values(status=AccountStatus.ACTIVE)
        )
