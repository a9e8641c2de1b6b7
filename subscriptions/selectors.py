"""Reads of subscriptions."""

from django.db import connections, router

from subscriptions.models import ENTITLED_STATUSES, Subscription


def get_active_subscription_for_user(*, user) -> Subscription | None:
    """The user's subscription in ``active`` or ``grace`` (the database allows one at most)."""
    return Subscription.objects.filter(user=user, status__in=ENTITLED_STATUSES).first()


def has_entitled_subscription(*, user) -> bool:
    """Whether the user has a subscription in ``active`` or ``grace``. Every journal write
    asks (the quota): the SQL is written out, as building it took longer than running it."""
    connection = connections[router.db_for_read(Subscription)]
    quote = connection.ops.quote_name
    user_field = Subscription._meta.get_field("user")
    statuses = ", ".join(["%s"] * len(ENTITLED_STATUSES))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quote(Subscription._meta.db_table)}"  # noqa: S608
            f" WHERE {quote(user_field.column)} = %s AND {quote('status')} IN ({statuses})"
            " LIMIT 1",
            [
                user_field.get_db_prep_value(user.pk, connection),
                *(s.value for s in ENTITLED_STATUSES),
            ],
        )
        return cursor.fetchone() is not None


def get_latest_subscription_for_user(*, user) -> Subscription | None:
    """The user's most recently updated subscription, whatever its status."""
    return Subscription.objects.filter(user=user).order_by("-updated_at", "-created_at").first()
