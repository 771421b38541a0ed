"""A lost or damaged secrets key is said plainly at start, before any purchase: one line,
a non-zero exit, no traceback, and a new key is never used over existing secrets. A
team's workstations share one key: exported on one into a file sealed with a passphrase,
imported on the others, never over secrets it would make unreadable."""

from __future__ import annotations

import getpass
import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from helpers import row_counts, run_main, seed_market
from sqlalchemy import select

import main
from app.core.accounts.keys import KeyMismatch
from app.core.domain.models import MarketPlaceAccount as A
from app.core.storage.db import Database
from app.core.support.errors import KnownError
from app.core.support.secrets import KEY_FILE_ENV, WrongPassphrase, get_vault


def main_py(tmp_path: Path, key: Path, *args: str) -> subprocess.CompletedProcess[str]:
    db = str(tmp_path / "console.sqlite3")
    return run_main(tmp_path, *args, "--db", db, BUYBACK_KEY_FILE=str(key))


def test_a_lost_key_stops_the_engine_before_it_starts(tmp_path, key_file) -> None:
    db = Database(str(tmp_path / "console.sqlite3"))
    seed_market(db, accounts=3)  # passwords encrypted with the test's key file
    before = row_counts(db)
    db.close()
    lost = tmp_path / "elsewhere" / "secrets.key"  # as if the key file was deleted

    for command in (("run", "--until-idle"), ("accounts", "list")):
        done = main_py(tmp_path, lost, *command)
        assert done.returncode == 2, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "is not the one this database was written with" in errors[0]
        assert str(lost) in errors[0] and "Traceback" not in done.stderr

    db = Database(str(tmp_path / "console.sqlite3"))
    assert row_counts(db) == before  # nothing changed
    db.close()
    back = main_py(tmp_path, key_file, "accounts", "list")  # the original key, restored
    assert back.returncode == 0 and "3 accounts." in back.stdout


def test_a_damaged_key_file_is_named_in_one_line(tmp_path) -> None:
    garbage = tmp_path / "secrets.key"
    garbage.write_text("this is not a key")
    done = main_py(tmp_path, garbage, "accounts", "list")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "does not hold a valid key" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert garbage.read_text() == "this is not a key"


# -- a team's shared key: exported on one workstation, imported on the others ---------
#
# A "workstation" is a key file of its own ($BUYBACK_KEY_FILE); its database may be the
# team's, which the workstations share.

PASSPHRASE = "correct horse battery staple"


def workstation(monkeypatch: pytest.MonkeyPatch, key: Path) -> None:
    """This test's process becomes the workstation whose secrets key is `key`."""
    monkeypatch.setenv(KEY_FILE_ENV, str(key))
    get_vault.cache_clear()


def key_command(monkeypatch: pytest.MonkeyPatch, *args: str, passphrase: str = PASSPHRASE) -> int:
    """`main.py key ARGS --passphrase-stdin` in this process, the passphrase on stdin."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(passphrase + "\n"))
    parsed = main.parse_arguments(["key", *args, "--passphrase-stdin"])
    return parsed.func(parsed)


class Terminal(io.StringIO):
    """Standard input as an operator's terminal: getpass may ask there."""

    def isatty(self) -> bool:
        return True


def seeded(path: Path, accounts: int = 3) -> Path:
    """A database whose accounts' passwords ("pw") are encrypted with the current key."""
    db = Database(str(path))
    seed_market(db, accounts=accounts)
    db.close()
    return path


def password_of(path: Path, login: str = "mem-acc000") -> str:
    """The account's password as this workstation reads it from the database."""
    db = Database(str(path))
    try:
        with db.reading() as s:
            stored = s.scalar(select(A.password).where(A.login == login))
    finally:
        db.close()
    return get_vault().decrypt(stored)


def dump(path: Path) -> list[str]:
    db = Database(str(path))
    try:
        with db.engine.connect() as conn:
            return list(conn.connection.driver_connection.iterdump())
    finally:
        db.close()


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_the_key_exported_on_one_workstation_reads_the_pool_on_another(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")  # workstation A's key (key_file)
    team_key = tmp_path / "team.key"
    b = tmp_path / "b" / "secrets.key"
    listing = tmp_path / "more.csv"
    listing.write_text("login;password;marketplace\nnew-buyer;new-pw;mem\n")
    db = Database(str(team_db))
    before = row_counts(db)
    db.close()

    # B, with a key of its own, may not write the pool's secrets: it is told what to do.
    refused = main_py(tmp_path, b, "accounts", "import", str(listing))
    error = one_error(refused)
    assert "import the team's key with main.py key import FILE" in error
    assert "is not the one this database was written with" in error

    exported = run_main(
        tmp_path,
        *("key", "export", str(team_key), "--db", str(team_db), "--passphrase-env", "TEAM_PW"),
        BUYBACK_KEY_FILE=str(key_file),
        TEAM_PW=PASSPHRASE,
    )
    assert exported.returncode == 0, exported.stderr
    assert f"to {team_key}, sealed with the passphrase" in exported.stdout
    assert stat.S_IMODE(team_key.stat().st_mode) == 0o600
    assert key_file.read_text().strip() not in team_key.read_text()  # sealed, not copied
    own_key = b.read_bytes()

    imported = run_main(
        tmp_path,
        *("key", "import", str(team_key), "--db", str(team_db), "--passphrase-env", "TEAM_PW"),
        BUYBACK_KEY_FILE=str(b),
        TEAM_PW=PASSPHRASE,
    )
    assert imported.returncode == 0, imported.stderr
    assert f"Imported the team's secrets key from {team_key} into the key file {b}" in (
        imported.stdout
    )
    [kept] = [p for p in b.parent.iterdir() if p.name.startswith("secrets.key.replaced-")]
    assert f"The key it replaced is kept in {kept}" in imported.stdout
    assert kept.read_bytes().strip() == own_key.strip()  # B's own key is not lost
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    workstation(monkeypatch, b)
    assert password_of(team_db) == "pw"  # A's account password, read on B
    db = Database(str(team_db))
    assert row_counts(db) == before  # the refused import wrote nothing
    db.close()
    written = main_py(tmp_path, b, "accounts", "import", str(listing))
    assert written.returncode == 0, written.stderr
    workstation(monkeypatch, key_file)
    assert password_of(team_db, "new-buyer") == "new-pw"  # and A reads what B wrote


def test_a_wrong_passphrase_is_refused_and_changes_nothing(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")
    team_key = tmp_path / "team.key"
    assert key_command(monkeypatch, "export", str(team_key), "--db", str(team_db)) == 0
    b = tmp_path / "b" / "secrets.key"
    b.parent.mkdir()
    b.write_bytes(Fernet.generate_key())
    own_key, before = b.read_bytes(), dump(team_db)
    workstation(monkeypatch, b)

    with pytest.raises(WrongPassphrase) as refused:
        key_command(
            monkeypatch, "import", str(team_key), "--db", str(team_db), passphrase="battery staple"
        )

    assert f"The passphrase does not open {team_key}" in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert b.read_bytes() == own_key and sorted(b.parent.iterdir()) == [b]
    assert dump(team_db) == before


def test_an_import_over_the_workstations_own_secrets_needs_force_and_keeps_the_key(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_db = seeded(tmp_path / "team.sqlite3")
    team_key = tmp_path / "team.key"
    key_command(monkeypatch, "export", str(team_key), "--db", str(team_db))
    b = tmp_path / "b" / "secrets.key"
    workstation(monkeypatch, b)
    own_db = seeded(tmp_path / "b" / "own.sqlite3")  # B's passwords, under B's own key
    own_key = b.read_bytes()

    with pytest.raises(KnownError) as refused:
        key_command(monkeypatch, "import", str(team_key), "--db", str(own_db))
    message = str(refused.value)
    assert "are written with this computer's own key" in message
    assert "give it with --db" in message and "add --force" in message
    assert b.read_bytes() == own_key and not list(b.parent.glob("secrets.key.replaced-*"))

    assert key_command(monkeypatch, "import", str(team_key), "--db", str(own_db), "--force") == 0
    assert b.read_bytes().strip() == key_file.read_bytes().strip()
    [kept] = b.parent.glob("secrets.key.replaced-*")
    workstation(monkeypatch, kept)  # the replaced key still reads B's own secrets
    assert password_of(own_db) == "pw"


def test_a_key_of_another_database_is_refused(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_db = seeded(tmp_path / "first.sqlite3")
    team_key = tmp_path / "team.key"
    key_command(monkeypatch, "export", str(team_key), "--db", str(first_db))
    workstation(monkeypatch, tmp_path / "c.key")
    second_db = seeded(tmp_path / "second.sqlite3")  # another team's, under another key
    b = tmp_path / "b" / "secrets.key"
    workstation(monkeypatch, b)  # a new workstation: no key yet
    before = dump(second_db)

    with pytest.raises(KnownError, match="it is another database's key"):
        key_command(monkeypatch, "import", str(team_key), "--db", str(second_db))
    assert not b.parent.exists() and dump(second_db) == before


def test_importing_the_key_a_workstation_already_has_changes_nothing(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")
    team_key = tmp_path / "team.key"
    key_command(monkeypatch, "export", str(team_key), "--db", str(team_db))
    key = key_file.read_bytes()
    capsys.readouterr()

    assert key_command(monkeypatch, "import", str(team_key), "--db", str(team_db)) == 0

    assert "This workstation already uses the key in" in capsys.readouterr().out
    assert key_file.read_bytes() == key and not list(tmp_path.glob("secrets.key.replaced-*"))


def test_a_new_workstation_imports_the_key_before_its_first_start(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")
    team_key = tmp_path / "team.key"
    key_command(monkeypatch, "export", str(team_key), "--db", str(team_db))
    b = tmp_path / "b" / "secrets.key"
    workstation(monkeypatch, b)
    capsys.readouterr()

    assert key_command(monkeypatch, "import", str(team_key), "--db", str(team_db)) == 0

    said = capsys.readouterr().out
    assert "kept in" not in said and "reads the account passwords and sessions of" in said
    assert stat.S_IMODE(b.stat().st_mode) == 0o600
    get_vault.cache_clear()
    assert password_of(team_db) == "pw"


def test_export_refuses_what_would_make_a_weak_or_useless_file(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")
    out = tmp_path / "team.key"
    with pytest.raises(KnownError, match="shorter than 12 characters"):
        key_command(monkeypatch, "export", str(out), "--db", str(team_db), passphrase="short")
    assert not out.exists()

    out.write_text("someone's notes")
    with pytest.raises(KnownError, match="already exists"):
        key_command(monkeypatch, "export", str(out), "--db", str(team_db))
    assert out.read_text() == "someone's notes"
    out.unlink()

    workstation(monkeypatch, tmp_path / "other.key")  # a key that does not open the pool
    with pytest.raises(KeyMismatch):
        key_command(monkeypatch, "export", str(out), "--db", str(team_db))
    assert not out.exists()


def test_a_typed_passphrase_is_asked_twice_for_an_export_and_never_echoed(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")
    out = tmp_path / "team.key"
    typed = iter([PASSPHRASE, PASSPHRASE + "!"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(typed))
    monkeypatch.setattr(sys, "stdin", Terminal())
    parsed = main.parse_arguments(["key", "export", str(out), "--db", str(team_db)])
    with pytest.raises(KnownError, match="The two passphrases differ"):
        parsed.func(parsed)
    assert not out.exists()

    typed = iter([PASSPHRASE, PASSPHRASE, PASSPHRASE])
    assert parsed.func(parsed) == 0
    parsed = main.parse_arguments(["key", "import", str(out), "--db", str(team_db)])
    assert parsed.func(parsed) == 0


def test_a_script_without_a_terminal_must_say_where_the_passphrase_is(tmp_path: Path) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")
    done = run_main(
        tmp_path,
        *("key", "export", str(tmp_path / "team.key"), "--db", str(team_db)),
        BUYBACK_KEY_FILE=str(tmp_path / "secrets.key"),
    )
    error = one_error(done)
    assert "--passphrase-env NAME or --passphrase-stdin" in error
    assert not (tmp_path / "team.key").exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x00\xffnot a key at all", "is not a secrets key exported by main.py key export"),
        (b'{"cookies": []}', "is not a secrets key exported by main.py key export"),
        (
            json.dumps({"format": "buyback-secrets-key", "version": 2}).encode(),
            "was exported by a newer version of the console",
        ),
        (
            json.dumps(
                {
                    "format": "buyback-secrets-key",
                    "version": 1,
                    "kdf": {"name": "scrypt", "n": 2**30, "r": 8, "p": 1, "salt": "A" * 24},
                    "cipher": "fernet",
                    "sealed_key": "x",
                }
            ).encode(),
            "asks for a key derivation this console does not use",
        ),
    ],
    ids=["binary", "other-json", "newer", "greedy-scrypt"],
)
def test_a_file_that_is_not_a_key_export_is_named_and_changes_nothing(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, says: str
) -> None:
    team_db = seeded(tmp_path / "console.sqlite3")
    given = tmp_path / "given.key"
    given.write_bytes(content)
    key = key_file.read_bytes()
    with pytest.raises(KnownError, match=says) as refused:
        key_command(monkeypatch, "import", str(given), "--db", str(team_db))
    assert str(given) in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert key_file.read_bytes() == key
