"""Every write of notifications, starting with `notify`, the one door every app sends through.

    notify(*, recipient_ids, kind, title, body, dedupe_key,
           target=None, data=None, coalesce_key=None, replace=False) -> NotificationEvent | None

Call it inside the transaction that causes the notification (a price drop, a sale). It writes one
outbox row (`NotificationEvent`) holding the event and its recipients (sorted distinct ids packed
as int64, 80 kB for 10,000), and nothing else; if the caller rolls back, nobody is notified. On
commit, ~1,000-recipient chunk tasks (`NOTIFICATIONS_CHUNK_SIZE`, never one task per person)
each, in one transaction:

1. insert the inbox rows (`Notification`) of active recipients in one statement, skipping anyone
   who already has a row with this `dedupe_key`: the same event never notifies a person twice, and
   a re-run chunk or a second notify() with the same key changes nothing;
2. decide the push for each new row and record it (`PushDecision`, one per inbox row), in this
   order: category muted by the person → `opted_out`; no active device → `no_device`; a push with
   the same `coalesce_key` to that person within NOTIFICATIONS_COALESCE_WINDOW → `coalesced`;
   inside their quiet hours (their time zone) → `held`, released by the `release_held_pushes` beat
   task when they end; daily cap reached (user override, else their segment's, else the default
   segment's) → `suppressed_by_cap`; otherwise `pending`. Transactional kinds (item sold, offer
   accepted, order shipped, system) can't be muted by anyone and bypass quiet hours and caps;
3. mark the chunk done; the last chunk marks the event complete.

After commit the chunk announces the new rows to `notificationAdded` subscribers and hands its
pending pushes to the push backend in bulk (→ `sent`, `no_device` or `failed`; dead tokens
deactivate their device; rate-limited pushes are retried with exponential backoff and jitter).
Every notification lands in the inbox, whatever the push decision.

Arguments: `recipient_ids` any iterable of user ids (duplicates and inactive users are dropped);
`kind` a `Kind` (its category comes from `CATEGORY_OF_KIND`); `title` (cut to 140 characters) and
`body` are shown as they are; `dedupe_key` names the event per person ("price_drop:42:1999" — one
notification per key per person, ever); `target` the model instance the notification is about;
`data` a small JSON-able dict for the client; `coalesce_key` names the thing pushes are about
("listing:42"). Returns the outbox row, or None when there is nobody to notify.

`replace=True` is for news that supersedes an earlier notification in place (a second price drop
within the window, another message in a conversation not read yet): a person who already has a
row with this `dedupe_key` gets that row overwritten with this event's title, body, data and
target instead of skipped, and it is announced to `notificationAdded` again. Its time, read
state and push decision stay: a push still pending or held goes out with the new text, one
already sent is not repeated. Only rows written by an earlier event are replaced, so chunks
running out of order never bring an older text back.

Nothing is lost: a beat task (`sweep_outbox`) re-enqueues chunks never marked done and pushes
never handed off, so a broker outage or a killed worker only delays them.
"""

from collections.abc import Iterable
from datetime import datetime, time

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import AuthToken, User
from config.errors import CommonError, ServiceError
from notifications import tasks
from notifications.errors import NotificationError
from notifications.models import (
    USER_DAILY_CAP_MAX,
    USER_DAILY_CAP_MIN,
    Category,
    Device,
    Kind,
    Notification,
    NotificationEvent,
    NotificationSettings,
    Outcome,
    PushDecision,
    pack_ids,
)

# "Leave as it is" for update_preferences arguments, where None means "clear".
UNCHANGED = object()


def notify(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    title: str,
    body: str,
    dedupe_key: str,
    target: Model | None = None,
    data: dict | None = None,
    coalesce_key: str | None = None,
    replace: bool = False,
) -> NotificationEvent | None:
    """Record a notification for many people at once; see the module docstring."""
    kind = Kind(kind)  # an unknown kind is a programming error, not a user's
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("dedupe_key must be 1 to 200 characters")
    if coalesce_key and len(coalesce_key) > 200:
        raise ValueError("coalesce_key must be at most 200 characters")
    packed = pack_ids(int(recipient_id) for recipient_id in recipient_ids)
    if not packed:
        return None
    with transaction.atomic():
        event = NotificationEvent.objects.create(
            kind=kind,
            title=Truncator(title).chars(140),
            body=body,
            data=data or {},
            dedupe_key=dedupe_key,
            coalesce_key=coalesce_key or "",
            replaces=replace,
            recipient_ids=packed,
            recipient_count=len(packed) // 8,
            chunk_size=settings.NOTIFICATIONS_CHUNK_SIZE,
            target_content_type=ContentType.objects.get_for_model(target) if target is not None else None,
            target_object_id=target.pk if target is not None else None,
        )
        # robust: the cause has committed; if the broker is down, the sweep enqueues them later.
        transaction.on_commit(lambda: _enqueue_chunks(event.pk, event.chunk_count), robust=True)
    return event


def _enqueue_chunks(event_id: int, chunk_count: int) -> None:
    for index in range(chunk_count):
        tasks.fan_out_chunk.delay(event_id, index)


def mark_read(*, user: User, notification_ids: list[int] | None = None, everything: bool = False) -> int:
    """Mark some (by id) or all of the user's unread notifications read; returns how many changed."""
    if everything == (notification_ids is not None):
        raise ServiceError(CommonError.INVALID, "Give either ids or all: true.", "ids")
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if not everything:
        if len(notification_ids) > 100:
            raise ServiceError(CommonError.INVALID, "Mark at most 100 notifications at once.", "ids")
        unread = unread.filter(pk__in=notification_ids)  # others' ids match nothing
    return unread.update(read_at=timezone.now())


@transaction.atomic
def register_device(
    *, user: User, platform: str, token: str, name: str = "", session: AuthToken | None = None
) -> Device:
    """Register (or refresh) a push token for this user and the session (AuthToken) registering it.

    A token is held by the session that registered it. Another account registering the same token
    is refused (DEVICE_TOKEN_IN_USE) while that session is live, so knowing a token takes over no
    one's pushes; once the session has ended (logout, expiry, its user deactivated) or the device
    was deactivated, the token moves: that is what a second login on the same phone looks like."""
    token = token.strip()
    if not token or len(token) > Device._meta.get_field("token").max_length:
        raise ServiceError(NotificationError.INVALID_DEVICE_TOKEN, "This push token is empty or too long.", "token")
    if platform not in Device.Platform.values:
        raise ServiceError(CommonError.INVALID, "Unknown platform.", "platform")
    now = timezone.now()
    device = Device.objects.select_for_update().filter(token=token).first()
    if device is None:
        try:
            with transaction.atomic():
                device = Device.objects.create(
                    user=user,
                    session=session,
                    platform=platform,
                    token=token,
                    name=name.strip()[:100],
                    registered_at=now,
                )
        except IntegrityError:  # registered meanwhile by another request: the rule below decides
            device = Device.objects.select_for_update().get(token=token)
    if device.user_id != user.pk and _held(device, now):
        raise ServiceError(
            NotificationError.DEVICE_TOKEN_IN_USE,
            "This push token belongs to another signed-in account on that device; it moves once they sign out.",
            "token",
        )
    for field, value in {
        "user": user,
        "session": session,
        "platform": platform,
        "name": name.strip()[:100],
        "is_active": True,
        "registered_at": now,
        "deactivated_at": None,
        "deactivation_reason": "",
    }.items():
        setattr(device, field, value)
    device.save()
    # Old installs rarely unregister; past the limit the least recently registered ones retire.
    retired = list(
        Device.objects.filter(user=user, is_active=True)
        .order_by("-registered_at", "-pk")
        .values_list("pk", flat=True)[settings.NOTIFICATIONS_MAX_DEVICES_PER_USER :]
    )
    Device.objects.filter(pk__in=retired).update(
        is_active=False, deactivated_at=now, deactivation_reason="replaced by newer devices"
    )
    return device


def _held(device: Device, now) -> bool:
    """Whether the device still belongs to its user's signed-in session."""
    if not device.is_active:
        return False
    live = AuthToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
    if device.session_id is not None:
        return live.filter(pk=device.session_id).exists()
    return live.filter(user_id=device.user_id).exists()  # registered before sessions were recorded


def release_devices_of_sessions(session_ids: list[int]) -> int:
    """Sessions ended (accounts.services.revoke_tokens): their devices stop receiving that
    account's pushes and are free for whoever signs in on them next."""
    return Device.objects.filter(session_id__in=session_ids, is_active=True).update(
        is_active=False, deactivated_at=timezone.now(), deactivation_reason="signed out on this device"
    )


def unregister_device(*, user: User, token: str) -> None:
    """Forget a push token of this user (logout on that device)."""
    deleted, _ = Device.objects.filter(user=user, token=token.strip()).delete()
    if not deleted:
        raise ServiceError(CommonError.NOT_FOUND, "No such device is registered to you.", "token")


@transaction.atomic
def update_preferences(
    *, user: User, categories: dict[str, bool] | None = None, quiet_hours=UNCHANGED, daily_cap_override=UNCHANGED
) -> NotificationSettings:
    """Turn push on/off per category, set or clear (None) quiet hours and the daily cap override.

    `quiet_hours` is a (start, end) pair of local times; `daily_cap_override` None means "use my
    segment's cap". Every category can be turned off, transactional ones included: they only
    bypass the daily cap.
    """
    preferences, _ = NotificationSettings.objects.select_for_update().get_or_create(user=user)
    if categories:
        muted = set(preferences.muted_categories)
        for category, push in categories.items():
            if category not in Category.values:
                raise ServiceError(CommonError.INVALID, "Unknown category.", "categories")
            (muted.discard if push else muted.add)(category)
        preferences.muted_categories = sorted(muted)
    if quiet_hours is not UNCHANGED:
        preferences.quiet_hours_start, preferences.quiet_hours_end = _valid_quiet_hours(quiet_hours)
    if daily_cap_override is not UNCHANGED:
        if daily_cap_override is not None and not USER_DAILY_CAP_MIN <= daily_cap_override <= USER_DAILY_CAP_MAX:
            raise ServiceError(
                NotificationError.DAILY_CAP_OUT_OF_RANGE,
                f"Choose {USER_DAILY_CAP_MIN} to {USER_DAILY_CAP_MAX} pushes a day.",
                "daily_cap",
            )
        preferences.daily_cap_override = daily_cap_override
    preferences.save()
    return preferences


def _valid_quiet_hours(quiet_hours: tuple[time, time] | None) -> tuple[time | None, time | None]:
    if quiet_hours is None:
        return None, None
    start, end = (moment.replace(second=0, microsecond=0, tzinfo=None) for moment in quiet_hours)
    if start == end:
        raise ServiceError(
            NotificationError.INVALID_QUIET_HOURS, "Quiet hours must start and end at different times.", "quiet_hours"
        )
    return start, end


def resend_failed(decisions: QuerySet, *, now: datetime | None = None) -> int:
    """Staff: hand failed pushes (of some events, or picked one by one) to the provider again."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(decisions.filter(outcome=Outcome.FAILED).select_for_update().values_list("pk", flat=True))
        PushDecision.objects.filter(pk__in=ids).update(outcome=Outcome.PENDING, due_at=now, detail="resent by staff")
        # robust: they are pending again; without a broker, the sweep hands them off.
        transaction.on_commit(lambda: tasks.enqueue_hand_offs(ids), robust=True)
    return len(ids)
