"""Errors split by who is to blame (as qutebrowser's KnownError / BugError): KnownError
for the environment or the input, shown to the operator as is; anything else is a defect
of ours, logged with its traceback and reported as an internal error."""

from __future__ import annotations

from app.core.support.logs import log_file


class KnownError(Exception):
    """Something the operator can fix: the message says what is wrong and what to do."""


class BugError(Exception):
    """A defect of ours caught where it shows (a state the code says cannot happen)."""


def internal_error(exc: BaseException) -> str:
    """A defect as the operator reads it: what broke and where the log with its traceback
    is, to send along with a problem report."""
    return (
        f"internal error ({type(exc).__name__}: {exc}); this is a defect of the console, "
        f"the details are in the log {log_file()}"
    )
