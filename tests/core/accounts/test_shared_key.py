"""A team's workstations share one secrets key on one database (a PostgreSQL server, or
a SQLite file): the key sealed with a passphrase on the first, imported on the others,
after which each reads what the others wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import seed_market
from sqlalchemy import select

from app.core.accounts.imports import apply_import, plan_import
from app.core.accounts.keys import KeyMismatch, check_key, import_key
from app.core.domain.models import MarketPlaceAccount as A
from app.core.storage.db import Database
from app.core.support.secrets import KEY_FILE_ENV, WrongPassphrase, get_vault

PASSPHRASE = "four words for the team"


def workstation(monkeypatch: pytest.MonkeyPatch, key: Path) -> None:
    """This test's process becomes the workstation whose secrets key is `key`."""
    monkeypatch.setenv(KEY_FILE_ENV, str(key))
    get_vault.cache_clear()


def password_of(db: Database, login: str) -> str:
    with db.reading() as s:
        return get_vault().decrypt(s.scalar(select(A.password).where(A.login == login)))


def test_each_workstation_reads_what_the_others_wrote(
    db: Database, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_market(db, accounts=2)  # the first workstation's accounts
    check_key(db)
    sealed = get_vault().sealed(PASSPHRASE)
    second = tmp_path / "second" / "secrets.key"
    workstation(monkeypatch, second)
    with pytest.raises(KeyMismatch):
        check_key(db)  # its own key: it may not start on the pool

    with pytest.raises(WrongPassphrase):
        import_key(db, sealed, "four words for a team", "team.key", force=False)
    done = import_key(db, sealed, PASSPHRASE, "team.key", force=False)

    assert (done.changed, done.readable, done.source) == (True, True, str(second))
    check_key(db)  # it starts
    assert password_of(db, "mem-acc000") == "pw"
    listing = tmp_path / "second.csv"
    listing.write_text("login;password\nsecond-buyer;second-pw\n")
    with db.session() as s:
        apply_import(s, plan_import(s, listing, default_marketplace="mem"))
        s.commit()
    workstation(monkeypatch, key_file)  # the first workstation again
    check_key(db)
    assert password_of(db, "second-buyer") == "second-pw"
