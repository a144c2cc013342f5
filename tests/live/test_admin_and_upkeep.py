"""The community team's admin for shows and moderation; the log's upkeep; the demo room."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from live import services, tasks
from live.models import Auction, Show, ShowEvent, ShowMessage, ShowRestriction

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def busy_show(member, show_of, make_buyer):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    services.invite_cohost(show=show, host=priya, invitee=ava)
    services.send_message(show=show, author=ava, body="spam spam")
    services.restrict_viewer(show=show, moderator=priya, viewer=member("troll"), kind=ShowRestriction.Kind.MUTED)
    auction = services.start_auction(
        show=show, user=priya, listing=show.line_up.first().listing, start_price=Decimal("5.00"), duration_seconds=30
    )
    services.place_bid(auction=auction, bidder=make_buyer("marco")[0], amount=Decimal("5.00"))
    return show


@pytest.mark.parametrize(
    "page",
    [
        "show/",
        "show/{show}/change/",
        "auction/",
        "auction/{auction}/change/",
        "showmessage/?q=spam",
        "showrestriction/",
        "showevent/",
    ],
)
def test_admin_pages_render(staff_client, busy_show, page):
    auction = Auction.objects.get()
    response = staff_client.get("/admin/live/" + page.format(show=busy_show.pk, auction=auction.pk))
    assert response.status_code == 200


def test_staff_delete_messages_for_everyone(staff_client, busy_show):
    message = ShowMessage.objects.get()
    response = staff_client.post(
        "/admin/live/showmessage/", {"action": "delete_for_everyone", "_selected_action": [message.pk]}
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.deleted_at is not None and message.deleted_by.username == "admin"
    assert ShowEvent.objects.filter(show=busy_show, type="message_deleted").exists()


def test_staff_close_overdue_auctions_then_end_shows(staff_client, busy_show):
    auction = Auction.objects.get()
    staff_client.post("/admin/live/show/", {"action": "end_shows", "_selected_action": [busy_show.pk]})
    assert Show.objects.get().state == Show.State.LIVE  # the auction must finish first
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now())
    staff_client.post("/admin/live/auction/", {"action": "close_if_due", "_selected_action": [auction.pk]})
    assert Auction.objects.get().state == Auction.State.SOLD
    staff_client.post("/admin/live/show/", {"action": "end_shows", "_selected_action": [busy_show.pk]})
    assert Show.objects.get().state == Show.State.ENDED


def test_the_beat_tasks_close_due_auctions_and_prune_old_events(busy_show, settings):
    Auction.objects.update(ends_at=timezone.now())
    tasks.close_due_auctions()
    assert Auction.objects.get().state == Auction.State.SOLD
    kept = ShowEvent.objects.count()
    ShowEvent.objects.filter(seq__lte=2).update(
        created_at=timezone.now() - settings.LIVE_EVENT_RETENTION - timedelta(seconds=1)
    )
    tasks.prune_show_events()
    assert ShowEvent.objects.count() == kept - 2


def test_the_demo_has_a_live_room_and_loads_twice(category):
    for _ in range(2):
        call_command("load_demo_data", stdout=StringIO())
    show = Show.objects.get(state=Show.State.LIVE)
    assert Show.objects.get(state=Show.State.SCHEDULED).host.username == "marco"
    assert show.state == Show.State.LIVE and show.featured_listing is not None
    assert show.cohosts.get().user.username == "ava"
    assert {entry.listing.seller.username for entry in show.line_up.all()} == {"priya", "ava", "marco"}
