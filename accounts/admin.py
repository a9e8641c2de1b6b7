from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from accounts.models import User


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
        self.fields["username"].required = False
        self.fields["username"].empty_value = None


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
    )
    fieldsets = (
        (None, {"fields": ("id", "provider", "provider_subject", "username", "password")}),
        ("Profile", {"fields": ("email", "display_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
