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
    username_key = KeyField(max_length=150, unique=True, source="username",
                            normaliser="accounts.identity.username_key")
    email_key = KeyField(max_length=320, unique=True, source="email", normaliser="accounts.identity.email_key")

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
            update_fields |= {key for source, key in (("username", "username_key"), ("email", "email_key"))
                              if source in update_fields}
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
