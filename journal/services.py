"""Writes of the journal, each with a short critical section: the Python work (the size, the
entry limit, the quota in force from the user's subscriptions, the entry read before an
update or a delete) is done before the transaction; inside it, one conditional UPDATE of the
user's usage row is at once the lock (concurrent writers of one user queue on it), the quota
check and the count (its row count says whether the write fits), beside the write of the entry
itself. An update or a delete writes its entry first, conditional on the size it read (the
entry's own lock, and the proof that the usage moves by the right amount), then the usage
row; an insert takes the usage row, then adds a row nobody else can hold. No writer waits for
another lock while it holds the usage row, so writers of one user cannot deadlock. On SQLite
every write transaction holds the whole database's write lock, so the length of these
transactions is the install's ceiling of writes per second.

The quota is known before the transaction: first the one every user has (most writes fit it,
whatever the subscriptions), and only for a write past it the quota in force, read from the
user's subscriptions. A subscription that changes meanwhile puts the write on the side of
the change that it read, and never past that quota."""

import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from accounts.locks import lock_user
from accounts.models import User
from journal.exceptions import EntryNotFound, EntryTooLarge, QuotaExceeded
from journal.models import JournalEntry, JournalUsage
from journal.selectors import quota_bytes_for_user
from ops.transactions import write_transaction

T = TypeVar("T")

# An update or a delete whose entry changed between its read and its transaction reads it
# again; past this many tries (only under a storm of writes to one entry) it is not found.
ENTRY_WRITE_TRIES = 5
# A usage move that did not fit, yet fits when read again right after (a twin committed
# between the two), tries again; past this many tries it is refused.
USAGE_MOVE_TRIES = 5


class _EntryChanged(Exception):
    """The entry is not the one read before the transaction: roll back and read it again."""


def content_size(content: str) -> int:
    return len(content.encode("utf-8"))


def _check_entry_size(size: int) -> None:
    if size > settings.JOURNAL_MAX_ENTRY_BYTES:
        raise EntryTooLarge(
            f"Entry is {size} bytes; the limit is {settings.JOURNAL_MAX_ENTRY_BYTES} bytes."
        )


class _UsageMove:
    """A move of the user's usage row by these amounts if the bytes stay within ``quota``
    (always when they shrink). Built before the transaction (the querysets), applied inside
    it: one conditional UPDATE, which is also the lock of the user's writes."""

    def __init__(self, *, user_id: uuid.UUID, growth: int, entries: int, quota: int) -> None:
        usages = JournalUsage.objects.using(DEFAULT_DB_ALIAS)
        fits = {"bytes_used__lte": quota - growth} if growth > 0 else {}
        self.user_id, self.growth, self.entries, self.quota = user_id, growth, entries, quota
        self.usages = usages
        self.fitting = usages.filter(pk=user_id, **fits)
        self.moves = {"bytes_used": F("bytes_used") + growth, "entries": F("entries") + entries}

    def _bytes_used(self) -> int | None:
        return self.usages.filter(pk=self.user_id).values_list("bytes_used", flat=True).first()

    def apply(self) -> None:
        """Move the row; raise QuotaExceeded when the bytes would not fit."""
        growth, quota = self.growth, self.quota
        used = None
        for _ in range(USAGE_MOVE_TRIES):
            if self.fitting.update(**self.moves):
                return
            used = self._bytes_used()
            if used is None:
                # The user's first write: no row yet. First writes of one user take the user's
                # lock (nothing else is held yet), so one of them creates the row and the
                # others move it.
                lock_user(user_id=self.user_id)  # AccountDeleted (401) if the account went
                if self.fitting.update(**self.moves):
                    return
                used = self._bytes_used()
                if used is None and growth <= quota:
                    self.usages.create(
                        user_id=self.user_id,
                        bytes_used=max(growth, 0),
                        entries=max(self.entries, 0),
                    )
                    return
            if used is None or used + growth > quota:
                break
            # It fits now: the row was created, or shrunk, by a twin that committed between
            # the UPDATE and the read. Move it again.
        raise QuotaExceeded(f"This would use {(used or 0) + growth} bytes of a {quota}-byte quota.")


def _within_quota(*, user: User, write: Callable[[int], T]) -> T:
    """``write(quota)`` with the quota every user has whatever their subscriptions (the smaller
    of the free and the premium one): most writes fit it, and so need not read the user's
    subscriptions. Only a write that does not fit reads the quota in force (from the primary)
    and runs again with it."""
    floor = min(settings.JOURNAL_QUOTA_FREE_BYTES, settings.JOURNAL_QUOTA_PREMIUM_BYTES)
    try:
        return write(floor)
    except QuotaExceeded:
        quota = quota_bytes_for_user(user=user, using=DEFAULT_DB_ALIAS)
        if quota <= floor:
            raise
        return write(quota)


def _entry_as_read(*, user: User, entry_id: uuid.UUID) -> JournalEntry:
    """The user's entry as the primary holds it (its size decides the usage's move)."""
    entry = JournalEntry.objects.using(DEFAULT_DB_ALIAS).filter(user=user, pk=entry_id).first()
    if entry is None:
        raise EntryNotFound()
    return entry


def insert_journal_entry(*, user: User, content: str) -> JournalEntry:
    """Add an entry if it fits the entry limit and the user's quota."""
    size = content_size(content)
    _check_entry_size(size)
    entry = JournalEntry(user=user, content=content, size_bytes=size)

    def write(quota: int) -> JournalEntry:
        move = _UsageMove(user_id=user.pk, growth=size, entries=1, quota=quota)
        with write_transaction():  # its first statement is the usage row's UPDATE
            move.apply()
            entry.save(force_insert=True, using=DEFAULT_DB_ALIAS)
        return entry

    return _within_quota(user=user, write=write)


def update_journal_entry(*, user: User, entry_id: uuid.UUID, content: str) -> JournalEntry:
    """Replace an entry's content; the old size is given back before the quota check."""
    size = content_size(content)
    _check_entry_size(size)

    def write(quota: int) -> JournalEntry:
        for _ in range(ENTRY_WRITE_TRIES):
            entry = _entry_as_read(user=user, entry_id=entry_id)
            growth = size - entry.size_bytes
            now = timezone.now()
            # Built before the transaction; the entry still has the size read, else another
            # write came between.
            as_read = JournalEntry.objects.using(DEFAULT_DB_ALIAS).filter(
                pk=entry.pk, size_bytes=entry.size_bytes
            )
            move = _UsageMove(user_id=user.pk, growth=growth, entries=0, quota=quota)
            try:
                with write_transaction():  # its first statement is the entry's UPDATE
                    if not as_read.update(content=content, size_bytes=size, updated_at=now):
                        raise _EntryChanged()
                    if growth:
                        move.apply()
            except _EntryChanged:
                continue
            entry.content, entry.size_bytes, entry.updated_at = content, size, now
            return entry
        raise EntryNotFound()

    return _within_quota(user=user, write=write)


def delete_journal_entry(*, user: User, entry_id: uuid.UUID) -> None:
    """Delete one of the user's entries, giving its bytes back."""
    for _ in range(ENTRY_WRITE_TRIES):
        entry = _entry_as_read(user=user, entry_id=entry_id)
        as_read = JournalEntry.objects.using(DEFAULT_DB_ALIAS).filter(
            pk=entry.pk, size_bytes=entry.size_bytes
        )
        move = _UsageMove(user_id=user.pk, growth=-entry.size_bytes, entries=-1, quota=0)
        try:
            with transaction.atomic():
                deleted, _ = as_read.delete()
                if not deleted:
                    raise _EntryChanged()
                move.apply()
        except _EntryChanged:
            continue
        return
    raise EntryNotFound()


def _lock_usage(*, user_ids: Iterable[uuid.UUID]) -> None:
    """Lock these users' usage rows, in primary key order (so two lockers cannot deadlock):
    their writers queue behind the caller until its transaction ends."""
    usages = JournalUsage.objects.using(DEFAULT_DB_ALIAS).select_for_update().order_by("pk")
    list(usages.filter(pk__in=list(user_ids)).values_list("pk"))


def delete_journal_entries(*, entry_ids: Iterable[uuid.UUID]) -> int:
    """Delete these entries, whoever owns them (staff, in the admin), giving each owner their
    bytes back; returns how many were deleted. The owners' usage rows are locked in primary
    key order, so two such deletions cannot deadlock."""
    entry_ids = list(entry_ids)
    with transaction.atomic():
        entries = JournalEntry.objects.using(DEFAULT_DB_ALIAS).filter(pk__in=entry_ids)
        _lock_usage(user_ids=set(entries.values_list("user_id", flat=True)))
        # Read again under the locks: an owner may have deleted some meanwhile.
        removed = (
            entries.order_by().values("user_id").annotate(size=Sum("size_bytes"), n=Count("id"))
        )
        for row in removed:
            JournalUsage.objects.using(DEFAULT_DB_ALIAS).filter(pk=row["user_id"]).update(
                bytes_used=F("bytes_used") - row["size"], entries=F("entries") - row["n"]
            )
        deleted, _ = entries.delete()
        return deleted


def recount_journal_usage(*, user: User) -> None:
    """Set the user's usage row from their entries (one sum over them), for entries that were
    written without the services: a bulk load, a repair."""
    with transaction.atomic():
        lock_user(user_id=user.pk)  # the first writes of a user, which create the row
        _lock_usage(user_ids=[user.pk])  # every other write
        totals = JournalEntry.objects.filter(user=user).aggregate(
            bytes_used=Sum("size_bytes", default=0), entries=Count("id")
        )
        JournalUsage.objects.update_or_create(user_id=user.pk, defaults=totals)


def lock_usage_of_deleted_user(*, instance: User, **_signal_kwargs: object) -> None:
    """Before a user's rows are deleted (``pre_delete``, inside the deletion's transaction):
    wait for the journal writes of that user in flight, and hold off the next ones, so that
    the deletion sees every entry that was written."""
    _lock_usage(user_ids=[instance.pk])
