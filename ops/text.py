"""Text that both databases can store as it is.

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
