"""Transactions whose first statement is a write.

On SQLite a write transaction holds the whole database's write lock, so its length bounds the
install's writes per second. The site's transactions begin ``IMMEDIATE`` (the lock taken at
``BEGIN``): a transaction that reads first and writes later then cannot fail with "database is
locked" when another writer committed between its read and its write. A transaction whose
first statement is a write does not need that: begun ``DEFERRED``, it takes the lock with that
statement, once the statement is built, and not while the ORM builds it. On PostgreSQL
``BEGIN`` takes no lock, and this is ``transaction.atomic``.
"""

import contextlib
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, connections, transaction


@contextlib.contextmanager
def write_transaction(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """``transaction.atomic(using)`` for a block whose first statement writes (an UPDATE or an
    INSERT; on SQLite even one that matches no row takes the write lock). Inside an outer
    transaction it is a savepoint of that transaction, as ``atomic`` is."""
    connection = connections[using]
    if not hasattr(connection, "begin_deferred"):  # not the site's SQLite backend
        with transaction.atomic(using=using):
            yield
        return
    connection.begin_deferred = True  # read by the BEGIN that atomic() may issue
    try:
        with transaction.atomic(using=using):
            connection.begin_deferred = False
            yield
    finally:
        connection.begin_deferred = False
