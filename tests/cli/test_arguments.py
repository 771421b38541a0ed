"""Numbers given on the command line are checked where they are parsed: a count below 1
or more purchases at once than the computer can hold is refused at once, in one line,
instead of a run that hangs or swamps the machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import run_main


def main_py(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A short timeout: today `run --concurrency 0` never ends.
    return run_main(tmp_path, *args, "--db", str(tmp_path / "console.sqlite3"), timeout=60)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("run", "--until-idle", "--concurrency", "0"), "--concurrency: must be at least 1"),
        (("run", "--until-idle", "--concurrency", "-3"), "--concurrency: must be at least 1"),
        (("run", "--until-idle", "--concurrency", "10000"), "--concurrency: at most"),
        (("demo", "--accounts", "-1"), "--accounts: must be at least 1 (got -1)"),
        (("demo", "--units", "0"), "--units: must be at least 1 (got 0)"),
        (("demo", "--units", "many"), "--units: 'many' is not a whole number"),
    ],
)
def test_a_bad_count_is_refused_in_one_line(tmp_path, args, says) -> None:
    done = main_py(tmp_path, *args)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("main.py")]
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "console.sqlite3").exists()  # refused before anything was opened
