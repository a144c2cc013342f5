import pytest

from notifications import services
from notifications.models import Device, NotificationSettings
from notifications.push import MemoryBackend


@pytest.fixture(autouse=True)
def pushes(settings):
    """The in-memory push backend: `pushes.sent` holds every hand-off, `pushes.script` fakes replies."""
    settings.NOTIFICATIONS_PUSH_BACKEND = "memory"
    MemoryBackend.reset()
    yield MemoryBackend
    MemoryBackend.reset()


@pytest.fixture
def member(make_user):
    """`member("ava", time_zone=..., devices=1)`: a user with push devices and a bearer token."""

    def make(username="ava", *, devices=1, time_zone="UTC", **preferences):
        user, token = make_user(username, time_zone=time_zone)
        for number in range(devices):
            Device.objects.create(user=user, platform=Device.Platform.FCM, token=f"{username}-device-{number}")
        if preferences:
            NotificationSettings.objects.create(user=user, **preferences)
        user.token = token
        return user

    return make


@pytest.fixture
def notify(django_capture_on_commit_callbacks):
    """notify() as a committing caller sees it: its chunk tasks run (eagerly) on commit."""

    def send(*recipients, **overrides):
        arguments = {"kind": "price_drop", "title": "Price drop", "body": "Now $20", "dedupe_key": "price_drop:1:20"}
        with django_capture_on_commit_callbacks(execute=True):
            return services.notify(recipient_ids=[user.pk for user in recipients], **(arguments | overrides))

    return send
