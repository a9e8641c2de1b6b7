"""Text that both databases can store as it is, and the one line an error is told in.

PostgreSQL refuses a NUL character in text and jsonb, and a lone surrogate (U+D800..U+DFFF,
which JSON's ``\\ud800`` escapes can produce) has no UTF-8 encoding, so neither driver can send
it. SQLite would keep a NUL, but then the database cannot be copied to PostgreSQL.
"""

import re

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def is_storable_text(text: str) -> bool:
    """True if ``text`` holds no NUL and no lone surrogate."""
    return _UNSTORABLE.search(text) is None


def without_unstorable(text: str) -> str:
    """``text`` with every NUL and lone surrogate removed."""
    return _UNSTORABLE.sub("", text)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (a database's carries a detail and a hint on the
    next lines), or its type's name when the message is empty."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
