"""The secrets key checked at start against the secrets it protects (a lost or foreign key
is an error), and a team's key exported from one workstation and imported on the others."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.models import MarketPlaceAccount, SecretCheck
from app.core.storage.db import Database, display_url
from app.core.support.errors import KnownError
from app.core.support.paths import APP_NAME
from app.core.support.secrets import (
    KEY_FILE_ENV,
    KEY_NAME,
    PREFIX,
    Vault,
    get_vault,
    key_place,
    unseal,
)

log = logging.getLogger(__name__)

A = MarketPlaceAccount
CHECK_ID = 1  # the one row
CHECK_TEXT = "Buyback console: the key of this database's secrets"


class KeyMismatch(KnownError):
    """The key in use does not open this database's secrets: it was lost and a new one
    made in its place, or it belongs to another computer. Nothing was read or written.

    Attributes:
        source: where the key was looked for, "keyring" or the key file's path.
    """

    def __init__(self, source: str):
        self.source = source
        super().__init__(_mismatch_message(source))


class Fit(enum.Enum):
    """How a key fits a database's secrets."""

    OPENS = "opens"  # the database's check opens with it
    FIRST = "first"  # no check yet, and any secrets open with it: it becomes the key
    TAKES_OVER = "takes over"  # one PC's database whose check is another key's, no secrets
    MISMATCH = "mismatch"  # secrets or (on a shared server) the check are another key's


def fit(s: Session, vault: Vault) -> Fit:
    """How `vault`'s key fits the secrets of the database `s` reads (see Fit)."""
    row = s.get(SecretCheck, CHECK_ID)
    if row is not None and vault.can_decrypt(row.token):
        return Fit.OPENS
    secret = _newest_secret(s)
    if secret is not None and (row is not None or not vault.can_decrypt(secret)):
        return Fit.MISMATCH
    if row is None:
        return Fit.FIRST
    # Nothing is encrypted yet. On one PC's file, a key made anew in place of a lost one
    # loses nothing. On a shared server another workstation set the database up with its
    # key and may be importing accounts with it this minute: a second key taking over
    # would leave the pool's secrets split between two keys.
    if s.get_bind().dialect.name != "sqlite":
        return Fit.MISMATCH
    return Fit.TAKES_OVER


def check_key(db: Database) -> None:
    """Checks the secrets key against `db` before anything is encrypted or decrypted with
    it, and stores the check value where there is none yet.

    Raises KeyMismatch if the key does not open what it should protect, and KnownError if
    the key cannot be loaded (an unreadable or damaged key file)."""
    vault = get_vault()
    with db.reading() as s:
        token = s.scalar(select(SecretCheck.token).where(SecretCheck.id == CHECK_ID))
    if token is not None and vault.can_decrypt(token):
        return
    try:
        _store_check(db, vault)
    except IntegrityError:  # another process stored it meanwhile (PostgreSQL): verify that
        check_key(db)


def _store_check(db: Database, vault: Vault) -> None:
    with db.session() as s:
        # Read again under the write lock: another console may have stored it meanwhile.
        verdict = fit(s, vault)
        if verdict is Fit.OPENS:
            return
        if verdict is Fit.MISMATCH:
            raise KeyMismatch(vault.source)
        if verdict is Fit.FIRST:
            # A new database, or one from before the check: its newest secret (if any)
            # opened with this key.
            s.add(SecretCheck(id=CHECK_ID, token=vault.encrypt(CHECK_TEXT)))
        else:
            # The key changed but nothing was ever encrypted with the old one: nothing to
            # lose, so the new key takes over.
            log.warning("the secrets key changed; no secrets were stored, the new key is used")
            row = s.get_one(SecretCheck, CHECK_ID)
            row.token = vault.encrypt(CHECK_TEXT)
            row.created_at = utcnow()
        s.commit()


def _newest_secret(s: Session) -> str | None:
    """An encrypted password or session from the most recently added account holding one;
    None if the database holds no secrets (plain values from before encryption are not)."""
    encrypted = (A.password.startswith(PREFIX), A.session_state.startswith(PREFIX))
    row = s.execute(
        select(A.password, A.session_state).where(or_(*encrypted)).order_by(A.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return row.password if row.password.startswith(PREFIX) else row.session_state


def _mismatch_message(source: str) -> str:
    if source == "keyring":
        where = f"the key in the OS keyring ({APP_NAME} / {KEY_NAME})"
        restore = (
            f"point ${KEY_FILE_ENV} to the backed-up key file, or put the original key back "
            "in the keyring"
        )
    else:
        where = f"the key file {source}"
        restore = (
            f"put the backed-up key file back at {source} (replacing the one there now), or "
            f"point ${KEY_FILE_ENV} to the backed-up file"
        )
    return (
        "The key that encrypts account passwords and sessions is not the one this database "
        f"was written with: {where} does not open the stored secrets. On a team's shared "
        "database, import the team's key with main.py key import FILE (a file made on a "
        "workstation that opens it, with main.py key export FILE). On one computer, the "
        "original key was missing and a new one was made in its place, or the database "
        f"comes from another computer: restore the original key ({restore}), then start "
        "again. Nothing was changed."
    )


def open_database(url: str | None) -> Database:
    """The database at `url`, once the key checks out against the secrets it holds: what
    every command that may touch account secrets (the engine, account commands, the
    console) opens."""
    db = Database(url)
    try:
        check_key(db)
    except BaseException:
        db.close()
        raise
    return db


@dataclass(frozen=True)
class KeyImport:
    """What `import_key` did.

    Attributes:
        source: where this computer keeps the key now, "keyring" or the key file's path.
        changed: False when this computer already had that key.
        kept: where the key it replaced was kept (None if there was none, or the same).
        readable: whether the database's secrets open with the key now (False only when
            forced over this computer's own secrets).
    """

    source: str
    changed: bool
    kept: Path | None
    readable: bool


def import_key(
    db: Database, content: bytes, passphrase: str, file: str, *, force: bool
) -> KeyImport:
    """Puts the team's key from an export file's `content` where this computer keeps its
    key, once it opens `db`'s secrets. A key it replaces is first copied to a private file
    beside it (no secret written with it is lost). Refused, with nothing changed: a wrong
    passphrase (WrongPassphrase), a key that is not `db`'s, and, unless `force`, one over
    this computer's own key while `db`'s secrets are written with that one."""
    key = unseal(content, passphrase, file)
    new = Vault(key, file)
    place = key_place()
    old = place.read()
    with db.reading() as s:
        verdict = fit(s, new)
        own = verdict is Fit.MISMATCH and old is not None and _opens_secrets(s, old, place.source)
    where = display_url(db.url)
    if verdict is Fit.MISMATCH and not own:
        raise KnownError(
            f"The key in {file} does not open the account secrets of the database {where}: "
            "it is another database's key. Export the key on a workstation whose console "
            "opens this database, or give the team's database with --db. Nothing was changed."
        )
    if own and not force:
        raise KnownError(
            f"The account secrets of the database {where} are written with this computer's "
            f"own key ({place.source}), which the key in {file} does not open: importing it "
            "would leave them unreadable here. If the team's database is another one, give "
            "it with --db. To replace this computer's key anyway, add --force (it is first "
            "copied beside the key). Nothing was changed."
        )
    changed = old is None or old != key
    kept = place.keep_copy(old) if old is not None and changed else None
    if changed:
        place.write(key)
        log.info("imported the secrets key from %s into %s", file, place.source)
    get_vault.cache_clear()
    if not own:
        check_key(db)  # records the check in a database that has none yet
    return KeyImport(place.source, changed, kept, readable=not own)


def _opens_secrets(s: Session, key: bytes, source: str) -> bool:
    """Whether `key` opens the database's newest secret (a damaged key opens none)."""
    secret = _newest_secret(s)
    if secret is None:
        return False
    try:
        return Vault(key, source).can_decrypt(secret)
    except KnownError:
        return False
