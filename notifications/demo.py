from accounts.demo import DEMO_USERS
from accounts.models import User
from notifications import services
from notifications.models import Kind


def load(stdout):
    """A welcome in every demo inbox; the dedupe key makes reloading it a no-op."""
    members = list(
        User.objects.filter(username__in=[username for username, *_ in DEMO_USERS]).values_list("pk", flat=True)
    )
    services.notify(
        recipient_ids=members,
        kind=Kind.SYSTEM,
        title="Welcome to Closetline",
        body="List what's in your closet, follow sellers you love, and catch a live show.",
        dedupe_key="demo:welcome",
    )
    stdout.write("Notifications: a welcome in each demo inbox.")
