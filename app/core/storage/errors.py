"""What a database error means, decided in one place (as qutebrowser's misc/sql.py): the
environment's fault, which the operator can fix (a full disk, a read-only or locked file,
a damaged database, an unreachable server), or a defect of ours."""

from __future__ import annotations

import enum
import errno
import sqlite3

from sqlalchemy.exc import DBAPIError

from app.core.support.errors import KnownError


class Fault(enum.StrEnum):
    DISK_FULL = "disk_full"
    READ_ONLY = "read_only"
    LOCKED = "locked"
    DAMAGED = "damaged"
    UNREACHABLE = "unreachable"
    LOGIN = "login"
    MISSING = "missing"


# What the operator reads, and what to do about it.
ADVICE = {
    Fault.DISK_FULL: "the disk is full; free some space",
    Fault.READ_ONLY: "the database cannot be written (read-only file, folder or disk); "
    "fix its permissions",
    Fault.LOCKED: "another program holds the database locked; close it",
    Fault.DAMAGED: "the database file is damaged; restore it from a backup",
    Fault.UNREACHABLE: "the database server cannot be reached; check the server and the network",
    Fault.LOGIN: "the database server refused the login; check the user and the password",
    Fault.MISSING: "the server has no such database; create it first (README, PostgreSQL)",
}

# SQLite's messages (sqlite3 gives no error codes before Python 3.11's sqlite_errorname,
# and SQLAlchemy wraps them), by the fault they mean.
_SQLITE = (
    ("database or disk is full", Fault.DISK_FULL),
    ("disk i/o error", Fault.DISK_FULL),
    ("readonly database", Fault.READ_ONLY),
    ("read-only", Fault.READ_ONLY),
    ("database is locked", Fault.LOCKED),
    ("database table is locked", Fault.LOCKED),
    ("malformed", Fault.DAMAGED),
    ("file is not a database", Fault.DAMAGED),
    ("unable to open database file", Fault.READ_ONLY),
)
# PostgreSQL's SQLSTATE classes and codes.
_SQLSTATE = {
    "53100": Fault.DISK_FULL,  # disk_full
    "25006": Fault.READ_ONLY,  # read_only_sql_transaction
    "55P03": Fault.LOCKED,  # lock_not_available
    "57P01": Fault.UNREACHABLE,  # admin_shutdown
    "57P02": Fault.UNREACHABLE,  # crash_shutdown
    "57P03": Fault.UNREACHABLE,  # cannot_connect_now
    "XX001": Fault.DAMAGED,  # data_corrupted
    "XX002": Fault.DAMAGED,  # index_corrupted
    "28P01": Fault.LOGIN,  # invalid_password
    "28000": Fault.LOGIN,  # invalid_authorization_specification
    "3D000": Fault.MISSING,  # invalid_catalog_name
}


_ERRNO = {
    errno.ENOSPC: Fault.DISK_FULL,
    errno.EDQUOT: Fault.DISK_FULL,
    errno.EROFS: Fault.READ_ONLY,
    errno.EACCES: Fault.READ_ONLY,
}


class StorageFault(KnownError):
    """The database refused to record what the engine does, for a reason the operator
    can fix: no new purchase may start until it is fixed.

    Attributes:
        fault: which kind of trouble.
        detail: the database's own words.
    """

    def __init__(self, fault: Fault, detail: str):
        self.fault = fault
        self.detail = detail
        self.reason = f"{ADVICE[fault]} ({detail})"
        # Only a damaged file may have lost what it held.
        self._kept = "" if fault is Fault.DAMAGED else " Nothing recorded so far is lost;"
        super().__init__(
            f"The database cannot be used now: {self.reason}.{self._kept} try again once it "
            "is fixed."
        )

    def purchases_stopped(self) -> str:
        """What the engine says when this fault stops its purchases."""
        return (
            f"Purchases stopped: {self.reason}.{self._kept} start the console again once it "
            "is fixed."
        )


def known(exc: BaseException) -> KnownError | None:
    """What the operator can act on in `exc` (a storage fault or another KnownError), or
    None for a defect of ours: what the edges (the command line, the console's start)
    show in one line."""
    return classify(exc) or (exc if isinstance(exc, KnownError) else None)


def classify(exc: BaseException) -> StorageFault | None:
    """The storage fault `exc` is, or None when it is not the environment's doing (a bad
    statement, a broken constraint, anything else: our defect)."""
    if isinstance(exc, StorageFault):
        return exc
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(orig, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
        orig, sqlite3.IntegrityError | sqlite3.ProgrammingError
    ):
        lowered = text.casefold()
        for needle, fault in _SQLITE:
            if needle in lowered:
                return StorageFault(fault, text)
        return None
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _SQLSTATE:
        return StorageFault(_SQLSTATE[sqlstate], text)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return StorageFault(Fault.UNREACHABLE, text)
    if isinstance(sqlstate, str) and sqlstate.startswith("08"):  # connection_exception
        return StorageFault(Fault.UNREACHABLE, text)
    if sqlstate is None and _is_psycopg_operational(orig):  # refused before any answer
        lowered = text.casefold()
        if "password authentication failed" in lowered or (
            "role" in lowered and ("does not exist" in lowered)
        ):
            return StorageFault(Fault.LOGIN, text)
        if "database" in lowered and "does not exist" in lowered:
            return StorageFault(Fault.MISSING, text)
        return StorageFault(Fault.UNREACHABLE, text)
    if isinstance(orig, OSError) and orig.errno in _ERRNO:
        return StorageFault(_ERRNO[orig.errno], text)
    return None


def _is_psycopg_operational(exc: BaseException | None) -> bool:
    # By name: importing psycopg here would load it for every SQLite console at start.
    return any(
        c.__name__ == "OperationalError" and c.__module__.startswith("psycopg")
        for c in type(exc).__mro__
    )
