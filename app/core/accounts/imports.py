"""Taking accounts in from what operators already have (CSV/XLSX lists, Playwright
storage-state files, Chrome/Chromium profile folders): a plan per row first, then one
transaction that writes every accepted row or none."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.domain.models import MarketPlaceAccount
from app.core.storage.markets import MarketIndex
from app.core.storage.workers import this_host
from app.core.support.errors import KnownError
from app.core.support.secrets import get_vault
from app.core.support.tables import (
    EXCEL_SUFFIXES,
    LIST_SUFFIXES,
    Row,
    Unreadable,
    data_rows,
    find_header,
    identifier,
    odd_character,
    read_bytes,
    read_csv,
    read_source,
    read_xlsx,
    shown,
)
from app.core.support.text import Refused

A = MarketPlaceAccount
# Longest values the columns take (the password is stored encrypted, which grows it).
MAX_LENGTHS = {"login": 200, "password": 200, "phone": 50, "label": 200}
# What a text field may hold besides printable characters (see tables.odd_character):
# a password is kept exactly as given, so only control characters keep it out; a label
# may have line breaks (Alt+Enter in an Excel cell).
TEXT_FIELDS: dict[str, dict[str, bool]] = {
    "password": {"invisible": False},
    "phone": {"invisible": False},
    "label": {"invisible": False, "line_breaks": True},
}


class Outcome(enum.StrEnum):
    ADD = "add"
    UPDATE = "update"
    SKIP = "skip"
    REJECT = "reject"


# Header names operators use, normalized (see tables.norm), by the field they fill.
HEADERS: dict[str, str] = {
    name: fieldname
    for fieldname, names in {
        "login": "логин, login, учетная запись, аккаунт, account, user, username, email, e mail",
        "password": "пароль, password, pass, pwd",
        "phone": "телефон, номер телефона, тел, phone, phone number",
        "marketplace": "маркетплейс, площадка, магазин, marketplace, market, shop",
        "label": "метка, примечание, комментарий, label, note, notes, comment",
        "daily_limit": "лимит в день, дневной лимит, лимит, лимит покупок в день, daily limit, "
        "limit, limit per day, per day",
    }.items()
    for name in names.split(", ")
}
# How the fields are called in messages (the operator's header may differ). A profile
# folder's host is part of the profile: the same path on another computer is another one.
FIELD_NAMES = {
    "daily_limit": "daily limit",
    "session_state": "session",
    "profile_dir": "profile",
    "profile_host": "profile",
}


@dataclass
class ImportRow:
    """One row of a list, or one file or folder, and what the import does with it.

    Attributes:
        source: the file or folder it came from.
        where: "row 5" in a list, "" for a file or folder.
        login, marketplace: the account (the marketplace's code when known).
        outcome, reason: what happens, and why for skip and reject (naming the field).
        changes: the fields an update changes (names only).
        values: the account's new values by column, secrets still in plain text; never
            shown or reported.
        marketplace_id, account_id: where it goes (account_id: the stored account updated).
    """

    source: str
    where: str
    login: str
    marketplace: str
    outcome: Outcome
    reason: str = ""
    changes: tuple[str, ...] = ()
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    marketplace_id: int | None = None
    account_id: int | None = None

    @property
    def place(self) -> str:
        return f"{self.source}, {self.where}" if self.where else self.source

    def report(self) -> dict[str, Any]:
        """The row for the JSON report: everything but the values."""
        return {
            "source": self.source,
            "where": self.where,
            "login": self.login,
            "marketplace": self.marketplace,
            "outcome": str(self.outcome),
            "reason": self.reason,
            "changes": list(self.changes),
        }


@dataclass
class ImportPlan:
    """What an import would do, row by row; nothing is written until `apply_import`.

    Attributes:
        path: the file or folder read.
        kind: "csv", "xlsx", "storage states" or "profiles".
        rows: one per row, file or folder, in source order.
        notes: what the operator should know about the reading (encoding, separator,
            columns that were not used).
    """

    path: Path
    kind: str
    rows: list[ImportRow]
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {str(o): 0 for o in Outcome}
        for row in self.rows:
            counts[str(row.outcome)] += 1
        return counts

    def accepted(self) -> list[ImportRow]:
        return [r for r in self.rows if r.outcome in (Outcome.ADD, Outcome.UPDATE)]

    def report(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "counts": self.counts(),
            "notes": self.notes,
            "rows": [r.report() for r in self.rows],
        }


# -- reading files --------------------------------------------------------------------


def is_profile(folder: Path) -> bool:
    """A Chrome/Chromium user-data-dir (a browser profile folder)."""
    return (folder / "Local State").is_file() or (folder / "Default" / "Preferences").is_file()


# -- planning -------------------------------------------------------------------------


# What a row may change, read back to tell an update from a repeat.
_COMPARED = (
    A.id,
    A.password,
    A.phone,
    A.label,
    A.daily_limit,
    A.session_state,
    A.profile_dir,
    A.profile_host,
)


class _Planner:
    """Decides each row's outcome against what is stored and what earlier rows of the
    same import already planned."""

    def __init__(self, s: Session, path: Path, default_marketplace: str):
        self.s = s
        self.path = path
        self.default_marketplace = default_marketplace
        self.markets = MarketIndex.load(s)  # by code, name or alias ("WB", "Вайлдберриз")
        self.state: dict[tuple[int, str], dict[str, Any]] = {}  # stored, then as planned
        self.seen: dict[tuple[int, str, str], str] = {}  # (mp, login, kind) → where first
        self.rows: list[ImportRow] = []

    def source(self, path: Path) -> str:
        return str(path.relative_to(self.path)) if path != self.path else path.name

    def reject(self, path: Path, where: str, login: str, reason: str) -> None:
        self.rows.append(ImportRow(self.source(path), where, login, "", Outcome.REJECT, reason))

    def add(
        self,
        path: Path,
        where: str,
        kind: str,
        login: str,
        marketplace: str,
        values: dict[str, Any],
    ) -> None:
        """Plans one account's row: `values` are the fields the row gives (not empty).
        The login is normalized (NFKC) before it is compared with others, and one with
        characters that would make a look-alike of another login is rejected."""
        source = self.source(path)
        login = identifier(login)
        if not login:
            self.reject(path, where, "", "field 'login' is empty; fill in the account's login")
            return
        problem = odd_character(login, invisible=True)
        if problem:
            self.reject(path, where, shown(login), f"field 'login' {problem}")
            return
        for name, rules in TEXT_FIELDS.items():
            problem = odd_character(values[name], **rules) if name in values else None
            if problem:
                self.reject(path, where, login, f"field '{name}' {problem}")
                return
        for name, value in [("login", login), *values.items()]:
            limit = MAX_LENGTHS.get(name)
            if limit and len(value) > limit:
                self.reject(path, where, login, f"field '{name}' is longer than {limit} characters")
                return
        given = identifier(marketplace) or self.default_marketplace
        problem = odd_character(given, invisible=True)
        if problem:
            self.reject(path, where, login, f"field 'marketplace' {problem}")
            return
        try:
            market = self.markets.get(given)
        except Refused as exc:
            self.reject(path, where, login, f"field 'marketplace': {exc}")
            return
        mp_id, code = market.id, market.code
        row = ImportRow(source, where, login, code, Outcome.ADD, marketplace_id=mp_id)
        key = (mp_id, login)
        first = self.seen.setdefault((mp_id, login, kind), where or source)
        if first != (where or source):
            row.outcome, row.reason = Outcome.SKIP, f"duplicate of {first} (same login)"
            self.rows.append(row)
            return
        current = self._current(key)
        if current is None:
            if not {"password", "session_state", "profile_dir"} & values.keys():
                row.outcome = Outcome.REJECT
                row.reason = "field 'password' is empty; a new account needs a password"
            else:
                row.values = values
                self.state[key] = dict(values)
            self.rows.append(row)
            return
        row.account_id = current.get("id")
        changes = tuple(k for k, v in values.items() if current.get(k) != v)
        if not changes:
            row.outcome, row.reason = Outcome.SKIP, "already stored with the same values"
        else:
            named = dict.fromkeys(FIELD_NAMES.get(c, c) for c in changes)  # each name once
            row.outcome, row.changes = Outcome.UPDATE, tuple(named)
            row.values = {k: values[k] for k in changes}
            current.update(row.values)
        self.rows.append(row)

    def _current(self, key: tuple[int, str]) -> dict[str, Any] | None:
        if key not in self.state:
            stored = self.s.execute(
                select(*_COMPARED).where(A.marketplace_id == key[0], A.login == key[1])
            ).first()
            if stored is None:
                return None
            current = dict(stored._mapping)
            # Secrets in the form rows give them, so that equal values compare equal.
            try:
                current["password"] = get_vault().decrypt(current["password"])
                state = get_vault().decrypt(current["session_state"])
                current["session_state"] = json.loads(state) if state else None
            except KnownError:
                pass  # a secret this key cannot read compares unequal: the import replaces it
            self.state[key] = current
        return self.state[key]


def _list_rows(planner: _Planner, path: Path, rows: Iterator[Row], notes: list[str]) -> None:
    header = find_header(rows, HEADERS, notes, required=("login",))
    if header is None:
        raise KnownError(f"{path}: the list has no rows; nothing was imported.")
    if header.missing:
        planner.reject(
            path,
            f"row {header.row} (header)",
            "",
            "no login column: name the accounts' column 'Логин' or 'login' "
            f"(the header has: {header.has()})",
        )
        return
    columns = header.columns
    for n, cells in data_rows(rows, [columns["login"]], notes):
        get = {f: (cells[i].strip() if i < len(cells) else "") for f, i in columns.items()}
        values: dict[str, Any] = {k: get[k] for k in ("password", "phone", "label") if get.get(k)}
        limit = get.get("daily_limit", "")
        if limit:
            if not limit.isdigit():
                planner.reject(
                    path,
                    f"row {n}",
                    get["login"],
                    f"field 'daily limit': '{limit}' is not a whole number of purchases "
                    "(leave it empty for no limit)",
                )
                continue
            values["daily_limit"] = int(limit)
        planner.add(path, f"row {n}", "list", get["login"], get.get("marketplace", ""), values)


def _storage_state_row(planner: _Planner, path: Path, content: bytes) -> None:
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        planner.reject(path, "", path.stem, "not a UTF-8 text file; save it as UTF-8 JSON")
        return
    except json.JSONDecodeError as exc:
        planner.reject(
            path, "", path.stem, f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        )
        return
    if not isinstance(data, dict) or not isinstance(data.get("cookies"), list):
        planner.reject(path, "", path.stem, "not a Playwright storage state (no 'cookies' list)")
        return
    login = str(data.get("login") or path.stem)
    # Only what Playwright takes back: the login and marketplace keys are ours.
    state = {"cookies": data["cookies"], "origins": data.get("origins") or []}
    planner.add(
        path, "", "session", login, str(data.get("marketplace") or ""), {"session_state": state}
    )


def _profile_row(planner: _Planner, folder: Path) -> None:
    # A folder is a path on this computer: the host is kept with it, so that another
    # workstation sharing the database does not take the path for one of its own.
    profile = {"profile_dir": str(folder.resolve()), "profile_host": this_host()}
    planner.add(folder, "", "profile", folder.name, "", profile)


def _plan_folder(planner: _Planner, folder: Path, notes: list[str]) -> str:
    """A profile folder, or a folder of storage-state files and profile folders (each
    one account; one that cannot be read is rejected, the others still planned)."""
    if is_profile(folder):
        _profile_row(planner, folder)
        return "profiles"
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except OSError as exc:
        raise KnownError(f"{folder}: cannot read the folder ({exc.strerror}).") from None
    kinds: set[str] = set()
    ignored: list[str] = []
    for entry in entries:
        if entry.is_file() and entry.suffix.casefold() == ".json":
            kinds.add("storage states")
            try:
                content = read_bytes(entry)
            except Unreadable as exc:
                planner.reject(entry, "", entry.stem, exc.reason)
                continue
            _storage_state_row(planner, entry, content)
        elif entry.is_dir() and is_profile(entry):
            kinds.add("profiles")
            _profile_row(planner, entry)
        else:
            ignored.append(entry.name)
    if not kinds:
        raise KnownError(
            f"{folder}: found no storage-state .json files or browser profile folders; "
            "nothing was imported."
        )
    if ignored:
        more = " …" if len(ignored) > 10 else ""
        notes.append("not account files, left out: " + ", ".join(ignored[:10]) + more)
    return " and ".join(sorted(kinds))


def plan_import(s: Session, path: str | Path, *, default_marketplace: str) -> ImportPlan:
    """Reads a list, a storage-state file, a browser profile folder or a folder of those
    and plans each row against the database; writes nothing. Raises KnownError for a
    source that cannot be read at all (missing, empty, binary, over a limit of tables.py,
    an encoding that cannot be told, unknown type)."""
    path = Path(path)
    if not path.exists():
        raise KnownError(f"{path}: no such file or folder.")
    planner = _Planner(s, path, default_marketplace)
    notes: list[str] = []
    suffix = path.suffix.casefold()
    if path.is_dir():
        kind = _plan_folder(planner, path, notes)
    elif suffix == ".json":
        kind = "storage states"
        _storage_state_row(planner, path, read_source(path))
    elif suffix in LIST_SUFFIXES:
        kind = "csv"
        _list_rows(planner, path, read_csv(path, notes), notes)
    elif suffix in EXCEL_SUFFIXES:
        kind = "xlsx"
        _list_rows(planner, path, read_xlsx(path, notes), notes)
    else:
        raise KnownError(
            f"{path}: cannot import '{path.suffix or path.name}' files. Give a CSV or XLSX "
            "list, a storage-state .json, a browser profile folder, or a folder of those."
        )
    return ImportPlan(path, kind, planner.rows, notes)


# -- applying -------------------------------------------------------------------------


def _stored_form(values: dict[str, Any]) -> dict[str, Any]:
    vault = get_vault()
    out = dict(values)
    if "password" in out:
        out["password"] = vault.encrypt(out["password"])
    if "session_state" in out:
        out["session_state"] = vault.encrypt(json.dumps(out["session_state"]))
    return out


def apply_import(conn: Session | Connection, plan: ImportPlan) -> dict[str, int]:
    """Writes the plan's accepted rows inside the caller's transaction (commit it after;
    on an error roll it back: nothing is half-written). Secrets are stored encrypted.
    Returns the plan's counts by outcome."""
    new_ids: dict[tuple[int | None, str], int] = {}
    for row in plan.accepted():
        values = _stored_form(row.values)
        key = (row.marketplace_id, row.login)
        account_id = row.account_id or new_ids.get(key)
        try:
            if account_id is None:
                result = cast(
                    CursorResult,  # what an INSERT gives, from a Session too
                    conn.execute(
                        insert(A).values(
                            marketplace_id=row.marketplace_id, login=row.login, **values
                        )
                    ),
                )
                inserted = result.inserted_primary_key
                assert inserted is not None  # one row inserted: it has its primary key
                new_ids[key] = inserted[0]
                continue
            changed: CursorResult | None = cast(
                CursorResult,  # what an UPDATE gives, from a Session too
                conn.execute(update(A).where(A.id == account_id).values(**values)),
            )
        except IntegrityError:
            changed = None
        if changed is None or changed.rowcount != 1:
            raise KnownError(
                f"{row.place}: account {row.login} changed while the import was previewed "
                "(another console added or removed it); nothing was imported. Preview again."
            )
    return plan.counts()
