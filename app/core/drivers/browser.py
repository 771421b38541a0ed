"""Finding the system's Chromium, Chrome or Edge, the flags every launch uses, saying in one
line why a browser did not start, and removing the temporary folders of launches whose
process was killed."""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import sys
import tempfile
import time
from pathlib import Path

import psutil

BROWSER_ENV = "BUYBACK_BROWSER"

# Flags for an ordinary, quiet Chromium: no sandbox (containers, root), no GPU, and none of
# the background traffic (updates, sync, QUIC probes) that floods refused connections on
# a machine without network. Measured for issue 15 and left out, as they saved neither
# memory nor CPU per purchase: V8 flags (--js-flags=--lite-mode, --jitless, --max-lazy,
# --single-threaded, smaller heaps), --num-raster-threads=1 and more --disable-features
# (Prerender2, NoStatePrefetch, ...; a second --disable-features would also replace the
# list Playwright passes). Playwright already passes --disable-back-forward-cache.
CHROMIUM_ARGS: list[str] = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_PATH_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "microsoft-edge-stable",
    "msedge",
)


class BrowserNotFound(Exception):
    """No usable browser: the message tells the operator what to install or configure."""


def _install_paths() -> list[Path]:
    if sys.platform == "darwin":
        return [
            Path("/Applications/Chromium.app/Contents/MacOS/Chromium"),
            Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
            Path("/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"),
        ]
    if sys.platform == "win32":
        roots = [os.environ.get(v) for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        suffixes = [
            Path("Chromium/Application/chrome.exe"),
            Path("Google/Chrome/Application/chrome.exe"),
            Path("Microsoft/Edge/Application/msedge.exe"),
        ]
        return [Path(root) / suffix for root in roots if root for suffix in suffixes]
    return []


# Chromium's old headless shell (Debian's `chromium-headless-shell`): the same engine
# without the browser's window UI, which every new context of a full headless Chromium
# starts a renderer for (issue 15: about a third of the memory and CPU per purchase).
HEADLESS_SHELL = "chromium-headless-shell"


def find_browser(explicit: str | None = None, *, headless: bool = False) -> str:
    """The browser executable to launch: `explicit` if given, else $BUYBACK_BROWSER, else
    (for `headless` purchases) the headless shell when installed, else the first
    Chromium/Chrome/Edge on PATH or in the usual install folders."""
    configured = explicit or os.environ.get(BROWSER_ENV)
    if not configured and headless:
        shell = shutil.which(HEADLESS_SHELL)
        if shell:
            return shell
    if configured:
        if Path(configured).is_file():
            return configured
        source = "the configured browser path" if explicit else f"${BROWSER_ENV}"
        raise BrowserNotFound(
            f"The browser {configured} (from {source}) does not exist. Fix the browser path "
            "in settings, or clear it to use the Chromium, Chrome or Edge found on this computer."
        )
    for name in _PATH_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in _install_paths():
        if path.is_file():
            return str(path)
    raise BrowserNotFound(
        "No Chromium, Chrome or Edge found. Install one (Debian: apt-get install chromium) "
        f"or set the browser path in settings / {BROWSER_ENV}."
    )


# A line of the browser's own output in Playwright's launch log: "[pid=42][err] text".
_BROWSER_SAID = re.compile(r"^\[pid=\d+\]\[err\] (.+)$", re.MULTILINE)
_SAID_MAX = 160


def launch_failure(path: str, error: str, explicit: str | None = None) -> str:
    """What the operator reads when the browser at `path` did not start, in one line: the
    first thing it said (from Playwright's launch `error`, which goes on for dozens of
    lines) and what to do. `explicit` is the path given in settings or on the command
    line, as for find_browser."""
    said = _BROWSER_SAID.search(error)
    reason = said.group(1) if said else error.strip().splitlines()[0] if error.strip() else ""
    reason = reason.removeprefix("BrowserType.launch: ").strip()
    if len(reason) > _SAID_MAX:
        reason = reason[: _SAID_MAX - 1] + "…"
    reason = f" ({reason})" if reason else ""
    if explicit or os.environ.get(BROWSER_ENV):
        where = "the browser path in settings" if explicit else f"${BROWSER_ENV}"
        return (
            f"The browser {path} did not start{reason}: it may not be Chromium, Chrome or "
            f"Edge. Correct {where}, or clear it to use the one found on this computer."
        )
    return (
        f"The browser {path} found on this computer did not start{reason}. Reinstall it, "
        "or choose another Chromium, Chrome or Edge as the browser in settings."
    )


# Playwright makes these in the temp folder for each launch and removes them when the
# browser closes; a process killed outright (SIGKILL, a power cut) leaves them behind.
PROFILE_PREFIX = "playwright_chromiumdev_profile-"  # the browser's user-data-dir
ARTIFACTS_PREFIX = "playwright-artifacts-"  # Playwright's downloads and traces
# A profile folder is made a moment before the browser that locks it starts: one this
# young may belong to a launch in progress, here or in another worker.
PROFILE_GRACE_S = 10 * 60
# A folder whose use cannot be told goes only after a day untouched: an artifacts folder
# (no browser names it and none locks it; it is empty anyway), or a profile locked by a
# browser of another machine or with a lock that cannot be read.
UNSURE_MAX_AGE_S = 24 * 3600


def remove_stale_browser_folders(
    root: Path | None = None, *, now: float | None = None
) -> list[Path]:
    """Removes the folders Playwright left in `root` (the temp folder) for browsers that are
    gone; returns them. A profile folder stays while a running browser names it or holds
    its lock, and for PROFILE_GRACE_S after its last change; an artifacts folder stays for
    UNSURE_MAX_AGE_S. Only the user's own folders are looked at."""
    root = Path(tempfile.gettempdir()) if root is None else root
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    in_use: set[str] | None = None  # looked up once, and only if a profile is a candidate
    removed: list[Path] = []
    for entry in entries:
        if entry.name.startswith(PROFILE_PREFIX):
            min_age = PROFILE_GRACE_S
        elif entry.name.startswith(ARTIFACTS_PREFIX):
            min_age = UNSURE_MAX_AGE_S
        else:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        age = now - info.st_mtime
        if not stat.S_ISDIR(info.st_mode) or not _owned(info) or age < min_age:
            continue
        path = Path(entry.path)
        if entry.name.startswith(PROFILE_PREFIX):
            if in_use is None:
                in_use = _profiles_named_by_processes()
            if _key(path) in in_use or _locked(path, age):
                continue
            socket_folder = _socket_folder(path, root)
            if socket_folder is not None:
                shutil.rmtree(socket_folder, ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    return removed


def _owned(info: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _key(path: Path | str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _profiles_named_by_processes() -> set[str]:
    """The user-data-dirs of every running browser whose command line can be read."""
    named: set[str] = set()
    for process in psutil.process_iter(["cmdline"]):
        for arg in process.info.get("cmdline") or ():
            if arg.startswith("--user-data-dir="):
                named.add(_key(arg.partition("=")[2]))
    return named


def _socket_folder(profile: Path, root: Path) -> Path | None:
    """The folder a killed browser's profile links its singleton socket into (Chromium
    makes one in the temp folder per browser, e.g. org.chromium.Chromium.Ab12Cd)."""
    try:
        folder = Path(os.readlink(profile / "SingletonSocket")).parent
        info = folder.lstat()
    except OSError:
        return None
    same_root = _key(folder.parent) == _key(root)
    return folder if same_root and stat.S_ISDIR(info.st_mode) and _owned(info) else None


def _locked(profile: Path, age: float) -> bool:
    """Whether a browser may still hold the profile, by Chromium's own lock: on POSIX a
    symlink to "host-pid", on Windows a file a running browser keeps open."""
    lock = profile / "SingletonLock"
    if lock.is_symlink():
        try:
            host, _, pid = os.readlink(lock).rpartition("-")
        except OSError:  # removed this instant by a browser closing
            host, pid = "", ""
        if host == socket.gethostname() and pid.isdigit():
            return psutil.pid_exists(int(pid))
        return age < UNSURE_MAX_AGE_S
    windows_lock = profile / "lockfile"
    if windows_lock.exists():
        try:
            windows_lock.unlink()  # fails while the browser that made it runs
        except OSError:
            return True
    return False
