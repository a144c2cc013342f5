from dataclasses import dataclass
from datetime import time

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import QuerySet

from accounts.models import User
from notifications import hooks
from notifications.fanout import default_daily_cap
from notifications.models import USER_DAILY_CAP_MAX, USER_DAILY_CAP_MIN, Notification, NotificationSettings


def inbox(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications with their targets prefetched (one query per kind of target, as
    hooks.TARGETS loads it): a listing target comes as a card the user may see, or not at all."""
    notifications = Notification.objects.filter(recipient=user).prefetch_related(
        GenericPrefetch("target", hooks.target_querysets(user))
    )
    return notifications.filter(read_at__isnull=True) if unread_only else notifications


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class Preferences:
    """A member's push settings as they apply now (defaults when they never changed any)."""

    muted_categories: frozenset[str]
    quiet_hours: tuple[time, time] | None
    time_zone: str
    daily_cap_override: int | None
    segment_daily_cap: int
    daily_cap_min: int = USER_DAILY_CAP_MIN
    daily_cap_max: int = USER_DAILY_CAP_MAX

    @property
    def daily_cap(self) -> int:
        return self.daily_cap_override or self.segment_daily_cap

    def push_enabled(self, category: str) -> bool:
        return category not in self.muted_categories


def preferences_of(user: User) -> Preferences:
    stored = NotificationSettings.objects.select_related("segment").filter(user=user).first()
    stored = stored or NotificationSettings(user=user)
    return Preferences(
        muted_categories=frozenset(stored.muted_categories),
        quiet_hours=(stored.quiet_hours_start, stored.quiet_hours_end)
        if stored.quiet_hours_start is not None
        else None,
        time_zone=user.time_zone,
        daily_cap_override=stored.daily_cap_override,
        segment_daily_cap=stored.segment.daily_cap if stored.segment else default_daily_cap(),
    )
