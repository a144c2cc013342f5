"""Hand-off to the provider: dead tokens, rate limits, failures and staff resends."""

from unittest import mock

import pytest
from django.utils import timezone
from firebase_admin import exceptions as firebase_errors
from firebase_admin import messaging

from notifications import services, tasks
from notifications.models import Device, Outcome, PushDecision
from notifications.push import FirebaseBackend, PushMessage, PushStatus

pytestmark = pytest.mark.django_db


def test_a_token_the_provider_rejects_deactivates_its_device(member, notify, pushes):
    ava = member("ava", devices=2)
    pushes.script("ava-device-0", PushStatus.INVALID_TOKEN)
    notify(ava)
    dead = Device.objects.get(token="ava-device-0")
    assert not dead.is_active and dead.deactivation_reason == "token rejected by the provider"
    assert Device.objects.get(token="ava-device-1").is_active
    assert PushDecision.objects.get().outcome == Outcome.SENT  # the other device took it

    notify(ava, dedupe_key="drop:2")
    assert [device.token for device, _ in pushes.sent] == ["ava-device-1", "ava-device-1"]


def test_when_every_token_is_dead_the_decision_says_no_device(member, notify, pushes):
    ava = member("ava")
    pushes.script("ava-device-0", PushStatus.INVALID_TOKEN)
    notify(ava)
    assert PushDecision.objects.get().outcome == Outcome.NO_DEVICE


def test_rate_limits_are_retried_with_exponential_backoff_and_jitter(member, notify, pushes, monkeypatch):
    ava = member("ava")
    pushes.script("ava-device-0", PushStatus.RATE_LIMITED, PushStatus.RATE_LIMITED)
    retries = []
    schedule = tasks.hand_off_pushes.apply_async

    def record(args, kwargs, countdown):
        retries.append((kwargs["attempt"], countdown, PushDecision.objects.get().due_at))
        return schedule(args, kwargs, countdown=countdown)  # eager: runs now

    monkeypatch.setattr(tasks.hand_off_pushes, "apply_async", record)
    before = timezone.now()
    notify(ava)
    assert [attempt for attempt, _, _ in retries] == [1, 2]
    for attempt, countdown, due_at in retries:
        assert 1 <= countdown <= 5 * 2 ** (attempt - 1)  # full jitter under the doubling bound
        assert due_at >= before  # the sweep leaves it to the scheduled retry
    decision = PushDecision.objects.get()
    assert decision.outcome == Outcome.SENT and decision.attempts == 3
    assert len(pushes.sent) == 1


def test_backoff_doubles_up_to_its_cap(settings):
    with mock.patch("celery.utils.time.random.randrange", side_effect=lambda limit: limit - 1):
        countdowns = [tasks.retry_countdown(attempt) for attempt in range(10)]
    assert countdowns == [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]


def test_pushes_still_rate_limited_after_the_last_retry_fail(member, notify, pushes, settings):
    settings.NOTIFICATIONS_PUSH_MAX_RETRIES = 2
    ava = member("ava")
    pushes.script("ava-device-0", *[PushStatus.RATE_LIMITED] * 3)
    notify(ava)
    decision = PushDecision.objects.get()
    assert decision.outcome == Outcome.FAILED and "gave up" in decision.detail
    assert pushes.sent == []


def test_staff_resend_failed_pushes(member, notify, pushes, django_capture_on_commit_callbacks):
    ava, marco = member("ava"), member("marco")
    pushes.script("ava-device-0", PushStatus.ERROR)
    event = notify(ava, marco)
    assert PushDecision.objects.get(recipient=ava).outcome == Outcome.FAILED
    assert PushDecision.objects.get(recipient=ava).detail == "scripted"

    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_failed(PushDecision.objects.filter(event=event)) == 1
    assert PushDecision.objects.get(recipient=ava).outcome == Outcome.SENT
    assert sorted(device.user_id for device, _ in pushes.sent) == sorted([ava.pk, marco.pk])


class FakeFirebase:
    """Stands in for FCM behind firebase_admin.messaging.send_each: the library builds and reads the
    real Message / BatchResponse objects, only the HTTP call is replaced."""

    def __init__(self, replies):
        self.replies, self.batches = replies, []

    def __call__(self, messages, dry_run=False, app=None):
        self.batches.append(messages)
        return messaging.BatchResponse(
            [self.replies.get(message.token, messaging.SendResponse({"name": "ok"}, None)) for message in messages]
        )


def failure(exception):
    return messaging.SendResponse(None, exception)


def test_firebase_backend_maps_provider_answers(member):
    ava = member("ava", devices=0)
    devices = [
        Device.objects.create(user=ava, platform=platform, token=f"token-{platform}")
        for platform in Device.Platform.values
    ] + [Device.objects.create(user=ava, platform="fcm", token=f"token-{name}") for name in ("gone", "busy", "odd")]
    fake = FakeFirebase(
        {
            "token-gone": failure(messaging.UnregisteredError("Requested entity was not found.")),
            "token-busy": failure(messaging.QuotaExceededError("Quota exceeded.")),
            "token-odd": failure(firebase_errors.InternalError("Internal error.")),
        }
    )
    message = PushMessage(title="Price drop", body="Now $20", data={"kind": "price_drop"}, collapse_key="k" * 32)
    with mock.patch.object(messaging, "send_each", fake), mock.patch("notifications.push._firebase_app"):
        results = FirebaseBackend().send([(device, message) for device in devices])
    assert [result.status for result in results] == [PushStatus.OK] * 3 + [
        PushStatus.INVALID_TOKEN,
        PushStatus.RATE_LIMITED,
        PushStatus.ERROR,
    ]
    sent = {message.token: message for message in fake.batches[0]}
    assert sent["token-fcm"].android.notification.tag == "k" * 32
    assert sent["token-apns"].apns.headers == {"apns-collapse-id": "k" * 32}
    assert sent["token-web_push"].webpush.headers == {"Topic": "k" * 32}
    assert sent["token-fcm"].notification.title == "Price drop" and sent["token-fcm"].data == {"kind": "price_drop"}


def test_firebase_backend_splits_batches_at_the_provider_limit_and_survives_outages(member):
    ava = member("ava", devices=0)
    device = Device.objects.create(user=ava, platform="fcm", token="t")
    message = PushMessage(title="t", body="b", data={}, collapse_key="k")
    fake = FakeFirebase({})
    with mock.patch.object(messaging, "send_each", fake), mock.patch("notifications.push._firebase_app"):
        results = FirebaseBackend().send([(device, message)] * 1201)
    assert [len(batch) for batch in fake.batches] == [500, 500, 201] and len(results) == 1201

    outage = mock.Mock(side_effect=firebase_errors.UnavailableError("FCM is down"))
    with mock.patch.object(messaging, "send_each", outage), mock.patch("notifications.push._firebase_app"):
        results = FirebaseBackend().send([(device, message)] * 2)
    assert [result.status for result in results] == [PushStatus.RATE_LIMITED] * 2


def test_tasks_are_acked_late_and_requeued_when_their_worker_dies():
    for task in (tasks.fan_out_chunk, tasks.hand_off_pushes, tasks.release_held_pushes, tasks.sweep_outbox):
        assert task.acks_late is True and task.reject_on_worker_lost is True
