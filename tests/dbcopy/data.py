"""Tricky rows written through the ORM into a database alias, and row-by-row comparison."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, F, Sum

from accounts.models import User
from dbcopy.tables import EXCLUDED_APPS
from idempotency.models import IdempotencyKey
from journal.models import JournalEntry, JournalUsage
from subscriptions.models import Subscription, SubscriptionEvent
from tokens.models import RefreshToken, RevokedJti, Session

TRICKY_TEXTS = [
    "plain",
    "tab\there, newline\nthere, return\rthen",
    "back\\slash \\N \\\\N and a lone \\",
    "\\N",
    "quotes ' \" ` and a comma, semicolon;",
    "unicode: \u00e9\u00e8 \u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629"
    " \U0001f600\U0001f9d1\u200d\U0001f4bb",
    "control \x01\x1f\x7f characters",
    "",
]
EXACT_SECOND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
WITH_MICROS = datetime(2026, 11, 24, 7, 14, 8, 123456, tzinfo=UTC)


def _move_usage(alias: str, user_id, bytes_used: int, entries: int) -> None:
    moved = JournalUsage.objects.using(alias).filter(pk=user_id)
    if not moved.update(bytes_used=F("bytes_used") + bytes_used, entries=F("entries") + entries):
        JournalUsage.objects.using(alias).create(
            user_id=user_id, bytes_used=bytes_used, entries=entries
        )


def add_entry(alias: str, *, user_id, content: str) -> JournalEntry:
    """An entry written on the alias as the app writes one: its owner's usage row moves in
    the same transaction (the copy's verification checks it)."""
    with transaction.atomic(using=alias):
        entry = JournalEntry.objects.using(alias).create(
            user_id=user_id, content=content, size_bytes=len(content.encode())
        )
        _move_usage(alias, user_id, entry.size_bytes, 1)
    return entry


def edit_entry(alias: str, *, entry_id, content: str) -> None:
    with transaction.atomic(using=alias):
        entry = JournalEntry.objects.using(alias).get(pk=entry_id)
        size = len(content.encode())
        JournalEntry.objects.using(alias).filter(pk=entry_id).update(
            content=content, size_bytes=size
        )
        _move_usage(alias, entry.user_id, size - entry.size_bytes, 0)


def remove_entry(alias: str, *, entry_id) -> None:
    with transaction.atomic(using=alias):
        entry = JournalEntry.objects.using(alias).get(pk=entry_id)
        JournalEntry.objects.using(alias).filter(pk=entry_id).delete()
        _move_usage(alias, entry.user_id, -entry.size_bytes, -1)


def recount_usage(alias: str) -> None:
    """Every usage row from the entries, after entries were written in bulk."""
    with transaction.atomic(using=alias):
        JournalUsage.objects.using(alias).all().delete()
        totals = (
            JournalEntry.objects.using(alias)
            .order_by()
            .values("user_id")
            .annotate(bytes_used=Sum("size_bytes"), entries=Count("id"))
        )
        JournalUsage.objects.using(alias).bulk_create(JournalUsage(**t) for t in totals)


def fill(alias: str, *, users: int = 3, entries_per_user: int = 4) -> list[User]:
    """Write a little of everything, with the values that break naive copies."""
    made = []
    for n in range(users):
        user = User(
            provider="google" if n % 2 else "apple",
            provider_subject=f"subject-{n}-{TRICKY_TEXTS[n % len(TRICKY_TEXTS)]}",
            email=f"user{n}@example.com" if n else "",
            display_name=TRICKY_TEXTS[(n + 1) % len(TRICKY_TEXTS)],
            is_staff=n == 0,
            last_login=None if n % 2 else WITH_MICROS,
        )
        user.set_unusable_password()
        user.save(using=alias)
        made.append(user)
        for i in range(entries_per_user):
            add_entry(
                alias, user_id=user.pk, content=TRICKY_TEXTS[(n + i) % len(TRICKY_TEXTS)] or "x"
            )
        IdempotencyKey.objects.using(alias).create(
            user_id=user.pk,
            key=f'key {n}: \\N \\ "quoted" ~',
            method="POST",
            path="/api/v1/journal/entries",
            body_sha256=uuid.uuid4().hex * 2,
            status=201,
            body=json.dumps({"content": TRICKY_TEXTS[n % len(TRICKY_TEXTS)]}, ensure_ascii=False),
            created_at=WITH_MICROS,
        )
        session = Session.objects.using(alias).create(
            user_id=user.pk,
            fingerprint=TRICKY_TEXTS[n % len(TRICKY_TEXTS)],
            created_at=EXACT_SECOND,
            last_used_at=WITH_MICROS,
            expires_at=WITH_MICROS + timedelta(days=30),
            revoked_at=None if n % 2 else EXACT_SECOND,
        )
        RefreshToken.objects.using(alias).create(
            session_id=session.pk, token_hash=uuid.uuid4().hex * 2, created_at=WITH_MICROS
        )
        RevokedJti.objects.using(alias).create(
            jti=uuid.uuid4().hex, user_id=user.pk, expires_at=EXACT_SECOND
        )
        subscription = Subscription.objects.using(alias).create(
            user_id=user.pk,
            provider="stripe",
            provider_subscription_id=f"sub_{n}",
            plan="premium_monthly",
            status="active" if n % 2 else "canceled",
            current_period_end=None if n == 0 else WITH_MICROS,
            last_event_at=EXACT_SECOND,
        )
        SubscriptionEvent.objects.using(alias).create(
            provider="stripe",
            event_id=f"evt_{n}",
            type="subscription.updated",
            payload={
                "id": f"evt_{n}",
                "nested": {"list": [1, 2.5, None, True, "\u00e9\\N\t"], "empty": {}},
                "big": 12345678901234567890,
                "unicode": "\U0001f600",
            },
            user_id=user.pk,
            subscription_id=subscription.pk,
            outcome="processed",
            created=WITH_MICROS,
        )
    # An event whose user is gone (kept for audit, user NULL).
    SubscriptionEvent.objects.using(alias).create(
        provider="stripe",
        event_id="evt_orphan",
        type="subscription.created",
        payload=[],
        user=None,
        outcome="ignored",
        created=EXACT_SECOND,
    )
    # Rows that point at what `migrate` creates: content types and permissions whose ids
    # differ from a freshly migrated target's.
    entry_type = ContentType.objects.db_manager(alias).get(
        app_label="journal", model="journalentry"
    )
    entry_type.delete(using=alias)
    entry_type = ContentType.objects.db_manager(alias).create(
        app_label="journal", model="journalentry"
    )
    permission = Permission.objects.db_manager(alias).create(
        name="Can view journal entry", content_type_id=entry_type.pk, codename="view_journalentry"
    )
    User.user_permissions.through.objects.using(alias).create(
        user_id=made[0].pk, permission_id=permission.pk
    )
    LogEntry.objects.db_manager(alias).create(
        user_id=made[0].pk,
        content_type_id=entry_type.pk,
        object_id="42",
        object_repr=TRICKY_TEXTS[2],
        action_flag=ADDITION,
        change_message="[]",
        action_time=WITH_MICROS,
    )
    return made


def copied_models():
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and m._meta.app_label not in EXCLUDED_APPS
    ]


def table_rows(alias: str, model) -> list[tuple]:
    fields = [f.attname for f in model._meta.concrete_fields]
    return list(model.objects.using(alias).order_by("pk").values_list(*fields))


def differences(alias_a: str, alias_b: str) -> dict[str, str]:
    """Tables whose rows differ between two aliases, compared value by value."""
    found = {}
    for model in copied_models():
        a, b = table_rows(alias_a, model), table_rows(alias_b, model)
        if a != b:
            first = next((pair for pair in zip(a, b, strict=False) if pair[0] != pair[1]), None)
            found[model._meta.db_table] = f"{len(a)} vs {len(b)} rows; first difference {first}"
    return found
