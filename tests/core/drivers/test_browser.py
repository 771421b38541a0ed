"""Removing the temporary folders of browser launches whose process was killed, without
touching those of browsers still running (here or in another worker)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.drivers.browser import remove_stale_browser_folders

HOUR = 3600.0
DAY = 24 * HOUR


def folder(
    root: Path, name: str, age_s: float, *, lock: str = "", socket_dir: Path | None = None
) -> Path:
    """A folder like the ones Playwright makes, last changed `age_s` seconds ago; `lock`
    and `socket_dir` make Chromium's links of a profile (to "host-pid" and to the socket in
    its own folder in the temp folder)."""
    path = root / name
    (path / "Default").mkdir(parents=True)
    (path / "Local State").write_text("{}")
    if lock:
        (path / "SingletonLock").symlink_to(lock)
    if socket_dir is not None:
        socket_dir.mkdir()
        (path / "SingletonSocket").symlink_to(socket_dir / "SingletonSocket")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


@pytest.fixture
def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_left_behind_folders_go_and_those_in_use_stay(tmp_path: Path, dead_pid: int) -> None:
    host = socket.gethostname()
    killed = folder(tmp_path, "playwright_chromiumdev_profile-Kill01", HOUR)
    # The dead browser's singleton socket folder goes with its profile.
    socket_folder = tmp_path / "org.chromium.Chromium.Kill02"
    killed_locked = folder(
        tmp_path,
        "playwright_chromiumdev_profile-Kill02",
        HOUR,
        lock=f"{host}-{dead_pid}",
        socket_dir=socket_folder,
    )
    old_artifacts = folder(tmp_path, "playwright-artifacts-Old001", 2 * DAY)

    running = folder(
        tmp_path, "playwright_chromiumdev_profile-Run001", DAY / 2, lock=f"{host}-{os.getpid()}"
    )
    named = folder(tmp_path, "playwright_chromiumdev_profile-Run002", HOUR)
    launching = folder(tmp_path, "playwright_chromiumdev_profile-New001", 60)
    other_machine = folder(
        tmp_path, "playwright_chromiumdev_profile-Far001", HOUR, lock="elsewhere-4242"
    )
    recent_artifacts = folder(tmp_path, "playwright-artifacts-New001", HOUR)
    not_playwrights = folder(tmp_path, "chromium-profile-Mine01", 30 * DAY)

    browser = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", f"--user-data-dir={named}"]
    )
    try:
        removed = remove_stale_browser_folders(tmp_path)
    finally:
        browser.kill()
        browser.wait()

    assert sorted(removed) == sorted([killed, killed_locked, old_artifacts])
    assert not any(p.exists() for p in [killed, killed_locked, old_artifacts, socket_folder])
    kept = [running, named, launching, other_machine, recent_artifacts, not_playwrights]
    assert all(p.is_dir() for p in kept)


def test_a_lock_from_another_machine_counts_for_a_day(tmp_path: Path) -> None:
    day_old = folder(
        tmp_path, "playwright_chromiumdev_profile-Far002", DAY + HOUR, lock="elsewhere-4242"
    )

    assert remove_stale_browser_folders(tmp_path) == [day_old]


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root")
def test_other_users_folders_are_left_alone(tmp_path: Path) -> None:
    theirs = folder(tmp_path, "playwright_chromiumdev_profile-Their1", 2 * DAY)
    os.chown(theirs, 65534, 65534)

    assert remove_stale_browser_folders(tmp_path) == []
    assert theirs.is_dir()
