"""The secrets key checked at start against the secrets it protects: a lost key is an error."""

from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.models import MarketPlaceAccount, SecretCheck
from app.core.storage.db import Database
from app.core.support.errors import KnownError
from app.core.support.paths import APP_NAME
from app.core.support.secrets import KEY_FILE_ENV, KEY_NAME, PREFIX, Vault, get_vault

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
        row = s.get(SecretCheck, CHECK_ID)
        if row is not None and vault.can_decrypt(row.token):
            return
        secret = _newest_secret(s)
        if secret is not None and (row is not None or not vault.can_decrypt(secret)):
            raise KeyMismatch(vault.source)
        if row is None:
            # A new database, or one from before the check: its newest secret (if any)
            # opened with this key.
            s.add(SecretCheck(id=CHECK_ID, token=vault.encrypt(CHECK_TEXT)))
        else:
            # The key changed but nothing was ever encrypted with the old one: nothing to
            # lose, so the new key takes over.
            log.warning("the secrets key changed; no secrets were stored, the new key is used")
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
        f"was written with: {where} does not open the stored secrets. If the original key "
        "was missing, a new one was made in its place; or the database comes from another "
        f"computer. Restore the original key: {restore}, then start again. "
        "Nothing was changed."
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
