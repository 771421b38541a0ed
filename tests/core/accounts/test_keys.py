"""The secrets key checked at start: a lost or foreign key is a clear error that changes
nothing, the restored key reads everything again, and a new database records its key."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import seed_market
from sqlalchemy import select, text, update

from app.core.accounts.keys import KeyMismatch, check_key
from app.core.domain.models import Base, MarketPlaceAccount, SecretCheck
from app.core.storage.db import Database
from app.core.support.secrets import KEY_FILE_ENV, PREFIX, get_vault

A = MarketPlaceAccount


def dump(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table, SQLite or PostgreSQL: to show that a refused key changed
    nothing."""
    with db.reading() as s:
        return {
            t.name: [tuple(r) for r in s.execute(select(t).order_by(*t.primary_key.columns))]
            for t in Base.metadata.sorted_tables
        }


def check_rows(db: Database) -> list[tuple[int, str]]:
    with db.reading() as s:
        return [(c.id, c.token) for c in s.scalars(select(SecretCheck))]


def stored_password(db: Database, login: str = "mem-acc000") -> str:
    with db.reading() as s:
        return s.scalar(select(A.password).where(A.login == login))


def test_a_new_database_stores_the_check_and_passes_it_again(db: Database, key_file) -> None:
    check_key(db)
    [(row_id, token)] = check_rows(db)
    assert token.startswith(PREFIX)
    assert key_file.read_bytes().strip().decode() not in token  # never the key itself
    get_vault.cache_clear()  # the next start reads the key file again
    check_key(db)
    assert check_rows(db) == [(row_id, token)]


def test_a_deleted_key_file_is_refused_and_the_restored_one_reads_everything(
    db: Database, key_file: Path, tmp_path: Path
) -> None:
    seed_market(db, accounts=2)
    check_key(db)
    backup = tmp_path / "backup.key"
    key_file.rename(backup)  # the key file is lost ...
    get_vault.cache_clear()
    before = dump(db)

    with pytest.raises(KeyMismatch) as error:
        check_key(db)  # ... and get_vault made a new one in its place

    assert key_file.exists() and key_file.read_bytes() != backup.read_bytes()
    message = str(error.value)
    assert "not the one this database was written with" in message
    assert f"put the backed-up key file back at {key_file}" in message
    assert KEY_FILE_ENV in message and "Nothing was changed" in message
    assert error.value.source == str(key_file)
    assert dump(db) == before

    backup.replace(key_file)  # the operator restores the backup
    get_vault.cache_clear()
    check_key(db)
    assert get_vault().decrypt(stored_password(db)) == "pw"


def test_a_key_from_elsewhere_is_refused_before_the_check_is_stored(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the check, with secrets: another key stores no check value
    (which would lock the right key out); the right key does."""
    seed_market(db, accounts=2)
    other = tmp_path / "other.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(other))
    get_vault.cache_clear()
    before = dump(db)
    with pytest.raises(KeyMismatch, match=f"the key file {other} does not open"):
        check_key(db)
    assert dump(db) == before and check_rows(db) == []


def test_a_database_from_before_the_check_gets_it_from_the_key_of_its_secrets(
    tmp_path: Path,
) -> None:
    from alembic import command

    from app.core.storage.db import _alembic_config, make_engine

    path = tmp_path / "old.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    command.upgrade(_alembic_config(engine), "c3d1e2f4a5b6")  # before secret_check
    password = get_vault().encrypt("old-pw")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO marketplace (id, code, name, base_url, driver)"
                " VALUES (1, 'm', 'M', 'x', 'sandbox')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO marketplace_account (marketplace_id, login, password, phone,"
                " label, status, failures_in_row, health, created_at) VALUES (1, 'old-buyer',"
                " :pw, '', '', 'active', 0, 'unknown', '2026-01-01 00:00:00')"
            ),
            {"pw": password},
        )
    engine.dispose()

    db = Database(str(path))
    try:
        assert check_rows(db) == []
        check_key(db)
        assert len(check_rows(db)) == 1
        get_vault.cache_clear()
        check_key(db)
        assert get_vault().decrypt(stored_password(db, "old-buyer")) == "old-pw"
    finally:
        db.close()


def test_plain_passwords_from_before_encryption_are_no_secrets_to_check(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_market(db, accounts=1)
    with db.session() as s:
        s.execute(update(A).values(password="plain-pw"))
        s.commit()
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "any.key"))
    get_vault.cache_clear()
    check_key(db)
    assert len(check_rows(db)) == 1


@pytest.mark.sqlite_only
def test_a_changed_key_takes_over_one_pcs_file_while_no_secret_was_ever_stored(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_key(db)
    [(_, first)] = check_rows(db)
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "new.key"))
    get_vault.cache_clear()
    check_key(db)  # nothing to lose: no account password or session is stored
    [(_, second)] = check_rows(db)
    assert second != first and get_vault().can_decrypt(second)


def test_on_a_shared_server_another_key_never_takes_over_even_before_any_secret(
    pg_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first workstation set the team's database up with its key and may be importing
    accounts with it this minute: a second workstation with a key of its own is told to
    import the team's key, and writes nothing (the pool's secrets never split in two)."""
    db = Database(pg_db_url)
    try:
        check_key(db)  # the first workstation
        before = check_rows(db)
        monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "second.key"))
        get_vault.cache_clear()
        with pytest.raises(KeyMismatch) as refused:
            check_key(db)
        assert "import the team's key with main.py key import FILE" in str(refused.value)
        assert check_rows(db) == before
    finally:
        db.close()


def test_the_keyring_mismatch_says_where_to_put_the_key_back() -> None:
    message = str(KeyMismatch("keyring"))
    assert "the key in the OS keyring (BuybackConsole / secrets-key) does not open" in message
    assert f"point ${KEY_FILE_ENV} to the backed-up key file" in message
