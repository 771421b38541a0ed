"""The chaos harness on a small Order: the engine process is SIGKILLed at random moments
and restarted while the shop injects faults; afterwards no unit is lost, none is bought
twice, and the console's records match the shop's ledger one for one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import ROOT

pytestmark = pytest.mark.browser


def test_killed_and_restarted_engine_loses_and_duplicates_nothing() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.chaos",
            "--units",
            "12",
            "--kills",
            "2",
            "--min-s",
            "3",
            "--max-s",
            "6",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kills"] >= 1
    assert (result["lost"], result["duplicated"], result["mismatched"]) == (0, 0, 0)
    settled = result["purchased"] + result["failed"] + result["needs_review"]
    assert settled == result["units"] == 12
    assert result["shop_orders"] == result["purchased"]
