"""A browser that does not start is said in one line: the path, what it said, what to do
(not Playwright's launch log of dozens of lines)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.drivers.browser import (
    BROWSER_ENV,
    HEADLESS_SHELL,
    BrowserNotFound,
    find_browser,
    launch_failure,
)
from app.core.drivers.sandbox import SandboxDriver


async def test_a_path_to_something_else_than_a_browser_says_what_to_do_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sessions
) -> None:
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    not_a_browser = tmp_path / "notes.sh"
    not_a_browser.write_text("#!/bin/sh\necho 'this is not a browser' >&2\nexit 3\n")
    not_a_browser.chmod(0o755)
    driver = SandboxDriver(
        "http://127.0.0.1:9", sessions, shop="Sandbox", browser_path=str(not_a_browser)
    )
    with pytest.raises(BrowserNotFound) as failed:
        await driver.start()
    assert str(failed.value) == (
        f"The browser {not_a_browser} did not start (this is not a browser): it may not be "
        "Chromium, Chrome or Edge. Correct the browser path in settings, or clear it to use "
        "the one found on this computer."
    )
    assert driver._playwright is None  # nothing left running


def test_a_browser_found_on_the_computer_that_does_not_start(monkeypatch) -> None:
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    log = (
        "BrowserType.launch: Target page, context or browser has been closed\nBrowser logs:\n"
        "\n<launching> /usr/bin/chromium --no-sandbox\n<launched> pid=7\n"
        f"[pid=7][err] {'x' * 300}\nCall log:\n  - <launching> /usr/bin/chromium\n"
    )
    text = launch_failure("/usr/bin/chromium", log)
    assert "\n" not in text and len(text) < 320
    assert text.startswith("The browser /usr/bin/chromium found on this computer did not start")
    assert text.endswith(
        "Reinstall it, or choose another Chromium, Chrome or Edge as the browser in settings."
    )
    # Without the browser's own words, Playwright's first line stands for them.
    assert "(Target page, context or browser has been closed)" in launch_failure(
        "/usr/bin/chromium", log.replace("[pid=7][err]", "")
    )


def test_headless_purchases_use_the_headless_shell_and_windows_a_full_browser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The set-up command installs Debian's chromium-headless-shell: headless purchases
    run in it (no per-context window UI), while what a person sees (a shown browser, an
    assisted purchase) is the full browser; a configured path wins over both."""
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    shell = shutil.which(HEADLESS_SHELL)
    assert shell is not None, "scripts/setup.sh installs chromium-headless-shell"
    assert find_browser(headless=True) == shell
    full = find_browser()
    assert Path(full).name != HEADLESS_SHELL
    assert find_browser(full, headless=True) == full
