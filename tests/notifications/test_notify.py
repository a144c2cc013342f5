"""notify(): the inbox always, and the push decision rules, observed as a member would notice them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from notifications import tasks
from notifications.models import (
    FanOutChunk,
    Notification,
    NotificationEvent,
    NotificationSettings,
    Outcome,
    PushDecision,
    PushSegment,
)

pytestmark = pytest.mark.django_db


def outcome_of(user, dedupe_key="price_drop:1:20"):
    return PushDecision.objects.get(recipient=user, notification__dedupe_key=dedupe_key).outcome


def pushed_to(pushes, user) -> list[str]:
    return [message.title for device, message in pushes.sent if device.user_id == user.pk]


def quiet_hours_around_now(zone: str) -> dict:
    """Quiet hours from an hour ago to an hour from now, in `zone`'s wall-clock time."""
    local = timezone.now().astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0)
    return {
        "quiet_hours_start": (local - timedelta(hours=1)).time(),
        "quiet_hours_end": (local + timedelta(hours=1)).time(),
    }


def test_the_same_event_twice_gives_one_inbox_row_and_one_push(member, notify, pushes):
    ava = member("ava")
    notify(ava)
    notify(ava)
    assert Notification.objects.filter(recipient=ava).count() == 1
    assert PushDecision.objects.filter(recipient=ava).count() == 1
    assert pushed_to(pushes, ava) == ["Price drop"]
    assert outcome_of(ava) == Outcome.SENT


def test_every_recipient_gets_a_row_and_duplicates_in_the_list_count_once(member, notify, pushes):
    ava, marco = member("ava"), member("marco")
    event = notify(ava, marco, ava)
    assert event.recipient_count == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"ava", "marco"}
    assert len(pushes.sent) == 2


def test_inactive_users_are_skipped(member, notify):
    ava, gone = member("ava"), member("gone")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    notify(ava, gone)
    assert not Notification.objects.filter(recipient=gone).exists()
    assert NotificationEvent.objects.get().completed_at is not None


def test_coalescing_window(member, notify, pushes, settings):
    ava = member("ava")
    notify(ava, dedupe_key="drop:1", coalesce_key="listing:42", title="First drop")
    notify(ava, dedupe_key="drop:2", coalesce_key="listing:42", title="Second drop")
    notify(ava, dedupe_key="drop:3", coalesce_key="listing:7", title="Other listing")
    assert Notification.objects.filter(recipient=ava).count() == 3  # the inbox has them all
    assert outcome_of(ava, "drop:2") == Outcome.COALESCED
    assert "listing:42" in PushDecision.objects.get(notification__dedupe_key="drop:2").detail
    assert pushed_to(pushes, ava) == ["First drop", "Other listing"]

    # Once the window has passed, the same listing may push again.
    PushDecision.objects.update(
        decided_at=timezone.now() - settings.NOTIFICATIONS_COALESCE_WINDOW - timedelta(minutes=1)
    )
    notify(ava, dedupe_key="drop:4", coalesce_key="listing:42", title="Third drop")
    assert pushed_to(pushes, ava)[-1] == "Third drop"


def test_quiet_hours_hold_the_push_then_release_it(member, notify, pushes):
    ava = member("ava", time_zone="Asia/Tokyo", **quiet_hours_around_now("Asia/Tokyo"))
    notify(ava)
    decision = PushDecision.objects.get(recipient=ava)
    assert decision.outcome == Outcome.HELD and pushes.sent == []
    assert Notification.objects.filter(recipient=ava).exists()
    end = NotificationSettings.objects.get(user=ava).quiet_hours_end
    assert decision.due_at.astimezone(ZoneInfo("Asia/Tokyo")).time() == end
    assert "Asia/Tokyo" in decision.detail

    tasks.release_due_pushes(now=decision.due_at - timedelta(minutes=1))
    assert outcome_of(ava) == Outcome.HELD  # not yet

    tasks.release_due_pushes(now=decision.due_at)
    assert outcome_of(ava) == Outcome.SENT
    assert pushed_to(pushes, ava) == ["Price drop"]


def test_quiet_hours_that_span_midnight_end_the_next_morning(member):
    from notifications.rules import quiet_hours_end

    rome = ZoneInfo("Europe/Rome")
    window = (datetime(2026, 1, 1, 22).time(), datetime(2026, 1, 1, 7).time())
    late = datetime(2026, 3, 28, 23, 30, tzinfo=rome)  # the night clocks go forward
    assert quiet_hours_end(late, rome, window) == datetime(2026, 3, 29, 7, 0, tzinfo=rome)
    assert quiet_hours_end(datetime(2026, 3, 29, 6, 59, tzinfo=rome), rome, window).hour == 7
    assert quiet_hours_end(datetime(2026, 3, 29, 7, 0, tzinfo=rome), rome, window) is None
    assert quiet_hours_end(datetime(2026, 3, 29, 21, 59, tzinfo=rome), rome, window) is None


def test_held_pushes_about_the_same_listing_release_as_one(member, notify, pushes):
    ava = member("ava", time_zone="America/New_York", **quiet_hours_around_now("America/New_York"))
    notify(ava, dedupe_key="drop:1", coalesce_key="listing:42", title="$30")
    notify(ava, dedupe_key="drop:2", coalesce_key="listing:42", title="$25")
    assert set(PushDecision.objects.values_list("outcome", flat=True)) == {Outcome.HELD}
    tasks.release_due_pushes(now=timezone.now() + timedelta(hours=2))
    assert pushed_to(pushes, ava) == ["$25"]  # the latest news wins
    assert outcome_of(ava, "drop:1") == Outcome.COALESCED


def test_cap_reached_keeps_the_inbox_and_records_why_no_push(member, notify, pushes):
    ava = member("ava", daily_cap_override=2)
    for number in range(3):
        notify(ava, dedupe_key=f"drop:{number}", title=f"Drop {number}")
    assert Notification.objects.filter(recipient=ava).count() == 3
    assert pushed_to(pushes, ava) == ["Drop 0", "Drop 1"]
    decision = PushDecision.objects.get(notification__dedupe_key="drop:2")
    assert decision.outcome == Outcome.SUPPRESSED_BY_CAP and decision.detail == "daily cap of 2 reached"


def test_the_cap_counts_the_local_day(member, notify, pushes):
    ava = member("ava", time_zone="Pacific/Auckland", daily_cap_override=1)
    notify(ava, dedupe_key="drop:1")
    local_midnight = (
        timezone.now().astimezone(ZoneInfo("Pacific/Auckland")).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    PushDecision.objects.update(decided_at=local_midnight - timedelta(minutes=1))  # yesterday, over there
    notify(ava, dedupe_key="drop:2")
    assert outcome_of(ava, "drop:2") == Outcome.SENT


def test_segment_caps_apply_to_members_without_an_override(member, notify, pushes):
    PushSegment.objects.create(name="casual", daily_cap=6, is_default=True)
    ava = member("ava")
    for number in range(7):
        notify(ava, dedupe_key=f"drop:{number}")
    assert len(pushed_to(pushes, ava)) == 6
    assert outcome_of(ava, "drop:6") == Outcome.SUPPRESSED_BY_CAP

    enthusiasts = PushSegment.objects.create(name="enthusiasts", daily_cap=16)
    NotificationSettings.objects.filter(user=ava).update(segment=enthusiasts)
    notify(ava, dedupe_key="drop:7")
    assert outcome_of(ava, "drop:7") == Outcome.SENT


def test_transactional_kinds_bypass_the_cap(member, notify, pushes):
    ava = member("ava", daily_cap_override=1)
    notify(ava, dedupe_key="drop:1")
    notify(ava, dedupe_key="drop:2")
    notify(ava, kind="item_sold", dedupe_key="sold:9", title="Your item sold")
    notify(ava, kind="offer_accepted", dedupe_key="offer:3:accepted", title="Offer accepted")
    assert outcome_of(ava, "drop:2") == Outcome.SUPPRESSED_BY_CAP
    assert pushed_to(pushes, ava) == ["Price drop", "Your item sold", "Offer accepted"]


def test_transactional_kinds_still_wait_for_quiet_hours_to_end(member, notify, pushes):
    ava = member("ava", time_zone="Europe/London", **quiet_hours_around_now("Europe/London"))
    notify(ava, kind="item_sold", dedupe_key="sold:9", title="Your item sold")
    assert outcome_of(ava, "sold:9") == Outcome.HELD
    assert pushed_to(pushes, ava) == []


def test_transactional_pushes_do_not_use_up_the_cap(member, notify, pushes):
    ava = member("ava", daily_cap_override=1)
    notify(ava, kind="item_sold", dedupe_key="sold:9")
    notify(ava, dedupe_key="drop:1")
    assert outcome_of(ava, "drop:1") == Outcome.SENT


def test_opting_out_of_a_category_stops_its_pushes_not_its_inbox_rows(member, notify, pushes):
    ava = member("ava", muted_categories=["price_drops"])
    notify(ava, dedupe_key="drop:1")
    notify(ava, kind="new_follower", dedupe_key="follow:5", title="New follower")
    assert outcome_of(ava, "drop:1") == Outcome.OPTED_OUT
    assert Notification.objects.filter(recipient=ava).count() == 2
    assert pushed_to(pushes, ava) == ["New follower"]


def test_transactional_pushes_respect_an_opt_out_but_still_reach_the_inbox(member, notify, pushes):
    ava = member("ava", muted_categories=["transactional"])
    notify(ava, kind="item_sold", dedupe_key="sold:9", title="Your item sold")
    assert outcome_of(ava, "sold:9") == Outcome.OPTED_OUT
    assert pushed_to(pushes, ava) == [] and Notification.objects.filter(recipient=ava).exists()


def test_members_without_a_device_get_the_inbox_row_only(member, notify, pushes):
    ava = member("ava", devices=0)
    notify(ava)
    assert outcome_of(ava) == Outcome.NO_DEVICE
    assert Notification.objects.filter(recipient=ava).exists() and pushes.sent == []


def test_a_push_reaches_every_device_of_the_member_once(member, notify, pushes):
    ava = member("ava", devices=2)
    notify(ava)
    assert sorted(device.token for device, _ in pushes.sent) == ["ava-device-0", "ava-device-1"]
    message = pushes.sent[0][1]
    assert message.data["kind"] == "price_drop" and message.data["notificationId"]
    assert len(message.collapse_key) == 32


def test_fan_out_is_chunked_and_a_rerun_changes_nothing(member, notify, pushes, settings):
    settings.NOTIFICATIONS_CHUNK_SIZE = 2
    people = [member(f"user{number}") for number in range(5)]
    started = []

    def count(sender=None, **_):
        started.append(sender.name)

    task_prerun.connect(count)
    try:
        event = notify(*people, target=people[0], data={"price": "20.00"})
    finally:
        task_prerun.disconnect(count)
    assert started == ["notifications.tasks.fan_out_chunk"] * 3
    assert Notification.objects.count() == 5 and len(pushes.sent) == 5
    assert FanOutChunk.objects.filter(event=event).count() == 3
    event.refresh_from_db()
    assert event.completed_at is not None
    notification = Notification.objects.first()
    assert notification.target == people[0] and notification.data == {"price": "20.00"}

    tasks.fan_out_chunk(event.pk, 1)
    assert Notification.objects.count() == 5 and PushDecision.objects.count() == 5 and len(pushes.sent) == 5


def test_the_sweep_finishes_events_whose_tasks_were_lost(member, django_capture_on_commit_callbacks, pushes, settings):
    from notifications import services

    ava = member("ava")
    with django_capture_on_commit_callbacks(execute=False):  # the broker never got the tasks
        event = services.notify(recipient_ids=[ava.pk], kind="price_drop", title="Drop", body="", dedupe_key="drop:1")
    assert not Notification.objects.exists()

    tasks.enqueue_unfinished_work(now=timezone.now() + timedelta(seconds=1))
    assert not Notification.objects.exists()  # too early: its tasks may still be on their way

    tasks.enqueue_unfinished_work(now=timezone.now() + settings.NOTIFICATIONS_SWEEP_GRACE)
    event.refresh_from_db()
    assert event.completed_at is not None and outcome_of(ava, "drop:1") == Outcome.SENT


def test_the_sweep_hands_off_pushes_whose_worker_died(member, notify, pushes, settings):
    ava = member("ava")
    notify(ava)
    PushDecision.objects.update(outcome=Outcome.PENDING, delivered_at=None)  # as if killed after deciding
    pushes.reset()
    tasks.enqueue_unfinished_work(now=timezone.now() + settings.NOTIFICATIONS_SWEEP_GRACE)
    assert outcome_of(ava) == Outcome.SENT and len(pushes.sent) == 1


def test_notify_refuses_programming_errors(member):
    from notifications import services

    with pytest.raises(ValueError):
        services.notify(recipient_ids=[1], kind="nonsense", title="t", body="", dedupe_key="k")
    with pytest.raises(ValueError):
        services.notify(recipient_ids=[1], kind="system", title="t", body="", dedupe_key="")
    assert services.notify(recipient_ids=[], kind="system", title="t", body="", dedupe_key="k") is None


def test_a_replacing_event_overwrites_the_row_with_its_key_and_keeps_its_push(member, notify, pushes):
    ava, marco = member("ava"), member("marco")
    notify(ava, dedupe_key="drop:42:window", coalesce_key="listing:42", title="Now $90", replace=True)
    first = Notification.objects.get(recipient=ava)
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    notify(ava, marco, dedupe_key="drop:42:window", coalesce_key="listing:42", title="Now $80", replace=True)

    replaced = Notification.objects.get(recipient=ava)
    assert replaced.pk == first.pk and replaced.title == "Now $80"
    assert replaced.created_at == first.created_at and replaced.read_at is not None  # not news again
    assert Notification.objects.get(recipient=marco).title == "Now $80"  # newcomers get a row
    assert PushDecision.objects.filter(recipient=ava).count() == 1
    assert pushed_to(pushes, ava) == ["Now $90"] and pushed_to(pushes, marco) == ["Now $80"]


def test_a_held_push_of_a_replaced_row_goes_out_with_the_latest_text(member, notify, pushes):
    ava = member("ava", time_zone="Europe/Paris", **quiet_hours_around_now("Europe/Paris"))
    notify(ava, dedupe_key="drop:42:window", title="Now $90", replace=True)
    notify(ava, dedupe_key="drop:42:window", title="Now $80", replace=True)
    tasks.release_due_pushes(now=timezone.now() + timedelta(hours=2))
    assert pushed_to(pushes, ava) == ["Now $80"]


def test_an_older_event_never_overwrites_a_newer_one(member, django_capture_on_commit_callbacks, pushes):
    from notifications import services

    ava = member("ava")
    arguments = {
        "recipient_ids": [ava.pk],
        "kind": "price_drop",
        "body": "",
        "dedupe_key": "drop:42:window",
        "replace": True,
    }
    with django_capture_on_commit_callbacks(execute=False):  # the first event's tasks are late
        older = services.notify(title="Now $90", **arguments)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(title="Now $80", **arguments)
    tasks.fan_out_chunk(older.pk, 0)
    assert Notification.objects.get(recipient=ava).title == "Now $80"


def test_without_replace_a_second_event_with_the_same_key_changes_nothing(member, notify):
    ava = member("ava")
    notify(ava, dedupe_key="sold:9", title="Sold")
    notify(ava, dedupe_key="sold:9", title="Sold again")
    assert Notification.objects.get(recipient=ava).title == "Sold"
