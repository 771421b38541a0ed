"""bench.browsers counts the CPU of every process a purchase starts, including a renderer
that outlives its parent (reparented away from our process tree)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bench.browsers import CpuMeter

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"


def test_cpu_of_an_orphaned_grandchild_is_counted() -> None:
    shop = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    meter = CpuMeter(exclude=shop.pid)
    try:
        if not meter.exact:
            pytest.skip("no cgroup of our own can be made here: only live processes count")
        before = meter.seconds()
        # A child that starts a burning grandchild and exits at once: the grandchild is
        # reparented to init, out of our process tree, as a renderer can be.
        done = time.monotonic() + 30
        marker = subprocess.run(
            [
                sys.executable,
                "-c",
                "import subprocess, sys\n"
                f"p = subprocess.Popen([sys.executable, '-c', {BURN!r}])\n"
                "print(p.pid)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        orphan = int(marker.stdout)
        while _alive(orphan):
            assert time.monotonic() < done
            time.sleep(0.05)
        assert meter.seconds() - before >= 0.4
    finally:
        meter.close()
        shop.kill()
        shop.wait()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] not in "ZX"
    except FileNotFoundError:
        return False
