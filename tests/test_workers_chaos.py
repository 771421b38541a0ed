"""Several workers on one PostgreSQL database against the faulty shop (bench.workers, issue
13), on a small Order whose account rule is off: worker A is SIGKILLed mid-purchase and
restarted, B (another host name, `unshare -u`) is SIGKILLed mid-purchase and never comes
back, C runs with its clock 15 minutes behind (`faketime`). Afterwards no unit is lost or
bought twice, the console's records match the shop's ledger one for one, no account was
in two purchases at once, B's units were rescued by the others within the minute and a
half, C saw its clock's offset, and no worker crashed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT
from pg_server import Server

pytestmark = pytest.mark.browser

UNITS = 45


def _explain(result: dict[str, Any], logs: Path) -> str:
    """The bench's figures and the end of each worker's output, for a failure's message."""
    tails = [
        f"--- worker {out.parent.name}:\n" + "\n".join(out.read_text().splitlines()[-25:])
        for out in sorted(logs.glob("*/output.txt"))
    ]
    return "\n".join([json.dumps(result, indent=1), *tails])


@pytest.mark.timeout(600)
def test_workers_killed_gone_and_clock_off_lose_and_duplicate_nothing(
    pg_server: Server, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.workers",
            "--db",
            pg_server.url.render_as_string(hide_password=False),
            "--units",
            str(UNITS),
            "--accounts",
            "20",
            "--kill-a-at",
            "0.1",
            "--kill-b-at",
            "0.25",
            "--timeout",
            "420",
            "--logs",
            str(logs),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    why = _explain(result, logs)
    assert not result["gave_up"], why
    assert (result["lost"], result["duplicated"], result["mismatched"]) == (0, 0, 0), why
    settled = result["purchased"] + result["failed"] + result["needs_review"]
    assert settled == result["units"] == UNITS, why
    assert result["shop_orders"] == result["purchased"], why
    # No account in two purchases at once by the database's clock (at each event's
    # insert) nor by its commit order. Not asserted: the same by the times the workers
    # write on the events (accounts_double_used), which they take before the write waits
    # in their group-committing writer's queue (up to a second or more on a loaded
    # machine): by those an account can seem to pass to its next Task a moment before the
    # last one let it go. Reported to the engine's owner; assert it once events are
    # stamped when they are written.
    assert result["accounts_double_used_by_server_clock"] == 0, why
    assert result["accounts_double_used_by_commit_order"] == 0, why
    assert result["crashes"] == 0, why
    b = result["rescues"]["B"]
    assert b["tasks_at_kill"] >= 1 and not b["stranded"], why
    assert result["rescue_seconds"] is not None and result["rescue_seconds"] <= 90, why
    assert result["workers"]["B"]["host"] == "other-host", why
    assert result["clock_offset_seen_by_c_s"] == pytest.approx(-900, abs=5), why
