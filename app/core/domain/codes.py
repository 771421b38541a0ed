"""What marketplaces answer and what it does to an account: error codes, account statuses,
health verdicts and delivery states, each defined once."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Why an attempt did not buy (Task.error_code, DriverError.code)."""

    # The marketplace said no to this unit: retrying the same thing will not help.
    OUT_OF_STOCK = "out_of_stock"
    PRICE_ABOVE_CAP = "price_above_cap"
    UNKNOWN_ARTICLE = "unknown_article"
    UNKNOWN_PICKUP_POINT = "unknown_pickup_point"
    CART_MISMATCH = "cart_mismatch"
    UNEXPECTED_PAGE = "unexpected_page"
    # The marketplace's address leads to another site: no unit buys until it is corrected.
    WRONG_SITE = "wrong_site"
    # The account's fault: it leaves the pool, another account buys the unit.
    ACCOUNT_BLOCKED = "account_blocked"
    BAD_CREDENTIALS = "bad_credentials"
    SESSION_EXPIRED = "session_expired"
    # The system hiccupped: retried with backoff.
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    HTTP_5XX = "http_5xx"
    BROWSER_CRASH = "browser_crash"
    BROWSER_ERROR = "browser_error"
    ERROR = "error"  # a driver's error of no finer kind
    # Ours.
    INTERNAL = "internal"  # a defect of the console: see the log
    UNCERTAIN = "uncertain"  # the order may exist and could not be checked: review


# Answers that prove the place-order step placed nothing.
NOTHING_PLACED = frozenset({ErrorCode.OUT_OF_STOCK})

# Temporary failures of this computer's own browser, not of the account or the
# marketplace: the account goes back to the pool without resting, so a crash of the
# browser does not keep a Line's remaining units waiting for accounts to cool down.
OUR_SIDE = frozenset({ErrorCode.BROWSER_CRASH})


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"  # in the pool
    DISABLED = "disabled"  # taken out by the operator, or its password was rejected
    BLOCKED = "blocked"  # the marketplace blocked it; a check that logs in brings it back


class Health(enum.StrEnum):
    """An account's verdict from its last check."""

    UNKNOWN = "unknown"  # never checked
    VALID = "valid"
    SESSION_EXPIRED = "session_expired"  # logged out, and no password to log in again
    BLOCKED = "blocked"
    BAD_CREDENTIALS = "bad_credentials"


class DeliveryStatus(enum.StrEnum):
    ORDERED = "ordered"
    IN_TRANSIT = "in_transit"
    AT_PICKUP_POINT = "at_pickup_point"
    UNKNOWN = "unknown"


# The one table of answers that are about the account, not the unit: what a check calls
# the account and the status it gets, whether a purchase or a health check met them.
ACCOUNT_ANSWERS: dict[ErrorCode, tuple[Health, AccountStatus]] = {
    ErrorCode.ACCOUNT_BLOCKED: (Health.BLOCKED, AccountStatus.BLOCKED),
    ErrorCode.BAD_CREDENTIALS: (Health.BAD_CREDENTIALS, AccountStatus.DISABLED),
}


def account_status_after(answer: str) -> AccountStatus | None:
    """The status an account takes after this error code or health verdict; None when
    the answer says nothing against the account."""
    for code, (health, status) in ACCOUNT_ANSWERS.items():
        if answer in (code, health):
            return status
    return None


def health_of(code: str) -> Health | None:
    """The health verdict an account error means (a check met it), else None."""
    for known, (health, _status) in ACCOUNT_ANSWERS.items():
        if code == known:
            return health
    return None
