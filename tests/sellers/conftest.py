import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import services as marketplace_services
from marketplace.models import Order
from tests.notifications.conftest import member, pushes  # noqa: F401 - devices and the in-memory push backend


@pytest.fixture
def staff(make_user):
    """A staff member with a bearer token (`staff.token`)."""
    user, token = make_user("community")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.token = token
    return user


DAY = timedelta(days=1)
KEYS = itertools.count()


@pytest.fixture
def weeks():
    """(now, the Monday of last week, the Monday of the week before)."""
    now = timezone.now()
    monday = (now - now.weekday() * DAY).replace(hour=0, minute=0, second=0, microsecond=0)
    return now, monday - 7 * DAY, monday - 14 * DAY


@pytest.fixture
def sale(make_buyer, make_listing):
    """`sale(seller, at, cancelled=False)`: an order of one of the seller's items, placed then."""
    buyer, _ = make_buyer("shopper")

    def make(seller, at, *, cancelled=False, buyer=buyer):
        order = marketplace_services.purchase_listing(
            buyer=buyer, listing=make_listing(seller), idempotency_key=f"sale-{next(KEYS)}"
        )
        Order.objects.filter(pk=order.pk).update(placed_at=at, status="cancelled" if cancelled else "paid")
        return order

    return make
