import json

from django.contrib import admin
from django.utils.html import format_html

from subscriptions import services
from subscriptions.models import Subscription, SubscriptionEvent


class ProviderStateAdmin(admin.ModelAdmin):
    """These rows mirror the payment provider's signed events: staff look, and act only
    through the actions (which call services), never by editing a row by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubscriptionEventInline(admin.TabularInline):
    model = SubscriptionEvent
    fields = ("event_id", "type", "outcome", "created", "received_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created",)
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ProviderStateAdmin):
    list_display = ("user", "provider", "plan", "status", "current_period_end", "updated_at")
    list_filter = ("status", "provider", "plan")
    search_fields = ("user__email", "user__provider_subject", "provider_subscription_id")
    list_select_related = ("user",)
    ordering = ("-updated_at",)
    inlines = [SubscriptionEventInline]
    actions = ["expire_now"]

    @admin.action(
        description="Expire now (active or grace ones lose the premium quota at once)",
        permissions=["expire"],
    )
    def expire_now(self, request, queryset):
        count = services.expire_subscriptions(
            subscription_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"Expired {count} subscription(s).")

    def has_expire_permission(self, request):
        # The form is read-only for everyone; the action needs the model's change right.
        return request.user.has_perm("subscriptions.change_subscription")


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(ProviderStateAdmin):
    list_display = ("provider", "event_id", "type", "outcome", "user", "created", "received_at")
    list_filter = ("outcome", "type", "provider")
    search_fields = ("event_id", "user__email", "subscription__provider_subscription_id")
    list_select_related = ("user",)
    ordering = ("-received_at",)
    fields = (
        "provider",
        "event_id",
        "type",
        "outcome",
        "user",
        "subscription",
        "created",
        "received_at",
        "payload_json",
    )
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_json(self, event):
        if event.payload is None:
            return "not kept (the event named no known user)"
        return format_html(
            "<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False)
        )
