"""The operator's roster of accounts: adding them from a list (the sandbox's seed) and
taking them in or out of the pool."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.core.domain.codes import AccountStatus
from app.core.domain.models import MarketPlaceAccount
from app.core.support.secrets import PREFIX, get_vault

A = MarketPlaceAccount


def set_enabled(s: Session, ids: list[int], enabled: bool) -> int:
    """Makes the accounts usable by the pool (`active`) or not (`disabled`); returns how
    many changed. A running Task keeps its account until it ends."""
    status = AccountStatus.ACTIVE if enabled else AccountStatus.DISABLED
    result = cast(
        CursorResult,  # what an UPDATE gives
        s.execute(update(A).where(A.id.in_(ids), A.status != status).values(status=status)),
    )
    return result.rowcount


def upsert_accounts(
    s: Session, marketplace_id: int, accounts: Iterable[tuple[str, str]], label: str = ""
) -> int:
    """Adds (login, password) accounts that are missing and refreshes passwords of the
    others; returns how many were added. Passwords are stored encrypted."""
    vault = get_vault()
    have = {a.login: a for a in s.scalars(select(A).where(A.marketplace_id == marketplace_id))}
    added = 0
    for login, password in accounts:
        if login in have:
            stored = have[login].password
            # Re-encrypting an unchanged password would rewrite every row on each seed.
            if not stored.startswith(PREFIX) or vault.decrypt(stored) != password:
                have[login].password = vault.encrypt(password)
        else:
            s.add(
                A(
                    marketplace_id=marketplace_id,
                    login=login,
                    password=vault.encrypt(password),
                    label=label,
                )
            )
            added += 1
    s.flush()
    return added
