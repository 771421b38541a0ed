"""Purchases made by a person (the `assisted` kind): the console opens the account's own
browser profile on the product page and the operator buys there.

The system's Chrome, Chromium or Edge is started as an ordinary process: its profile
folder and the page's address are all it is given. Nothing here drives or reads the
marketplace's pages (no remote debugging, no automation) and no flag changes how the
browser presents itself to a site (DEVELOPERS.md, "The boundary").
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.core.drivers.browser import BrowserNotFound, find_browser
from app.core.support.errors import KnownError
from app.core.support.paths import data_dir

log = logging.getLogger(__name__)

# Only what makes an ordinary window of that profile: no first-run wizard over the page.
_ARGS = ("--no-first-run", "--new-window")


def on_another_host(profile_host: str | None) -> bool:
    """Whether a folder recorded on `profile_host` lives on another computer than this
    one. A folder recorded before hosts were (None) is taken for this computer's."""
    if not profile_host:
        return False
    # The host as storage.workers.this_host() names it (drivers sit below storage).
    return profile_host.casefold() != socket.gethostname().casefold()


def local_profile_dir(
    account: str, profile_dir: str | None, profile_host: str | None
) -> str | None:
    """The account's imported profile folder if it is on this computer; None (the
    console's own folder for it here) if it was imported on another, which is logged
    naming `account`."""
    if not profile_dir or not on_another_host(profile_host):
        return profile_dir
    log.warning(
        "account %s: profile folder %s is on host %s, not on this one (%s); its browser "
        "opens the console's own profile folder for it on this host (sign in there once)",
        account,
        profile_dir,
        profile_host,
        socket.gethostname(),
    )
    return None


def profile_folder(
    marketplace_code: str,
    account_id: int,
    profile_dir: str | None,
    profile_host: str | None = None,
) -> Path:
    """The account's browser profile: the Chrome profile imported with it, else a folder
    the console keeps for it (the operator signs in once; the profile keeps the session).
    A profile imported on another computer (`profile_host`) is not opened here as if it
    were this one's: the console's own folder for the account is, and the log says so."""
    here = local_profile_dir(f"#{account_id}", profile_dir, profile_host)
    if here:
        return Path(here).expanduser()
    return data_dir() / "profiles" / f"{marketplace_code}-{account_id}"


@dataclass(frozen=True)
class BrowserLaunch:
    """What the console starts for one account and one page."""

    program: str
    profile: Path
    url: str

    @property
    def command(self) -> list[str]:
        return [self.program, f"--user-data-dir={self.profile}", *_ARGS, self.url]


def browser_launch(profile: Path, url: str, browser: str | None = None) -> BrowserLaunch:
    """The launch of the configured (or the system's) browser; raises KnownError when
    there is none, saying what to install or set."""
    try:
        program = find_browser(browser)
    except BrowserNotFound as exc:
        raise KnownError(str(exc)) from None
    return BrowserLaunch(program, profile, url)


def start_browser(launch: BrowserLaunch) -> None:
    """Starts the browser and returns at once; it lives on after the console closes.
    Raises KnownError in one line when it cannot start."""
    try:
        launch.profile.mkdir(parents=True, exist_ok=True)
        # Its own process group: closing the console (or Ctrl+C in its terminal) does
        # not close the operator's browser.
        group = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        subprocess.Popen(
            launch.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=sys.platform != "win32",
            creationflags=group,
        )
    except OSError as exc:
        raise KnownError(
            f"Could not start the browser {launch.program}: {exc.strerror or exc}. "
            f"Choose another one in Settings."
        ) from None
