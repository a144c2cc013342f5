"""The push decision for one person, as a pure function of what was loaded about them in bulk.

Order matters and is what staff read in the decision row: an opt-out beats everything, a person
without a device cannot be reached, a recent push about the same thing coalesces this one, quiet
hours hold it, and the daily cap suppresses it. Transactional kinds cannot be opted out of and
bypass quiet hours and caps.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.models import Category, Outcome


@dataclass
class RecipientState:
    """What the decision needs to know about one person; `record_push` keeps it true within a batch."""

    user_id: int
    time_zone: ZoneInfo
    muted_categories: frozenset[str]
    quiet_hours: tuple[time, time] | None
    daily_cap: int
    has_device: bool
    # (decided_at, category, coalesce_key) of pushes that went out (or are going) lately.
    recent_pushes: list[tuple[datetime, str, str]] = field(default_factory=list)

    def pushes_today(self, now: datetime) -> int:
        midnight = local_midnight(now, self.time_zone)
        return sum(1 for at, category, _ in self.recent_pushes if at >= midnight and category != Category.TRANSACTIONAL)

    def pushed_about(self, coalesce_key: str, since: datetime) -> bool:
        return any(key == coalesce_key and at >= since for at, _, key in self.recent_pushes)

    def record_push(self, now: datetime, category: str, coalesce_key: str):
        self.recent_pushes.append((now, category, coalesce_key))


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    detail: str = ""
    due_at: datetime | None = None


def decide(
    state: RecipientState, *, category: str, coalesce_key: str, now: datetime, coalesce_window: timedelta
) -> Decision:
    # Transactional pushes bypass the cap, never the person's preferences (DESIGN.md §2): a muted
    # category and quiet hours hold for every kind.
    if category in state.muted_categories:
        return Decision(Outcome.OPTED_OUT, f"push is off for {Category(category).label.lower()}")
    if not state.has_device:
        return Decision(Outcome.NO_DEVICE, "no active device")
    if coalesce_key and state.pushed_about(coalesce_key, now - coalesce_window):
        return Decision(Outcome.COALESCED, f"a push about {coalesce_key} went out within {_span(coalesce_window)}")
    release_at = quiet_hours_end(now, state.time_zone, state.quiet_hours)
    if release_at is not None:
        local_end = release_at.astimezone(state.time_zone)
        return Decision(Outcome.HELD, f"quiet hours until {local_end:%H:%M} {state.time_zone.key}", release_at)
    if category != Category.TRANSACTIONAL and state.pushes_today(now) >= state.daily_cap:
        return Decision(Outcome.SUPPRESSED_BY_CAP, f"daily cap of {state.daily_cap} reached")
    return Decision(Outcome.PENDING)


def quiet_hours_end(now: datetime, zone: ZoneInfo, quiet_hours: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours `now` falls in end (an aware datetime), or None outside them.

    The window is [start, end) in local wall-clock time and may span midnight (22:00–07:00).
    """
    if quiet_hours is None:
        return None
    start, end = quiet_hours
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    end_day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=zone)


def local_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def _span(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
