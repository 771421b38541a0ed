"""The demo's wiring, above both the engine and the bundled sandbox shop: starting and
seeding the shop, and the sample Order (the demo, the selftest, the screenshots)."""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from app.core.accounts.admin import upsert_accounts
from app.core.domain.states import UnitRule
from app.core.orders.catalog import upsert_marketplace
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.support.errors import KnownError
from app.core.support.paths import data_dir
from app.sandbox import seed
from app.sandbox.server import SandboxOptions, SandboxServer

# The sample Order spreads its units over this many Articles.
DEMO_LINES = 3
# The bundled shop stocks each Article DEFAULT_STOCK times, so it sells at most this many
# units of the sample Order: more demo accounts than that would never buy anything.
MAX_DEMO_ACCOUNTS = DEMO_LINES * seed.DEFAULT_STOCK


def demo_db_path() -> Path:
    """The demo's own database, apart from the operator's."""
    return data_dir() / "demo.sqlite3"


def fresh_demo_db() -> str:
    """The demo's own database, emptied: each demo shows its one sample Order, not those
    of earlier runs (nor Orders an earlier crash left queued, which would run first)."""
    path = demo_db_path()
    # A stale -wal or -journal beside a new file would be replayed into it.
    for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            file.unlink(missing_ok=True)
        except OSError as exc:
            raise KnownError(
                f"cannot remove the previous demo database {file}: "
                f"{exc.strerror or exc}; close the console showing the demo, or delete the file"
            ) from exc
    return os.fspath(path)


def demo_accounts_for(units: int, accounts: int | None) -> int:
    """The demo accounts to seed: as many as the operator gave, else one per unit (the
    sample Order buys one unit per account), at most MAX_DEMO_ACCOUNTS."""
    return accounts if accounts is not None else min(units, MAX_DEMO_ACCOUNTS)


def start_sandbox(stack: ExitStack, accounts: int, delivery_seconds: float = 30.0) -> str:
    """The bundled shop on its own thread with a fresh ledger, for the demo and the
    selftest; `stack` stops it and removes the ledger."""
    ledger = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "ledger.sqlite3"
    server = SandboxServer(
        ledger, SandboxOptions(accounts=accounts, delivery_seconds=delivery_seconds)
    )
    url = server.start_in_thread()
    stack.callback(server.stop_thread)
    return url


# The sandbox again, as a marketplace where a person buys: to practise the To buy view.
PRACTICE_CODE = "practice"


def seed_sandbox(db: Database, base_url: str, accounts: int, *, practice: bool = False) -> int:
    """Registers the bundled sandbox marketplace at `base_url` with its catalog, pickup
    points and the first `accounts` demo buyer accounts; returns the marketplace id.
    With `practice`, registers it a second time as a marketplace where a person buys
    ("Sandbox practice"): its units wait in the To buy view for the operator."""
    code, name, kind = (
        (PRACTICE_CODE, "Sandbox practice", "assisted")
        if practice
        else (seed.MARKETPLACE_CODE, seed.MARKETPLACE_NAME, "sandbox")
    )
    with db.session() as s:
        mp = upsert_marketplace(
            s,
            code=code,
            name=name,
            base_url=base_url,
            driver=kind,
            articles=[(a.sku, a.title) for a in seed.ARTICLES],
            pickup_points=[(p.code, p.address) for p in seed.PICKUP_POINTS],
        )
        upsert_accounts(
            s, mp.id, [(a.login, a.password) for a in seed.demo_accounts(accounts)], "demo"
        )
        s.commit()
        return mp.id


def prepare_demo(
    stack: ExitStack,
    db: Database,
    *,
    accounts: int,
    marketplace_url: str | None,
    practice: bool = False,
) -> str:
    """The demo's shop (the one at `marketplace_url`, else a fresh one that `stack`
    stops) seeded into `db` with `accounts` demo accounts (and, with `practice`, again
    as a marketplace where a person buys); returns its address."""
    url = (marketplace_url or start_sandbox(stack, accounts)).rstrip("/")
    seed_sandbox(db, url, accounts)
    if practice:
        seed_sandbox(db, url, accounts, practice=True)
    return url


def demo_order(units: int, marketplace: str = seed.MARKETPLACE_CODE) -> OrderSpec:
    """The sample Order: the units spread over up to three lines (Articles and pickup
    points), each with a price cap a little above the shop's price."""
    n_lines = min(DEMO_LINES, units)
    lines = []
    for i in range(n_lines):
        qty = units // n_lines + (1 if i < units % n_lines else 0)
        article = seed.ARTICLES[i]
        cap = article.price_minor * 12 // 10
        lines.append(
            LineSpec(article.sku, qty, seed.PICKUP_POINTS[i].code, f"{cap // 100}.{cap % 100:02d}")
        )
    # Every unit by a different account, so that the demo shows the pool at work.
    return OrderSpec("Demo client", marketplace, lines, unit_rule=UnitRule.PER_ORDER)
