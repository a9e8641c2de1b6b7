from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.html import format_html

from accounts import services
from accounts.models import User

# What the admin's history says of an account staff deleted: the deletion erases every entry
# that names the account, so this one names nobody.
DELETED_ACCOUNT = "(a deleted account)"

# What makes an account powerful in the admin: only superusers change these. Read-only
# fields are left out of the form, so a crafted POST that sets them changes nothing.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class StaffCreationForm(BaseUserCreationForm):
    """Adding a user in the admin makes a staff account (username and password); app users
    arrive through sign-in."""

    class Meta:
        model = User
        fields = ("username", "email")


class AccountChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # App users have no username: keep it NULL, since "" would collide between them.
        # (A view-only page has no username field.)
        if "username" in self.fields:
            self.fields["username"].required = False
            self.fields["username"].empty_value = None


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff without superuser status manage app users and their own account; they see who
    is staff and what rights each account has, but cannot change it."""

    form = AccountChangeForm
    add_form = StaffCreationForm
    list_display = (
        "__str__",
        "email",
        "display_name",
        "provider",
        "provider_subject",
        "is_staff",
        "is_active",
        "created_at",
    )
    list_filter = ("provider", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "provider_subject", "username", "display_name")
    ordering = ("-created_at",)
    readonly_fields = (
        "id",
        "provider",
        "provider_subject",
        "created_at",
        "updated_at",
        "last_login",
        "sessions_link",
        "subscriptions_link",
    )
    fieldsets = (
        (None, {"fields": ("id", "provider", "provider_subject", "username", "password")}),
        ("Profile", {"fields": ("email", "display_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
        ("Sign-ins and billing", {"fields": ("sessions_link", "subscriptions_link")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *PRIVILEGE_FIELDS)

    # The way from a user to their rows in the other apps' admins (linked by URL name: the
    # apps above this one in the layers are not imported).
    @admin.display(description="sessions")
    def sessions_link(self, user):
        count = user.sessions.count()
        return _changelist_link("admin:tokens_session_changelist", user, f"{count} session(s)")

    @admin.display(description="subscriptions")
    def subscriptions_link(self, user):
        count = user.subscriptions.count()
        return _changelist_link(
            "admin:subscriptions_subscription_changelist", user, f"{count} subscription(s)"
        )

    def has_change_permission(self, request, obj=None):
        if not self._may_manage(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if not self._may_manage(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    # Deleting goes through the account service: it locks the rows in primary key order, so
    # a write of the user racing the deletion waits for it instead of failing at COMMIT, and
    # it erases what names the account (its events, the admin's history of it).
    def delete_model(self, request, obj):
        services.delete_users(user_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        services.delete_users(user_ids=queryset.values_list("pk", flat=True))

    def get_deleted_objects(self, objs, request):
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        # The account's rows in the other apps go with it, as with DELETE me, even those
        # staff may not delete one by one (its events, its revocation records): the right to
        # delete the accounts is the one needed, for each of them (the bulk action asks
        # has_delete_permission without an object).
        refused = {"another staff account" for obj in objs if not self._may_manage(request, obj)}
        return deleted, counts, refused, protected

    def log_deletions(self, request, queryset):
        user_type = ContentType.objects.get_for_model(User, for_concrete_model=False)
        return LogEntry.objects.bulk_create(
            LogEntry(
                user_id=request.user.pk,
                content_type=user_type,
                object_id=None,
                object_repr=DELETED_ACCOUNT,
                action_flag=DELETION,
            )
            for _ in queryset
        )

    def _may_manage(self, request, obj):
        # Another staff or superuser account is off limits to staff who are not superusers:
        # a password they set on it would be a way in with its rights.
        return (
            obj is None
            or request.user.is_superuser
            or obj.pk == request.user.pk
            or not (obj.is_staff or obj.is_superuser)
        )


def _changelist_link(url_name: str, user, text: str) -> str:
    """A link to a changelist showing only ``user``'s rows."""
    return format_html('<a href="{}?user__exact={}">{}</a>', reverse(url_name), user.pk, text)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """A staff member who may change groups but is not a superuser could otherwise give
    their own group every permission."""

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, "permissions")
