import functools
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.identity import KeyField


@functools.cache
def _time_zones() -> frozenset[str]:
    """The tz database's names, read once: listing them walks its files (tens of ms a call)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str):
    if value not in _time_zones():
        raise ValidationError("Unknown time zone.", code="invalid_time_zone")


class User(AbstractUser):
    """A member: every user can buy, and every user has a closet to sell from."""

    username = models.CharField(
        max_length=30,
        unique=True,
        validators=[UnicodeUsernameValidator(), MinLengthValidator(3)],
        help_text="3–30 letters, digits and @/./+/-/_ only.",
    )
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=60, blank=True)
    bio = models.TextField(max_length=500, blank=True)
    avatar = models.ImageField(upload_to="avatars/%Y/%m/", blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # What the username and email are compared by: every lookup and login limit (accounts.identity).
    username_key = KeyField(max_length=150, unique=True, source="username", normaliser="accounts.identity.username_key")
    email_key = KeyField(max_length=320, unique=True, source="email", normaliser="accounts.identity.email_key")
    # Null until the member follows the link mailed to the address (accounts.recovery); an account
    # registered over the API logs in only once verified.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # Set when the member deleted their account: the row stays, anonymised, for the other party's
    # orders (accounts.lifecycle.delete_account).
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.username

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            update_fields = set(update_fields)
            update_fields |= {
                key for source, key in (("username", "username_key"), ("email", "email_key")) if source in update_fields
            }
        super().save(*args, update_fields=update_fields, **kwargs)


class AuthToken(models.Model):
    """A bearer token for one device. Only its SHA-256 is stored; the raw token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    device_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self):
        return f"{self.user} · {self.device_name or 'device'} · {self.created_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class AccountToken(models.Model):
    """A single-use, expiring token mailed to an address: verify it, reset a password, confirm a new
    email. Only its SHA-256 is stored; the raw value is in the mail alone."""

    class Purpose(models.TextChoices):
        VERIFY_EMAIL = "verify_email", "Verify email"
        RESET_PASSWORD = "reset_password", "Reset password"
        CHANGE_EMAIL = "change_email", "Change email"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_tokens")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    email = models.EmailField(help_text="The address the token was mailed to (the new one for a change).")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "used_at"])]

    def __str__(self):
        return f"{self.user} · {self.purpose} · {self.created_at:%Y-%m-%d %H:%M}"


class DataExport(models.Model):
    """A member's copy of their data: a zip built by a task, downloaded by a signed link that expires,
    shown to the member only (accounts.exports)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="exports/", blank=True, max_length=200)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self):
        return f"{self.user} · export {self.created_at:%Y-%m-%d %H:%M} · {self.status}"
