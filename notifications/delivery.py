"""Hand pending pushes to the push backend in bulk and record what the provider answered."""

import hashlib
import json
from base64 import urlsafe_b64encode
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F, QuerySet
from graphql_relay import to_global_id

from notifications.models import Device, Outcome, PushDecision
from notifications.push import PushMessage, PushStatus, get_backend


def hand_off(decisions: QuerySet, *, now: datetime) -> list[int]:
    """Send the pending ones among `decisions` to every active device of their recipients.

    A recipient's push is sent when one device took it; dead tokens deactivate their device; a
    push whose devices were all rate-limited stays pending and its id is returned for a retry.
    The rows stay locked while the provider is called, so a concurrent hand-off (the sweep's)
    skips them instead of sending twice; if this worker dies, the lock goes and the sweep retries.
    """
    with transaction.atomic():
        pending = list(
            decisions.filter(outcome=Outcome.PENDING)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list(*_PENDING_FIELDS, named=True)
        )
        if not pending:
            return []
        devices = defaultdict(list)
        for device in Device.objects.filter(
            user_id__in={push.recipient_id for push in pending}, is_active=True
        ).values_list("pk", "user_id", "platform", "token", named=True):
            devices[device.user_id].append(device)
        batch, owners = [], []
        for push in pending:
            message = push_message(push)
            for device in devices[push.recipient_id]:
                batch.append((device, message))
                owners.append(push.pk)
        results = get_backend().send(batch) if batch else []

        statuses, details, dead_devices = defaultdict(set), {}, []
        for (device, _), owner, result in zip(batch, owners, results, strict=False):
            statuses[owner].add(result.status)
            if result.status is PushStatus.INVALID_TOKEN:
                dead_devices.append(device.pk)
            if result.detail:
                details[owner] = result.detail[:200]
        if dead_devices:
            Device.objects.filter(pk__in=dead_devices).update(
                is_active=False, deactivated_at=now, deactivation_reason="token rejected by the provider"
            )
        # One UPDATE per (outcome, detail): a chunk is nearly always a single "sent" statement.
        changes = defaultdict(list)
        for push in pending:
            outcome = _outcome(statuses[push.pk])
            detail = {Outcome.SENT: "", Outcome.NO_DEVICE: "no active device at hand-off"}.get(
                outcome, details.get(push.pk, "")
            )
            changes[outcome, detail].append(push.pk)
        for (outcome, detail), ids in changes.items():
            fields = {"attempts": F("attempts") + 1, "outcome": outcome, "detail": detail}
            if outcome == Outcome.SENT:
                fields["delivered_at"] = now
            if outcome == Outcome.NO_DEVICE:
                fields["decided_at"] = now
            PushDecision.objects.filter(pk__in=ids).update(**fields)
    return [pk for (outcome, _), ids in changes.items() if outcome == Outcome.PENDING for pk in ids]


_PENDING_FIELDS = (
    "pk",
    "recipient_id",
    "notification_id",
    "notification__kind",
    "notification__title",
    "notification__body",
    "notification__data",
    "notification__dedupe_key",
)


def _outcome(statuses: set[PushStatus]) -> Outcome:
    if PushStatus.OK in statuses:
        return Outcome.SENT
    if PushStatus.RATE_LIMITED in statuses:
        return Outcome.PENDING
    if not statuses or statuses == {PushStatus.INVALID_TOKEN}:
        return Outcome.NO_DEVICE
    return Outcome.FAILED


def push_message(push) -> PushMessage:
    """The message for one pending push (a row of _PENDING_FIELDS)."""
    data = {"notificationId": to_global_id("Notification", push.notification_id), "kind": push.notification__kind}
    if push.notification__data:
        data["data"] = json.dumps(push.notification__data, separators=(",", ":"))
    # 32 URL-safe characters: what Web Push's Topic header allows, and unique enough per event.
    digest = hashlib.sha256(push.notification__dedupe_key.encode()).digest()
    return PushMessage(
        title=push.notification__title,
        body=push.notification__body,
        data=data,
        collapse_key=urlsafe_b64encode(digest).decode()[:32],
    )


def defer(decision_ids: list[int], *, until: datetime):
    """Keep the sweep away from pushes waiting out a rate limit; their retry is scheduled."""
    PushDecision.objects.filter(pk__in=decision_ids, outcome=Outcome.PENDING).update(due_at=until)


def give_up(decision_ids: list[int], *, detail: str):
    PushDecision.objects.filter(pk__in=decision_ids, outcome=Outcome.PENDING).update(
        outcome=Outcome.FAILED, detail=detail
    )
