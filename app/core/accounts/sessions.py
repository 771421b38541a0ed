"""Each account's browser session (Playwright storage state), kept encrypted in the
console's database between Tasks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import update

from app.core.domain.models import MarketPlaceAccount
from app.core.storage.db import Database
from app.core.support.secrets import get_vault

if TYPE_CHECKING:  # Playwright is loaded only by the drivers that drive a browser
    from playwright.async_api import StorageState

A = MarketPlaceAccount


class DbSessionStore:
    """Keeps each account's Playwright storage state in the console's database, encrypted
    (its cookies log the account in)."""

    def __init__(self, db: Database):
        self._db = db

    async def load(self, account_id: int) -> StorageState | None:
        text = await self._db.read(lambda s: s.get_one(A, account_id).session_state)
        return json.loads(get_vault().decrypt(text)) if text else None

    async def save(self, account_id: int, state: StorageState | None) -> None:
        text = get_vault().encrypt(json.dumps(state)) if state is not None else None
        await self._db.write(
            lambda c: c.execute(update(A).where(A.id == account_id).values(session_state=text))
        )
