"""Every way a copy, a catch-up, a verification or a rollback stops. The commands say each in
one line and exit non-zero (``management/commands/_common.py``); none leaves the target
changed."""

from typing import Any


class CopyRefused(Exception):
    """A reason not to start, said in one line; nothing has been changed."""


class CopyFailed(Exception):
    """The copy stopped on something the target refused or the source no longer allows; the
    target's transaction was rolled back."""


class VerificationFailed(Exception):
    """Source and target differ (counts, checksums, a declared invariant): the transaction
    that wrote the target is rolled back."""

    def __init__(self, failures: list[str]):
        super().__init__("; ".join(failures))
        self.failures = failures


class UnsupportedColumn(Exception):
    """A model field of a kind the copy does not know how to move and compare."""


class BadValue(Exception):
    """A stored value that is not one of its column's kind as Django stores it (or that the
    other engine cannot hold): named by table, column and key, in one line."""

    def __init__(self, table: str, pk: str, column: str, key: Any, value: Any, reason: str):
        self.table, self.column, self.key, self.reason = table, column, key, reason
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        super().__init__(f"{table}.{column} of the row with {pk} = {key}: {reason} (found {shown})")


class MoveStuck(Exception):
    """A one-step move failed and moving the app back failed too: the message says what state
    the app is left in and what to do."""
