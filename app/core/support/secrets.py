"""Secrets at rest: the Vault that encrypts account passwords and browser sessions, with
its key in the OS keyring or, where there is none, in a file only the user can read; and
the key sealed with a passphrase into a file, so a team's workstations share one key."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.core.support.errors import KnownError
from app.core.support.paths import APP_NAME, config_dir
from app.core.support.text import QT_TRANSLATE_NOOP, Message, say

log = logging.getLogger(__name__)

KEY_NAME = "secrets-key"
KEY_FILE_ENV = "BUYBACK_KEY_FILE"
PREFIX = "enc:v1:"
_OPENED_MAX = 10_000  # opened secrets a Vault remembers


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
        self._key = key
        self._opened: dict[str, str] = {}
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
        # Each claim opens its accounts' passwords: remembered per stored value (a Fernet
        # token is never reused, and this Vault has one key): 5% of the engine's
        # writer time otherwise. Bounded: a pool's passwords, not everything ever read.
        opened = self._opened.get(stored)
        if opened is None:
            opened = self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
            if len(self._opened) >= _OPENED_MAX:
                self._opened.clear()
            self._opened[stored] = opened
        return opened

    def sealed(self, passphrase: str) -> bytes:
        """The key sealed with `passphrase`: the content of an export file (see `unseal`)."""
        salt = os.urandom(16)
        kdf = {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
        kdf["salt"] = base64.b64encode(salt).decode("ascii")
        export = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "about": "The key that encrypts the account passwords and sessions of a team's "
            "Buyback console database, sealed with a passphrase. Import it on a workstation "
            "with: python main.py key import FILE",
            "kdf": kdf,
            "cipher": "fernet",
            "sealed_key": _sealer(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
            .encrypt(self._key)
            .decode("ascii"),
        }
        return (json.dumps(export, indent=2) + "\n").encode("ascii")


# -- a key shared by a team's workstations --------------------------------------------

EXPORT_FORMAT = "buyback-secrets-key"
EXPORT_VERSION = 1
# scrypt's cost, recorded in each file: 128 * r * n bytes (128 MiB) and about a second per
# guess (OWASP's minimum for scrypt). A file asking for more than the limits below is
# refused, so a crafted file cannot make an import eat the computer's memory.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
_SCRYPT_LIMITS = {"n": 2**20, "r": 32, "p": 16}
_SCRYPT_MAX_BYTES = 2**30


class WrongPassphrase(KnownError):
    """The passphrase does not open an export file (or the file was altered)."""


def _sealer(passphrase: str, salt: bytes, n: int, r: int, p: int) -> Fernet:
    """The Fernet that seals the key, from the passphrase (NFC, so that the same words
    typed on another system give the same key) by scrypt."""
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    derived = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))


def unseal(content: bytes, passphrase: str, source: str) -> bytes:
    """The key in an export file's `content` (written by `Vault.sealed`), opened with
    `passphrase`. Raises WrongPassphrase when the passphrase does not open it, and
    KnownError naming `source` for a file that is not an export of this console's, comes
    from a newer version, or is damaged."""
    not_ours = KnownError(
        f"{source} is not a secrets key exported by main.py key export (or it was "
        "damaged): export the key again on a workstation that has it. Nothing was changed."
    )
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise not_ours from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise not_ours
    version = data.get("version")
    if not isinstance(version, int) or version > EXPORT_VERSION:
        raise KnownError(
            f"{source} was exported by a newer version of the console (file format "
            f"{version!r}; this one reads {EXPORT_VERSION}): update the console on this "
            "workstation, then import it again. Nothing was changed."
        )
    salt, n, r, p = _scrypt_settings(data.get("kdf"), data.get("cipher"), source)
    try:
        sealed = str(data["sealed_key"]).encode("ascii")
    except (KeyError, UnicodeEncodeError):
        raise not_ours from None
    try:
        key = _sealer(passphrase, salt, n, r, p).decrypt(sealed)
    except InvalidToken:
        raise WrongPassphrase(
            f"The passphrase does not open {source}: it is not the one given when the key "
            "was exported (or the file was altered). Check it and import again. "
            "Nothing was changed."
        ) from None
    try:
        Fernet(key)
    except ValueError:
        raise not_ours from None
    return key


def _scrypt_settings(kdf: Any, cipher: Any, source: str) -> tuple[bytes, int, int, int]:
    """The salt and scrypt's n, r, p of an export file, within this console's limits."""
    refused = KnownError(
        f"{source} asks for a key derivation this console does not use (it takes scrypt "
        "within its limits and Fernet): export the key again with main.py key export on "
        "a workstation that has it. Nothing was changed."
    )
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt" or cipher != "fernet":
        raise refused
    costs: dict[str, int] = {}
    for name, limit in _SCRYPT_LIMITS.items():
        value = kdf.get(name)
        if type(value) is not int or not 1 <= value <= limit:
            raise refused
        costs[name] = value
    n, r, p = costs["n"], costs["r"], costs["p"]
    try:
        salt = base64.b64decode(str(kdf.get("salt")), validate=True)
    except binascii.Error:
        raise refused from None
    if n < 2 or n & (n - 1) or 128 * r * n > _SCRYPT_MAX_BYTES or len(salt) < 16:
        raise refused
    return salt, n, r, p


@dataclass(frozen=True)
class KeyPlace:
    """Where this computer's key is kept, as `load_vault` looks for it: the file named by
    $BUYBACK_KEY_FILE, else the OS keyring, else the key file in the config folder.

    Attributes:
        path: the key file; None for the OS keyring.
    """

    path: Path | None

    @property
    def source(self) -> str:
        """As `Vault.source` names it: "keyring" or the file's path."""
        return "keyring" if self.path is None else str(self.path)

    def read(self) -> bytes | None:
        """The key kept there (as it is, even if damaged); None if there is none yet.
        Unlike `load_vault`, never makes one."""
        if self.path is None:
            try:
                key = _keyring().get_password(APP_NAME, KEY_NAME)
            except Exception as exc:  # keyring backends raise their own kinds
                raise KnownError(
                    f"Could not read the OS keyring ({type(exc).__name__}). Point "
                    f"${KEY_FILE_ENV} to a key file instead, then try again."
                ) from exc
            return key.encode("utf-8") if key else None
        try:
            return self.path.read_bytes().strip() if self.path.exists() else None
        except OSError as exc:
            raise _unreadable(self.path, exc) from exc

    def write(self, key: bytes) -> None:
        """Puts `key` there in place of any other (a file: private, replaced at once)."""
        if self.path is not None:
            try:
                _write_private(self.path, key, replace=True)
            except OSError as exc:
                raise _unreadable(self.path, exc) from exc
            return
        backend = _keyring()
        try:
            assert backend is not None
            backend.set_password(APP_NAME, KEY_NAME, key.decode("ascii"))
            kept = backend.get_password(APP_NAME, KEY_NAME)
        except Exception as exc:  # keyring backends raise their own kinds
            raise KnownError(
                f"Could not put the key in the OS keyring ({type(exc).__name__}). Point "
                f"${KEY_FILE_ENV} to a key file instead, then import again."
            ) from exc
        if kept != key.decode("ascii"):
            raise KnownError(
                f"The OS keyring did not keep the key. Point ${KEY_FILE_ENV} to a key file "
                "instead, then import again."
            )

    def keep_copy(self, key: bytes) -> Path:
        """A private copy of `key` beside where it was kept (beside the default key file
        for the keyring), named for now: what a replaced key becomes, so that no secret
        written with it is lost."""
        base = self.path or default_key_file()
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        for n in range(1, 100):
            copy = base.with_name(f"{base.name}.replaced-{stamp}{'' if n == 1 else f'-{n}'}")
            try:
                _write_private(copy, key, replace=False)
                return copy
            except FileExistsError:
                continue
            except OSError as exc:
                raise _unreadable(copy, exc) from exc
        raise KnownError(f"Too many copies of replaced keys in {base.parent}; move some away.")


def key_place() -> KeyPlace:
    """Where `load_vault` looks for the key first: what an imported key replaces."""
    forced = os.environ.get(KEY_FILE_ENV)
    if forced:
        return KeyPlace(Path(forced))
    backend = _keyring()
    try:
        if backend is not None:
            backend.get_password(APP_NAME, KEY_NAME)  # as load_vault: one that fails is none
            return KeyPlace(None)
    except Exception as exc:  # keyring backends raise their own kinds (D-Bus, Win32, ...)
        log.info("the OS keyring is not usable: %s", type(exc).__name__)
    return KeyPlace(default_key_file())


def write_new_file(path: Path, content: bytes) -> None:
    """Writes a new file readable by the user only (0600); refuses to replace one."""
    try:
        _write_private(path, content, replace=False)
    except FileExistsError:
        raise KnownError(
            f"{path} already exists: give another file name, or delete it first. "
            "Nothing was written."
        ) from None
    except OSError as exc:
        raise KnownError(f"Cannot write {path}: {exc.strerror}. Nothing was written.") from exc


def _write_private(path: Path, content: bytes, *, replace: bool) -> None:
    """Writes `path` readable by the user only (0600), whole or not at all: a private
    temporary file renamed over it (`replace`) or linked to it (raises FileExistsError if
    it exists; another process writing it at the same moment either wins or sees it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _unreadable(path: Path, exc: OSError) -> KnownError:
    return KnownError(
        f"Cannot read or write the secrets key file {path}: {exc.strerror}. "
        f"Check the folder's permissions, or point ${KEY_FILE_ENV} to a writable file."
    )


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


def _keyring() -> Any:
    """The OS keyring's backend; None where no usable keyring exists (headless Linux has
    only keyring's fail backend)."""
    import keyring
    from keyring.backends import fail, null

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # keyring backends raise their own kinds (D-Bus, Win32, ...)
        log.info("the OS keyring is not usable: %s", type(exc).__name__)
        return None
    return None if isinstance(backend, fail.Keyring | null.Keyring) else backend


def _keyring_key() -> bytes | None:
    """The key from the OS keyring, created there on first use; None where no usable
    keyring exists (see `_keyring`, or a D-Bus error)."""
    backend = _keyring()
    if backend is None:
        return None
    try:
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
            try:  # another process starting at the same moment may have made it
                _write_private(path, Fernet.generate_key(), replace=False)
            except FileExistsError:
                pass
        if sys.platform != "win32" and path.stat().st_mode & 0o077:
            log.warning("the key file %s was readable by others; made it private (0600)", path)
            path.chmod(0o600)
        return path.read_bytes().strip()
    except OSError as exc:
        raise _unreadable(path, exc) from exc


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
