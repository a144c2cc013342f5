from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from live import services
from live.models import Show
from marketplace.models import Listing

TITLE = "Sunday bags & vintage"
SCHEDULED_TITLE = "Sneaker Saturday"

ROLES = {
    "priya": "hosts the live show",
    "ava": "co-hosts the live show",
    "marco": f"hosts {SCHEDULED_TITLE!r}, scheduled in 3 days",
}


def load(stdout):
    """A room to walk into: Priya live, Ava co-hosting, a line-up curated from three closets, a
    featured bag and a first chat line; Marco saved the show. And Marco's show in three days, which
    Sam and Ava saved (they are reminded when it starts). Each loaded once (by title)."""
    priya, ava, marco, sam = (User.objects.get(username=username) for username in ("priya", "ava", "marco", "sam"))
    if not Show.objects.filter(host=priya, title=TITLE).exists():
        show = services.create_show(
            host=priya,
            title=TITLE,
            description="Designer bags, authenticated, and Ava's best vintage denim.",
            scheduled_start=timezone.now(),
        )
        services.save_show(user=marco, show=show)
        services.invite_cohost(show=show, host=priya, invitee=ava)
        services.respond_to_cohost_invite(show=show, user=ava, accept=True)
        for curator, seller, count in ((priya, priya, 3), (ava, ava, 2), (ava, marco, 1)):
            closet = Listing.objects.filter(seller=seller, status=Listing.Status.AVAILABLE).order_by("pk")
            for listing in closet[:count]:
                services.add_show_listing(show=show, user=curator, listing=listing)
        services.start_show(show=show, user=priya)
        services.feature_listing(show=show, user=priya, listing=show.line_up.order_by("position").first().listing)
        services.send_message(show=show, author=ava, body="Welcome in! Ask us about sizes and bundles.")
    if not Show.objects.filter(host=marco, title=SCHEDULED_TITLE).exists():
        start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        show = services.create_show(
            host=marco,
            title=SCHEDULED_TITLE,
            scheduled_start=start,
            description="Runners and streetwear from Marco's closet, bids from 1 USD.",
        )
        services.add_show_listing(
            show=show, user=marco, listing=Listing.objects.get(seller=marco, title="Box logo tee")
        )
        for saver in (sam, ava):
            services.save_show(user=saver, show=show)
    stdout.write(f"Live: {TITLE!r} is live (host priya, co-host ava); {SCHEDULED_TITLE!r} (marco) in 3 days.")
