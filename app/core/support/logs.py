"""The log: the terminal as before, plus a rotating file in the user log folder that an
operator can send along with a problem report."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

from app.core.support.paths import log_dir

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 2 * 2**20
BACKUPS = 5  # the file and five older ones: 12 MB at most


OURS = "_buyback_handler"
H = TypeVar("H", bound=logging.Handler)


def _ours(handler: H) -> H:
    setattr(handler, OURS, True)
    return handler


def log_file() -> Path:
    return log_dir() / "console.log"


class _NoTraceback(logging.Formatter):
    """The terminal's lines: a traceback goes to the log file only (the operator reads one
    line; whoever fixes the defect reads the file)."""

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info or record.exc_text or record.stack_info):
            return super().format(record)
        plain = logging.makeLogRecord(record.__dict__)
        plain.exc_info = plain.exc_text = plain.stack_info = None
        return f"{super().format(plain)} (details in the log file)"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log that only its user may read (it names accounts and their phones):
    the file is made with mode 0600 whenever it is opened anew, rotation included, and
    files made by older versions are narrowed to that."""

    def __init__(self, path: Path) -> None:
        if os.name == "posix":
            for n in range(BACKUPS + 1):
                with suppress(OSError):  # no such file, or not ours to change
                    path.with_name(f"{path.name}.{n}" if n else path.name).chmod(0o600)
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        # Made here with the mode, as open() would make it with the umask's (often 0644).
        os.close(os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        return super()._open()


def setup_logging(verbose: bool = False) -> Path | None:
    """Logs warnings (INFO with `verbose`) to stderr, and INFO and above to the rotating
    file; returns the file, or None when its folder cannot be written (the console
    still runs, logging to stderr only)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for old in [h for h in root.handlers if getattr(h, OURS, False)]:
        root.removeHandler(old)  # set up again (main() called twice in one process)
        old.close()
    console = _ours(logging.StreamHandler(sys.stderr))
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(_NoTraceback(FORMAT))
    root.addHandler(console)
    path = log_file()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = _ours(_PrivateRotatingFileHandler(path))
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file at %s: %s", path, exc.strerror)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path
