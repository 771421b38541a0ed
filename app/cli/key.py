"""`python main.py key export|import`: one secrets key for a team's workstations, carried
from the first to the others in a file sealed with a passphrase."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from app.cli.accounts import add_db_option
from app.core.accounts.keys import import_key, open_database
from app.core.storage.db import Database, display_url
from app.core.support.errors import KnownError
from app.core.support.secrets import KEY_FILE_ENV, get_vault, write_new_file

MIN_PASSPHRASE = 12  # the file may travel by mail or a USB stick: guessing must not pay


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export",
        help="write this workstation's secrets key to a file sealed with a passphrase",
        description="Checks the key against the database (it must open its account "
        "passwords and sessions), asks for a passphrase twice and writes FILE readable by "
        "you only. Carry the file and the passphrase to the other workstations by separate "
        "ways and run `main.py key import FILE` there.",
    )
    export.add_argument("path", metavar="FILE", help="the file to write (not an existing one)")
    imp = actions.add_parser(
        "import",
        help="use the team's secrets key from a file made by `key export`",
        description="Opens FILE with its passphrase and puts the key where this workstation "
        "keeps its own (the OS keyring, or the key file), once it opens the database's "
        "account secrets. A key it replaces is first copied beside it. Nothing changes on "
        "a wrong passphrase or a key of another database.",
    )
    imp.add_argument("path", metavar="FILE", help="a file made by `main.py key export`")
    imp.add_argument(
        "--force",
        action="store_true",
        help="replace this workstation's own key even though the database's secrets are "
        "written with it (it is kept in a copy)",
    )
    for sub, func in ((export, cmd_export), (imp, cmd_import)):
        given = sub.add_mutually_exclusive_group()
        given.add_argument(
            "--passphrase-env",
            metavar="NAME",
            help="read the passphrase from the environment variable NAME (for scripts)",
        )
        given.add_argument(
            "--passphrase-stdin",
            action="store_true",
            help="read the passphrase from the first line of standard input (for scripts)",
        )
        add_db_option(sub)
        sub.set_defaults(func=func)


def passphrase(args: argparse.Namespace, *, twice: bool) -> str:
    """The passphrase from --passphrase-env, --passphrase-stdin or, by default, typed
    without echo (`twice` for a new one: a typo would lock the file)."""
    if args.passphrase_env:
        value = os.environ.get(args.passphrase_env, "")
        if not value:
            raise KnownError(
                f"The environment variable {args.passphrase_env} named by --passphrase-env "
                "is not set or empty. Nothing was changed."
            )
        return value
    if args.passphrase_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise KnownError(
                "--passphrase-stdin: the first line of standard input is empty. "
                "Nothing was changed."
            )
        return value
    if not sys.stdin.isatty():
        raise KnownError(
            "No terminal to type the passphrase in: give it with --passphrase-env NAME or "
            "--passphrase-stdin. Nothing was changed."
        )
    value = getpass.getpass("Passphrase: ")
    if twice and value and getpass.getpass("The passphrase again: ") != value:
        raise KnownError("The two passphrases differ. Nothing was written.")
    if not value:
        raise KnownError("No passphrase was typed. Nothing was changed.")
    return value


def cmd_export(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists():
        raise KnownError(
            f"{path} already exists: give another file name, or delete it first. "
            "Nothing was written."
        )
    db = open_database(args.db)  # the key must open the database's secrets
    where = display_url(db.url)
    db.close()
    secret = passphrase(args, twice=True)
    if len(secret) < MIN_PASSPHRASE:
        raise KnownError(
            f"The passphrase is shorter than {MIN_PASSPHRASE} characters: anyone who gets "
            "the file could guess it. Choose a longer one (a few words). Nothing was written."
        )
    vault = get_vault()
    write_new_file(path, vault.sealed(secret))
    print(
        f"Wrote the secrets key of {where} (from {_where(vault.source)}) to {path}, sealed "
        "with the passphrase and readable by you only."
    )
    print(
        f"On each other workstation of the team: python main.py key import {path} --db "
        "<the team's database>, with the same passphrase. Send the file and the "
        "passphrase by separate ways, and delete the file once every workstation has it."
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise KnownError(f"Cannot read {path}: {exc.strerror}. Nothing was changed.") from None
    secret = passphrase(args, twice=False)
    db = Database(args.db)  # not open_database: this workstation's key may not fit yet
    try:
        done = import_key(db, content, secret, str(path), force=args.force)
        where = display_url(db.url)
    finally:
        db.close()
    if not done.changed:
        print(f"This workstation already uses the key in {path} ({_where(done.source)}).")
    else:
        print(f"Imported the team's secrets key from {path} into {_where(done.source)}.")
    if done.kept is not None:
        print(
            f"The key it replaced is kept in {done.kept} (readable by you only): secrets "
            f"written with it open again with ${KEY_FILE_ENV} pointing to that file."
        )
    if done.readable:
        print(f"This workstation reads the account passwords and sessions of {where}.")
    else:
        print(
            f"The account secrets of {where} were written with the replaced key and do not "
            "open with the imported one (--force)."
        )
    return 0


def _where(source: str) -> str:
    return "the OS keyring" if source == "keyring" else f"the key file {source}"
