"""The community team's admin: decisions per member, segment caps, resending failures."""

import pytest
from django.test import Client

from notifications.models import Outcome, PushDecision, PushSegment
from notifications.push import PushStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model", ["pushdecision", "notificationevent", "pushsegment", "notificationsettings", "device", "notification"]
)
def test_changelists_render(staff_client, member, notify, model):
    notify(member("ava"))
    response = staff_client.get(f"/admin/notifications/{model}/?q=ava")
    assert response.status_code == 200


def test_decisions_filter_by_outcome_and_say_why(staff_client, member, notify):
    notify(member("ava", muted_categories=["price_drops"]))
    response = staff_client.get("/admin/notifications/pushdecision/", {"outcome": "opted_out", "q": "ava"})
    assert b"push is off for price drops" in response.content


def test_staff_resend_a_failed_event(staff_client, member, notify, pushes, django_capture_on_commit_callbacks):
    ava = member("ava")
    pushes.script("ava-device-0", PushStatus.ERROR)
    event = notify(ava)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/notifications/notificationevent/", {"action": "resend_failed", "_selected_action": [event.pk]}
        )
    assert response.status_code == 302
    assert PushDecision.objects.get().outcome == Outcome.SENT and len(pushes.sent) == 1


def test_segment_caps_are_edited_within_range(staff_client):
    response = staff_client.post("/admin/notifications/pushsegment/add/", {"name": "fans", "daily_cap": 20})
    assert response.status_code == 200 and not PushSegment.objects.exists()  # the form shows the error
    staff_client.post("/admin/notifications/pushsegment/add/", {"name": "fans", "daily_cap": 16})
    assert PushSegment.objects.get().daily_cap == 16
