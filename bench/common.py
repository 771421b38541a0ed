"""Helpers shared by the benchmarks: the JSON last line and process memory."""

from __future__ import annotations

import json
import os
from typing import Any

import psutil

from app.core.accounts.admin import upsert_accounts
from app.core.orders.catalog import upsert_marketplace
from app.core.storage.db import Database


def report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid or os.getpid()).memory_info().rss / 2**20


def seed_memory_market(db: Database, accounts: int) -> None:
    """The "bench" marketplace served by the in-memory driver: articles A0..A9, pickup
    point P1, and `accounts` accounts."""
    with db.session() as s:
        mp = upsert_marketplace(
            s,
            code="bench",
            name="Bench",
            base_url="memory://",
            driver="memory",
            articles=[(f"A{i}", f"Article {i}") for i in range(10)],
            pickup_points=[("P1", "Pickup point 1")],
        )
        upsert_accounts(s, mp.id, [(f"acc{i:05d}", "pw") for i in range(accounts)])
        s.commit()
