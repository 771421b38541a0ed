"""How soon the console's window is on screen: `main.py` started as the operator starts it
(on a fresh SQLite database, with its own data and settings folders), timed from just
before the process is created to the first painted frame of the main window, and to the
window showing its data ("ready"). Offscreen, and under Xvfb (xcb) when Xvfb is
installed; `--exe` times a packaged console instead of `python main.py`.

    python -m bench.startup --json [--runs 5] [--exe dist/buyback-console/buyback-console]

The console reports the moments into the file named by $BUYBACK_REPORT_FIRST_PAINT
(app.ui.app). Python's compiled bytecode is kept between the runs (in a folder of the
bench's own, whatever $PYTHONDONTWRITEBYTECODE says), as an installed console keeps it,
and one unmeasured start comes first. Target: first_paint_s <= 0.5 s, the median over the
runs on the slower platform (offscreen_first_paint_s and xcb_first_paint_s are each one).
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import report

ROOT = Path(__file__).resolve().parent.parent
REPORT_ENV = "BUYBACK_REPORT_FIRST_PAINT"  # app.ui.app.FIRST_PAINT_ENV
TIMEOUT_S = 60.0


def launch_once(
    command: list[str], platform: str, display: str | None, pycache: Path
) -> dict[str, float]:
    """One start of the console: seconds from before Popen to each moment it reported."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder = Path(tmp)
        marks = folder / "marks.txt"
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_STATE_HOME": str(folder / "state"),
            "XDG_CONFIG_HOME": str(folder / "config"),  # Settings and the saved layout
            "XDG_CACHE_HOME": str(folder / "cache"),
            "BUYBACK_KEY_FILE": str(folder / "secrets.key"),  # no OS keyring asked
            "QT_QPA_PLATFORM": platform,
            REPORT_ENV: str(marks),
            "PYTHONPYCACHEPREFIX": str(pycache),
        }
        env.pop("BUYBACK_DB", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if display is not None:
            env["DISPLAY"] = display
        started = time.time()
        proc = subprocess.Popen(
            [*command, "--db", str(folder / "console.sqlite3")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            seen = wait_for(marks, proc, "ready")
        finally:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        if "ready" not in seen:
            tail = err.decode(errors="replace")[-2000:]
            raise SystemExit(f"the console never reported 'ready' ({platform}):\n{tail}")
        return {name: at - started for name, at in seen.items()}


def wait_for(marks: Path, proc: subprocess.Popen[bytes], last: str) -> dict[str, float]:
    """The moments in `marks` ("name unix-time" lines) once `last` is among them."""
    deadline = time.monotonic() + TIMEOUT_S
    seen: dict[str, float] = {}
    while time.monotonic() < deadline and proc.poll() is None:
        if marks.exists():
            for line in marks.read_text().splitlines():
                name, _, at = line.partition(" ")
                if at:
                    seen[name] = float(at)
        if last in seen:
            break
        time.sleep(0.01)
    return seen


@contextmanager
def xvfb() -> Iterator[str | None]:
    """A fresh Xvfb server's display, or None when Xvfb is not installed."""
    program = shutil.which("Xvfb")
    if program is None:
        yield None
        return
    read, write = os.pipe()
    server = subprocess.Popen(
        [program, "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as answer:
            number = answer.readline().strip()
        yield f":{number}" if number else None
    finally:
        server.terminate()
        server.wait(timeout=10)


def summary(prefix: str, runs: list[dict[str, float]]) -> dict[str, float]:
    """Median, min and max of each moment, in seconds."""
    out: dict[str, float] = {}
    for moment, key in (("paint", "first_paint_s"), ("ready", "ready_s")):
        values = [r[moment] for r in runs]
        out[f"{prefix}{key}"] = round(statistics.median(values), 3)
        out[f"{prefix}{key}_min"] = round(min(values), 3)
        out[f"{prefix}{key}_max"] = round(max(values), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="starts per platform (default 5)")
    parser.add_argument("--exe", help="a packaged console to time instead of python main.py")
    parser.add_argument("--json", action="store_true", help="print JSON as the last line")
    args = parser.parse_args()
    command = [str(Path(args.exe).resolve())] if args.exe else [sys.executable, "main.py"]
    result: dict[str, object] = {"runs": args.runs, "command": " ".join(command)}
    with tempfile.TemporaryDirectory(prefix="bench-startup-pyc-") as pycache:
        start = functools.partial(launch_once, command, pycache=Path(pycache))
        start("offscreen", None)  # compiles the bytecode and warms the disk cache
        platforms = [("offscreen", [start("offscreen", None) for _ in range(args.runs)])]
        with xvfb() as display:
            if display is not None:
                platforms.append(("xcb", [start("xcb", display) for _ in range(args.runs)]))
    times: dict[str, float] = {}
    for platform, runs in platforms:
        times.update(summary(f"{platform}_", runs))
    result["first_paint_s"] = max(times[f"{p}_first_paint_s"] for p, _ in platforms)
    result["ready_s"] = max(times[f"{p}_ready_s"] for p, _ in platforms)
    result.update(times)
    report(result, args.json)


if __name__ == "__main__":
    main()
