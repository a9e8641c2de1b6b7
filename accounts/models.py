import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q


class UserManager(BaseUserManager["User"]):
    """Staff accounts (admin sign-in with a password) are made here; app users come from an
    identity provider through ``accounts.services.upsert_user``."""

    use_in_migrations = True

    def create_user(
        self, username: str, email: str = "", password: str | None = None, **extra_fields: Any
    ) -> "User":
        if not username:
            raise ValueError("A staff account needs a username")
        user = self.model(username=username, email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, username: str, email: str = "", password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(username, email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. App users are identified by (provider, provider_subject), never by email;
    staff accounts have a username and a password for the admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # NULL, not "", for staff accounts without a provider identity: unique constraints let
    # any number of NULLs through.
    provider = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    provider_subject = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    username = models.CharField(max_length=150, unique=True, null=True, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_subject"], name="user_provider_subject_unique"
            ),
            # Every account can be found: by its provider identity, or by its username.
            models.CheckConstraint(
                condition=Q(provider__isnull=False, provider_subject__isnull=False)
                | Q(username__isnull=False),
                name="user_has_identity",
            ),
            models.CheckConstraint(
                condition=Q(provider__isnull=True, provider_subject__isnull=True)
                | Q(provider__isnull=False, provider_subject__isnull=False),
                name="user_provider_and_subject_together",
            ),
        ]

    def __str__(self) -> str:
        if self.username:
            return self.username
        return self.email or f"{self.provider}:{self.provider_subject}"
