"""The sandbox shop's own SQLite ledger: accounts, products, sessions, carts and placed orders."""

from __future__ import annotations

import enum
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.sandbox import seed

# Bumped whenever the schema below changes; a ledger written by newer code is refused.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE accounts (
    login TEXT PRIMARY KEY,
    password TEXT NOT NULL,
    blocked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
    stock INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE TABLE sessions (
    token TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES accounts(login),
    created_at TEXT NOT NULL
);
CREATE TABLE carts (
    login TEXT NOT NULL REFERENCES accounts(login),
    sku TEXT NOT NULL REFERENCES products(sku),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL,
    PRIMARY KEY (login, sku)
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL UNIQUE,
    login TEXT NOT NULL REFERENCES accounts(login),
    sku TEXT NOT NULL REFERENCES products(sku),
    quantity INTEGER NOT NULL,
    pickup_point TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    placed_at TEXT NOT NULL
);
CREATE INDEX orders_by_login ON orders (login, id);
CREATE TABLE logins (
    login TEXT PRIMARY KEY REFERENCES accounts(login),
    count INTEGER NOT NULL
);
"""


class LedgerError(Exception):
    """The ledger file cannot be used (e.g. written by a newer version of the shop)."""


class OutOfStock(Exception):
    """A cart line asks for more units than the shop has; nothing was ordered."""

    def __init__(self, sku: str, title: str):
        super().__init__(f"{sku} {title} is out of stock")
        self.sku = sku
        self.title = title


class EmptyCart(Exception):
    """Checkout was asked for an empty cart."""


class LoginResult(enum.Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price_minor: int
    stock: int


@dataclass(frozen=True)
class CartLine:
    sku: str
    title: str
    quantity: int
    unit_price_minor: int

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True)
class LedgerOrder:
    """One placed order: one cart line; `price_minor` is what was paid for all its units."""

    order_number: str
    login: str
    sku: str
    title: str
    quantity: int
    pickup_point: str
    price_minor: int
    placed_at: datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """One connection to the ledger file, safe to share between threads (calls are serialized).

    Opening a new file creates the schema; opening an existing one keeps its data, so a
    restarted shop remembers its orders. Call `seed()` to add the demo catalog and accounts.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        # Autocommit mode: every write below opens its own explicit transaction.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        # WAL lets tests and the admin view read while the shop writes; NORMAL is durable
        # enough for a demo shop (a power cut may lose the last commit, never corrupts).
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self._conn.close()
            raise LedgerError(
                f"The sandbox ledger {self.path} was written by a newer version (schema "
                f"{version}, this code knows {SCHEMA_VERSION}); update the console or use "
                "another --ledger file."
            )
        if version == 0:
            # executescript() manages no transaction of ours, so the script carries its own.
            with self._lock:
                self._conn.executescript(
                    f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so check-then-write (stock) cannot race.
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- setup ---------------------------------------------------------------------------

    def seed(self, accounts: int = 50, stock: int | None = None) -> None:
        """Add missing demo products and the first `accounts` demo buyers; existing rows
        keep their state. `stock`, when given, sets every product's stock (0 = sold out)."""
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO products (sku, title, price_minor, stock) VALUES (?,?,?,?)",
                [(a.sku, a.title, a.price_minor, a.stock) for a in seed.ARTICLES],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO accounts (login, password) VALUES (?, ?)",
                [(a.login, a.password) for a in seed.demo_accounts(accounts)],
            )
            if stock is not None:
                conn.execute("UPDATE products SET stock = ?", (stock,))

    def set_product(
        self, sku: str, *, stock: int | None = None, price_minor: int | None = None
    ) -> Product | None:
        with self._transaction() as conn:
            if stock is not None:
                conn.execute("UPDATE products SET stock = ? WHERE sku = ?", (stock, sku))
            if price_minor is not None:
                conn.execute(
                    "UPDATE products SET price_minor = ? WHERE sku = ?", (price_minor, sku)
                )
        return self.product(sku)

    def set_blocked(self, login: str, blocked: bool) -> bool:
        """Block or unblock an account; False when there is no such account."""
        with self._transaction() as conn:
            cur = conn.execute(
                "UPDATE accounts SET blocked = ? WHERE login = ?", (int(blocked), login)
            )
            return cur.rowcount == 1

    # -- accounts and sessions -----------------------------------------------------------

    def check_login(self, login: str, password: str) -> LoginResult:
        rows = self._query("SELECT password, blocked FROM accounts WHERE login = ?", (login,))
        if not rows or not secrets.compare_digest(rows[0]["password"], password):
            return LoginResult.BAD_CREDENTIALS
        return LoginResult.BLOCKED if rows[0]["blocked"] else LoginResult.OK

    def create_session(self, login: str) -> str:
        """A new session token for `login`, counted in the logins statistics."""
        token = secrets.token_urlsafe(24)
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (token, login, created_at) VALUES (?, ?, ?)",
                (token, login, utc_now().isoformat()),
            )
            conn.execute(
                "INSERT INTO logins (login, count) VALUES (?, 1) "
                "ON CONFLICT (login) DO UPDATE SET count = count + 1",
                (login,),
            )
        return token

    def session_account(self, token: str) -> tuple[str, bool] | None:
        """(login, blocked) of the session's account, or None for an unknown session."""
        rows = self._query(
            "SELECT a.login, a.blocked FROM sessions s JOIN accounts a USING (login) "
            "WHERE s.token = ?",
            (token,),
        )
        return (rows[0]["login"], bool(rows[0]["blocked"])) if rows else None

    def delete_session(self, token: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE token = ?", (token,))

    def login_counts(self) -> dict[str, int]:
        return {r["login"]: r["count"] for r in self._query("SELECT login, count FROM logins")}

    # -- catalog and cart ----------------------------------------------------------------

    def products(self) -> list[Product]:
        return [Product(**r) for r in self._query("SELECT * FROM products ORDER BY sku")]

    def product(self, sku: str) -> Product | None:
        rows = self._query("SELECT * FROM products WHERE sku = ?", (sku,))
        return Product(**rows[0]) if rows else None

    def cart(self, login: str) -> list[CartLine]:
        rows = self._query(
            "SELECT c.sku, p.title, c.quantity, c.unit_price_minor FROM carts c "
            "JOIN products p USING (sku) WHERE c.login = ? ORDER BY c.sku",
            (login,),
        )
        return [CartLine(**r) for r in rows]

    def add_to_cart(self, login: str, sku: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO carts (login, sku, quantity, unit_price_minor) "
                "SELECT ?, sku, 1, price_minor FROM products WHERE sku = ? "
                "ON CONFLICT (login, sku) DO UPDATE SET quantity = quantity + 1",
                (login, sku),
            )

    def clear_cart(self, login: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM carts WHERE login = ?", (login,))

    def quote_cart(self, login: str, price_factor: float = 1.0) -> list[CartLine]:
        """Fix each cart line's unit price at the current price × `price_factor`: what the
        checkout page shows is what the order will cost."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE carts SET unit_price_minor = (SELECT CAST(ROUND(p.price_minor * ?)"
                " AS INTEGER) FROM products p WHERE p.sku = carts.sku) WHERE login = ?",
                (price_factor, login),
            )
        return self.cart(login)

    # -- orders --------------------------------------------------------------------------

    def place_orders(self, login: str, pickup_point: str) -> list[str]:
        """Turn the cart into orders (one per line) at the quoted prices, in one transaction:
        check stock, decrement it, insert the orders, clear the cart. Returns the numbers.

        Raises OutOfStock or EmptyCart, in which case nothing changed."""
        placed_at = utc_now().isoformat()
        numbers = []
        with self._transaction() as conn:
            lines = conn.execute(
                "SELECT c.sku, c.quantity, c.unit_price_minor, p.title, p.stock FROM carts c "
                "JOIN products p USING (sku) WHERE c.login = ? ORDER BY c.sku",
                (login,),
            ).fetchall()
            if not lines:
                raise EmptyCart()
            for line in lines:
                if line["stock"] < line["quantity"]:
                    raise OutOfStock(line["sku"], line["title"])
                conn.execute(
                    "UPDATE products SET stock = stock - ? WHERE sku = ?",
                    (line["quantity"], line["sku"]),
                )
                number = self._new_order_number(conn)
                conn.execute(
                    "INSERT INTO orders (order_number, login, sku, quantity, pickup_point,"
                    " price_minor, placed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        number,
                        login,
                        line["sku"],
                        line["quantity"],
                        pickup_point,
                        line["quantity"] * line["unit_price_minor"],
                        placed_at,
                    ),
                )
                numbers.append(number)
            conn.execute("DELETE FROM carts WHERE login = ?", (login,))
        return numbers

    @staticmethod
    def _new_order_number(conn: sqlite3.Connection) -> str:
        # Random rather than sequential, like a real shop's: numbers leak nothing and a
        # driver cannot guess them.
        while True:
            number = f"SB-{10_000_000 + secrets.randbelow(90_000_000)}"
            if not conn.execute(
                "SELECT 1 FROM orders WHERE order_number = ?", (number,)
            ).fetchone():
                return number

    def orders(self, login: str | None = None) -> list[LedgerOrder]:
        """Placed orders, newest first; only `login`'s when given."""
        if login is None:
            rows = self._query(f"{_ORDER_SELECT} ORDER BY o.id DESC")
        else:
            rows = self._query(f"{_ORDER_SELECT} WHERE o.login = ? ORDER BY o.id DESC", (login,))
        return [_order(r) for r in rows]

    def order(self, order_number: str) -> LedgerOrder | None:
        rows = self._query(f"{_ORDER_SELECT} WHERE o.order_number = ?", (order_number,))
        return _order(rows[0]) if rows else None

    def order_count(self) -> int:
        return self._query("SELECT COUNT(*) FROM orders")[0][0]


_ORDER_SELECT = (
    "SELECT o.order_number, o.login, o.sku, p.title, o.quantity, o.pickup_point, o.price_minor,"
    " o.placed_at FROM orders o JOIN products p USING (sku)"
)


def _order(row: sqlite3.Row) -> LedgerOrder:
    return LedgerOrder(**{**dict(row), "placed_at": datetime.fromisoformat(row["placed_at"])})
