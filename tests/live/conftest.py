from datetime import timedelta

import pytest
from django.utils import timezone

from live import presence, services


@pytest.fixture(autouse=True)
def _live_settings(settings):
    """Auctions close when a test says so (its own clock); viewer counts go out quickly; each
    test starts with nobody present."""
    settings.LIVE_AUCTION_TIMER = "off"
    settings.LIVE_VIEWER_COUNT_INTERVAL = 0.05
    presence._backend_for.cache_clear()
    yield
    presence._backend_for.cache_clear()


@pytest.fixture
def member(make_user):
    """`member("ava")`: a user with their bearer token as `.token`."""

    def make(username):
        user, token = make_user(username)
        user.token = token
        return user

    return make


@pytest.fixture
def show_of(make_listing):
    """`show_of(host, listings=2, live=True)`: a show with listings of the host's closet in its line-up."""

    def make(host, *, listings=2, live=True, **fields):
        show = services.create_show(
            host=host,
            title=fields.pop("title", "Vintage night"),
            scheduled_start=timezone.now() + timedelta(hours=1),
            **fields,
        )
        for number in range(listings):
            listing = make_listing(host, title=f"Item {number}", price="40.00")
            services.add_show_listing(show=show, user=host, listing=listing)
        if live:
            services.start_show(show=show, user=host)
        show.refresh_from_db()
        return show

    return make
