"""Signal receivers: how subscriptions follow what happens to other apps' rows (connected in
``SubscriptionsConfig.ready``, since accounts must not import subscriptions)."""

from subscriptions.services import erase_events_naming_user


def erase_events_of_deleted_user(sender, instance, using, **kwargs) -> None:
    """``pre_delete`` of the user model: the user's events go in the deletion's transaction,
    those naming them only in the payload included (the rest follow by CASCADE)."""
    erase_events_naming_user(user_id=instance.pk, using=using)
