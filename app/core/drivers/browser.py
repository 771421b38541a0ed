"""Finding the system's Chromium, Chrome or Edge, and the flags every launch uses."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

BROWSER_ENV = "BUYBACK_BROWSER"

# Flags for an ordinary, quiet Chromium: no sandbox (containers, root), no GPU, and none of
# the background traffic (updates, sync, QUIC probes) that floods refused connections on
# a machine without network.
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


def find_browser(explicit: str | None = None) -> str:
    """The browser executable to launch: `explicit` if given, else $BUYBACK_BROWSER, else
    the first Chromium/Chrome/Edge on PATH or in the usual install folders."""
    configured = explicit or os.environ.get(BROWSER_ENV)
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
