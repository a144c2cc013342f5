"""First-sale nudges: one targeted nudge at a time to sellers with no sale, at the staff's cadence,
through notify() (so caps and opt-outs apply), and none once the first sale is made."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace import services as marketplace_services
from notifications.models import Notification, PushDecision
from sellers import services, tasks
from sellers.models import FirstSaleNudge, FirstSaleNudgeProgram
from social import services as social_services
from tests.helpers import gid
from tests.sellers.programs import run_program

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def nudging(staff):
    """Nudges running: the first 3 days after joining, then every 3 days; listings stale after 14 days."""
    return run_program(
        FirstSaleNudgeProgram,
        staff,
        first_nudge_after_days=3,
        days_between_nudges=3,
        stale_after_days=14,
        reprice_percent=Decimal("10.0"),
    )


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run the nudges as beat would at `start + days` (their notifications fan out on commit)."""
    start = timezone.now()

    def run(days: float) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return services.send_first_sale_nudges(now=start + days * DAY)

    return run


def nudges_of(user):
    return list(
        FirstSaleNudge.objects.filter(seller=user)
        .order_by("sent_at", "pk")
        .values_list("kind", "listing__title", "suggested_price")
    )


def inbox_of(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("kind", "title", "data"))


def test_a_seller_without_a_sale_gets_one_targeted_nudge_at_a_time(nudging, send, member, make_listing):
    nina = member("nina")
    dress = make_listing(nina, title="Dress", price="25.00")
    make_listing(nina, title="Coat", price="80.00")
    social_services.like_listing(user=member("fan"), listing=dress)

    assert send(1) == 0  # joined a day ago: too early
    assert send(4) == 1
    assert nudges_of(nina) == [("offer_to_likers", "Dress", None)]
    assert inbox_of(nina) == [
        ("program_nudge", "Someone likes “Dress”", {"nudge": "offer_to_likers", "listingId": gid(dress)})
    ]
    assert send(5) == 0  # the cadence: 3 days between nudges
    assert send(7) == 1  # not the same nudge about the same listing twice: the next that applies
    assert send(15) == 1  # the listings are stale now: no like, no price change for 14 days
    assert nudges_of(nina)[1:] == [("share", "Dress", None), ("reprice", "Dress", Decimal("22.50"))]
    assert inbox_of(nina)[-1] == (
        "program_nudge",
        "Give “Dress” a fresh start",
        {"nudge": "reprice", "listingId": gid(dress), "suggestedPrice": "22.50", "currency": "USD"},
    )
    assert send(18) == 1 and nudges_of(nina)[-1] == ("reprice", "Coat", Decimal("72.00"))


def test_nudges_stop_after_the_first_sale(nudging, send, member, make_listing, make_buyer):
    nina = member("nina")
    dress = make_listing(nina, title="Dress")
    make_listing(nina, title="Coat")
    assert send(4) == 1
    order = marketplace_services.purchase_listing(buyer=make_buyer("marco")[0], listing=dress, idempotency_key="k")
    assert send(7) == 0 and send(20) == 0
    marketplace_services.cancel_order(order=order, actor=order.buyer)  # no sale again
    assert send(23) == 1
    assert len(nudges_of(nina)) == 2


def test_they_go_through_notify_so_opt_outs_and_caps_apply(nudging, send, member, make_listing, pushes):
    muted = member("nina", muted_categories=["programs"])
    capped = member("olga", daily_cap_override=1)
    welcome = member("pia")
    for seller in (muted, capped, welcome):
        make_listing(seller, title=f"{seller.username}'s dress")
    Notification.objects.create(recipient=capped, kind="price_drop", title="Earlier today", dedupe_key="x")
    PushDecision.objects.create(
        notification=Notification.objects.get(recipient=capped),
        recipient=capped,
        category="price_drops",
        outcome="sent",
    )
    assert send(4) == 3
    outcomes = dict(
        PushDecision.objects.filter(notification__kind="program_nudge").values_list("recipient__username", "outcome")
    )
    assert outcomes == {"nina": "opted_out", "olga": "suppressed_by_cap", "pia": "sent"}
    assert [device.user_id for device, _ in pushes.sent] == [welcome.pk]
    assert all(inbox_of(seller)[-1][0] == "program_nudge" for seller in (muted, capped, welcome))


def test_nobody_is_nudged_while_the_program_does_not_run_or_without_an_available_listing(
    staff, send, member, make_listing
):
    listed = member("nina")
    make_listing(listed)
    member("olga")  # no listing: not a seller yet
    run_program(FirstSaleNudgeProgram, staff, active=False)
    assert send(4) == 0
    run_program(FirstSaleNudgeProgram, staff, active=True)
    assert send(4) == 1 and FirstSaleNudge.objects.get().seller == listed


def test_overlapping_runs_keep_the_cadence(nudging, member, make_listing):
    for number in range(5):
        make_listing(member(f"seller{number}"))
    later = timezone.now() + 4 * DAY
    assert services.send_first_sale_nudges(now=later, batch=2) == 5  # in batches of 2
    assert services.send_first_sale_nudges(now=later + DAY) == 0
    assert FirstSaleNudge.objects.count() == 5


def test_the_beat_task_sends_them(nudging, member, make_listing):
    nina = member("nina")
    make_listing(nina)
    nina.date_joined = timezone.now() - 4 * DAY
    nina.save(update_fields=["date_joined"])
    tasks.send_first_sale_nudges()
    assert nudges_of(nina) == [("share", "Wrap dress", None)]


def test_a_seller_who_never_went_live_is_nudged_to_host_a_show_once(nudging, send, member, make_listing):
    from live.models import Show

    nina, omar = member("nina"), member("omar")
    for seller in (nina, omar):
        listing = make_listing(seller, title=f"{seller.username}'s jacket")
        social_services.share_listing(sharer=seller, listing=listing)  # sharing done lately: no share nudge
    Show.objects.create(host=omar, title="Omar's first show", scheduled_start=timezone.now())
    assert send(4) == 1
    assert nudges_of(nina) == [("show", "nina's jacket", None)] and nudges_of(omar) == []
    assert inbox_of(nina)[-1][1] == "Go live with “nina's jacket”"
    make_listing(nina, title="Second jacket")
    social_services.share_listing(sharer=nina, listing=FirstSaleNudge.objects.get().listing)
    assert send(8) == 0  # once per seller, not once per listing
