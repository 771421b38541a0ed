"""Errors split by who is to blame: KnownError for the environment or the input, shown to
the operator as is; anything else is our bug and fails loudly."""


class KnownError(Exception):
    """Something the operator can fix: the message says what is wrong and what to do."""
