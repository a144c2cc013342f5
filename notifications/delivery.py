"""Hand pending pushes to the push backend in bulk and record what the provider answered."""

import hashlib
import json
from base64 import urlsafe_b64encode
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F, QuerySet
from graphql_relay import to_global_id

from notifications.models import Device, Notification, Outcome, PushDecision
from notifications.push import PushMessage, PushStatus, get_backend


def hand_off(decisions: QuerySet, *, now: datetime) -> list[int]:
    """Send the pending ones among `decisions` to every active device of their recipients.

    A recipient's push is sent when one device took it; dead tokens deactivate their device; a
    push whose devices were all rate-limited stays pending and its id is returned for a retry.
    The rows stay locked while the provider is called, so a concurrent hand-off (the sweep's)
    skips them instead of sending twice; if this worker dies, the lock goes and the sweep retries.
    """
    with transaction.atomic():
        pending = list(decisions.filter(outcome=Outcome.PENDING).select_for_update(skip_locked=True, of=("self",))
                       .select_related("notification").order_by("pk"))
        if not pending:
            return []
        devices = defaultdict(list)
        for device in Device.objects.filter(user_id__in={d.recipient_id for d in pending}, is_active=True):
            devices[device.user_id].append(device)
        batch, owners = [], []
        for decision in pending:
            message = push_message(decision.notification)
            for device in devices[decision.recipient_id]:
                batch.append((device, message))
                owners.append(decision.pk)
        results = get_backend().send(batch) if batch else []

        statuses, details, dead_devices = defaultdict(set), {}, []
        for (device, _), owner, result in zip(batch, owners, results):
            statuses[owner].add(result.status)
            if result.status is PushStatus.INVALID_TOKEN:
                dead_devices.append(device.pk)
            if result.detail:
                details[owner] = result.detail
        by_outcome = defaultdict(list)
        for decision in pending:
            by_outcome[_outcome(statuses[decision.pk])].append(decision.pk)
        if dead_devices:
            Device.objects.filter(pk__in=dead_devices).update(is_active=False, deactivated_at=now,
                                                               deactivation_reason="token rejected by the provider")
        attempted = PushDecision.objects.filter(pk__in=[d.pk for d in pending])
        attempted.update(attempts=F("attempts") + 1)
        attempted.filter(pk__in=by_outcome[Outcome.SENT]).update(outcome=Outcome.SENT, delivered_at=now, detail="")
        attempted.filter(pk__in=by_outcome[Outcome.NO_DEVICE]).update(
            outcome=Outcome.NO_DEVICE, detail="no active device at hand-off", decided_at=now)
        failed_by_detail = defaultdict(list)
        for decision_id in by_outcome[Outcome.FAILED]:
            failed_by_detail[details.get(decision_id, "")[:200]].append(decision_id)
        for detail, ids in failed_by_detail.items():
            attempted.filter(pk__in=ids).update(outcome=Outcome.FAILED, detail=detail)
    return by_outcome[Outcome.PENDING]


def _outcome(statuses: set[PushStatus]) -> Outcome:
    if PushStatus.OK in statuses:
        return Outcome.SENT
    if PushStatus.RATE_LIMITED in statuses:
        return Outcome.PENDING
    if not statuses or statuses == {PushStatus.INVALID_TOKEN}:
        return Outcome.NO_DEVICE
    return Outcome.FAILED


def push_message(notification: Notification) -> PushMessage:
    data = {"notificationId": to_global_id("Notification", notification.pk), "kind": notification.kind}
    if notification.data:
        data["data"] = json.dumps(notification.data, separators=(",", ":"))
    # 32 URL-safe characters: what Web Push's Topic header allows, and unique enough per event.
    collapse_key = urlsafe_b64encode(hashlib.sha256(notification.dedupe_key.encode()).digest()).decode()[:32]
    return PushMessage(title=notification.title, body=notification.body, data=data, collapse_key=collapse_key)


def defer(decision_ids: list[int], *, until: datetime):
    """Keep the sweep away from pushes waiting out a rate limit; their retry is scheduled."""
    PushDecision.objects.filter(pk__in=decision_ids, outcome=Outcome.PENDING).update(due_at=until)


def give_up(decision_ids: list[int], *, detail: str):
    PushDecision.objects.filter(pk__in=decision_ids, outcome=Outcome.PENDING).update(outcome=Outcome.FAILED,
                                                                                      detail=detail)
