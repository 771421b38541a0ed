"""Secrets at rest: the Vault's round trip, the private key file where no keyring exists,
and no plaintext password or cookie in the database, its WAL or the logs of a run."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import keyring
import pytest
from helpers import make_supervisor, seed_market
from keyring.backends import fail

from app.core.accounts.imports import apply_import, plan_import
from app.core.accounts.sessions import DbSessionStore
from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.support.errors import KnownError
from app.core.support.secrets import KEY_FILE_ENV, PREFIX, Vault, get_vault, load_vault

PASSWORD = "Pa55-Зебра-7781"
COOKIE = "cookie-value-5e1f9a"


def test_round_trip_hides_the_text_and_the_key() -> None:
    vault = get_vault()
    stored = vault.encrypt(PASSWORD)
    assert stored.startswith(PREFIX) and PASSWORD not in stored
    assert vault.decrypt(stored) == PASSWORD
    assert vault.encrypt("") == "" and vault.decrypt(None) == ""
    assert vault.encrypt(PASSWORD) != stored  # a fresh IV each time
    assert repr(vault) == f"Vault(source={vault.source!r})"


def test_key_file_is_private_and_stable(key_file: Path) -> None:
    first = get_vault().encrypt(PASSWORD)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    get_vault.cache_clear()
    assert get_vault().decrypt(first) == PASSWORD  # the same key is read back


def test_without_a_keyring_the_key_file_is_used_and_said_once(
    tmp_path, monkeypatch, caplog
) -> None:
    monkeypatch.delenv(KEY_FILE_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what a headless Linux has
    try:
        with caplog.at_level(logging.WARNING):
            vault = get_vault()
            get_vault()
    finally:
        keyring.set_keyring(previous)
    path = tmp_path / "config" / "BuybackConsole" / "secrets.key"
    assert vault.source == str(path)
    assert str(path) in str(vault.notice)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [r.getMessage() for r in caplog.records] == [str(vault.notice)]


def test_a_wrong_key_is_a_clear_error_without_the_secret(tmp_path, monkeypatch) -> None:
    stored = get_vault().encrypt(PASSWORD)
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "other.key"))
    with pytest.raises(KnownError, match="cannot be decrypted") as error:
        load_vault().decrypt(stored)
    assert PASSWORD not in str(error.value) and stored not in str(error.value)


@pytest.mark.parametrize(
    "garbage",
    [b"this is not a key\n", b"\xff\xfe\x00garbage", b"", b"A" * 20],
    ids=["text", "binary", "empty", "truncated"],
)
def test_a_damaged_key_file_is_a_clear_error_naming_the_file(key_file, garbage) -> None:
    key_file.write_bytes(garbage)
    with pytest.raises(KnownError) as error:
        get_vault()
    message = str(error.value)
    assert f"The secrets key file {key_file} does not hold a valid key" in message
    assert "Restore the file from your backup" in message
    assert "only if no account passwords or sessions were ever stored" in message
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert key_file.read_bytes() == garbage  # left as it was, for the operator to restore


def test_can_decrypt_tells_the_key_that_wrote_a_value(tmp_path, monkeypatch) -> None:
    stored = get_vault().encrypt(PASSWORD)
    assert get_vault().can_decrypt(stored) and get_vault().can_decrypt("old-plain")
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "other.key"))
    assert not load_vault().can_decrypt(stored)


def test_legacy_plain_values_read_as_they_are() -> None:
    assert Vault(b"A" * 43 + b"=", "test").decrypt("old-plain") == "old-plain"


async def test_database_wal_and_logs_hold_no_plaintext_secret(db, tmp_path) -> None:
    log_file = tmp_path / "run.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        market = seed_market(db, accounts=0, code="mem")
        listing = tmp_path / "list.csv"
        listing.write_bytes(f"Логин;Пароль\nbuyer1;{PASSWORD}\n".encode("cp1251"))
        sessions = tmp_path / "sessions"
        sessions.mkdir()
        cookie = {"name": "sid", "value": COOKIE, "domain": "127.0.0.1", "path": "/"}
        (sessions / "buyer2.json").write_text(json.dumps({"cookies": [cookie], "origins": []}))
        for source in (listing, sessions):
            with db.session() as s:
                apply_import(s, plan_import(s, source, default_marketplace="mem"))
                s.commit()
        driver = MemoryDriver()
        sup = make_supervisor(db, driver)
        await sup.submit(OrderSpec("Client", market.code, [LineSpec("A1", 2, "P1")]))
        await sup.run(until_idle=True)
        assert sorted(login for login, _, _ in driver.ledger) == ["buyer1", "buyer2"]
        # The engine keeps a session it refreshed: encrypted too.
        await DbSessionStore(db).save(2, {"cookies": [cookie], "origins": []})
        logging.getLogger("test").info("run finished")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()

    files = [Path(db.engine.url.database), Path(db.engine.url.database + "-wal"), log_file]
    assert all(f.exists() for f in files) and log_file.stat().st_size > 0
    for f in files:
        data = f.read_bytes()
        for secret in (PASSWORD, COOKIE):
            for encoding in ("utf-8", "cp1251", "utf-16-le"):
                assert secret.encode(encoding) not in data, (f.name, secret, encoding)
