"""The app's name, said once, and every folder it keeps things in (platformdirs: the
conventions of Linux, Windows and macOS)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "BuybackConsole"  # folders, the keyring's service name


def data_dir() -> Path:
    """Databases, screenshots of failed steps, browser profiles."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """The secrets key file when there is no keyring."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
