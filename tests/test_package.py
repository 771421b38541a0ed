"""The packaged executable: `scripts/package.sh` builds the one-folder package with
PyInstaller and runs its selftest, one real purchase on the bundled shop."""

from __future__ import annotations

import subprocess

import pytest
from helpers import ROOT

pytestmark = pytest.mark.browser


def test_the_package_builds_and_its_selftest_buys_a_unit() -> None:
    done = subprocess.run(
        ["bash", "scripts/package.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Buyback console " in done.stdout
    assert "Purchased 1 of 1 unit " in done.stdout
    assert "selftest: passed" in done.stderr
    assert "Console languages: en, ru" in done.stderr  # the translations travel along
    assert (ROOT / "dist" / "buyback-console" / "buyback-console").exists()
