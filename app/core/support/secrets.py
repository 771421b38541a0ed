"""Secrets at rest: the Vault that encrypts account passwords and browser sessions, with
its key in the OS keyring or, where there is none, in a file only the user can read."""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from app.core.support.errors import KnownError
from app.core.support.paths import APP_NAME, config_dir
from app.core.support.text import QT_TRANSLATE_NOOP, Message, say

log = logging.getLogger(__name__)

KEY_NAME = "secrets-key"
KEY_FILE_ENV = "BUYBACK_KEY_FILE"
PREFIX = "enc:v1:"


class Vault:
    """Encrypts text for the database and decrypts it back (Fernet: AES with an HMAC).

    Attributes:
        source: where the key lives, "keyring" or the key file's path (never the key).
        notice: what the operator should know about the key's storage, said once ("" if
            nothing): a key file instead of the keyring.
    """

    def __init__(self, key: bytes, source: str, notice: Message | str = ""):
        try:
            self._fernet = Fernet(key)
        except ValueError:  # not 32 bytes of URL-safe base64: a damaged or foreign file
            raise KnownError(_not_a_key(source)) from None
        self.source = source
        self.notice = notice

    def __repr__(self) -> str:
        return f"Vault(source={self.source!r})"

    def encrypt(self, text: str) -> str:
        """The stored form of `text`; empty stays empty (nothing to hide)."""
        if not text:
            return ""
        return PREFIX + self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, stored: str | None) -> str:
        """The text behind a stored value. Values without the prefix were written before
        secrets were encrypted and are returned as they are; the next import or seed
        replaces them with ciphertext."""
        if not stored:
            return ""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._open(stored)
        except (InvalidToken, ValueError):
            raise KnownError(
                f"A stored account secret cannot be decrypted with the key from {self.source}: "
                "the key changed or belongs to another computer. Restore the original key, "
                "or import the accounts' passwords and sessions again."
            ) from None

    def can_decrypt(self, stored: str) -> bool:
        """Whether this key opens `stored`, a value written by `encrypt` (with any key);
        values without the prefix are plain text and always read."""
        if not stored.startswith(PREFIX):
            return True
        try:
            self._open(stored)
        except (InvalidToken, ValueError):
            return False
        return True

    def _open(self, stored: str) -> str:
        return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()


def _not_a_key(source: str) -> str:
    if source == "keyring":
        return (
            f"The secrets key in the OS keyring ({APP_NAME} / {KEY_NAME}) is not a valid key, "
            "so the account passwords and sessions cannot be read. Put the original key back "
            f"in the keyring, or point ${KEY_FILE_ENV} to a backed-up key file. "
            "Nothing was changed."
        )
    return (
        f"The secrets key file {source} does not hold a valid key (it is damaged or was "
        "replaced; a key is 44 characters of URL-safe base64), so the account passwords and "
        "sessions cannot be read. Restore the file from your backup, or point "
        f"${KEY_FILE_ENV} to the backed-up copy. Delete the file only if no account passwords "
        "or sessions were ever stored: a new key is then made. Nothing was changed."
    )


def _keyring_key() -> bytes | None:
    """The key from the OS keyring, created there on first use; None where no usable
    keyring exists (headless Linux has only keyring's fail backend, or a D-Bus error)."""
    import keyring
    from keyring.backends import fail, null

    try:
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return None
        key = backend.get_password(APP_NAME, KEY_NAME)
        if key is None:
            backend.set_password(APP_NAME, KEY_NAME, Fernet.generate_key().decode("ascii"))
            # Read back: some backends accept a write and keep nothing.
            key = backend.get_password(APP_NAME, KEY_NAME)
    except Exception as exc:  # keyring backends raise their own kinds (D-Bus, Win32, ...)
        log.info("the OS keyring is not usable: %s", type(exc).__name__)
        return None
    return key.encode("ascii") if key else None


def _file_key(path: Path) -> bytes:
    """The key from `path`, created readable by the user only (0600) if missing."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written to a private temporary file and linked into place: another process
            # starting at the same moment either wins the link or reads the full key.
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
            tmp = Path(tmp_name)
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        if sys.platform != "win32" and path.stat().st_mode & 0o077:
            log.warning("the key file %s was readable by others; made it private (0600)", path)
            path.chmod(0o600)
        return path.read_bytes().strip()
    except OSError as exc:
        raise KnownError(
            f"Cannot read or create the secrets key file {path}: {exc.strerror}. "
            f"Check the folder's permissions, or point ${KEY_FILE_ENV} to a writable file."
        ) from exc


def default_key_file() -> Path:
    return config_dir() / "secrets.key"


def load_vault() -> Vault:
    """A Vault with the key from $BUYBACK_KEY_FILE if set, else the OS keyring, else a
    key file in the user's config folder (said once, as a warning and `vault.notice`)."""
    forced = os.environ.get(KEY_FILE_ENV)
    if forced:
        return Vault(_file_key(Path(forced)), forced)
    key = _keyring_key()
    if key is not None:
        return Vault(key, "keyring")
    path = default_key_file()
    notice = say(
        QT_TRANSLATE_NOOP(
            "Engine",
            "No OS keyring is available, so the key that encrypts account passwords and "
            "sessions is kept in {path} (readable by this user only). Back it up: without "
            "it the stored secrets cannot be read.",
        ),
        path=path,
    )
    log.warning("%s", notice)
    return Vault(_file_key(path), str(path), notice)


@functools.cache
def get_vault() -> Vault:
    """The process's Vault, loaded once (`get_vault.cache_clear()` loads it again)."""
    return load_vault()
