"""The community team's view of checkout: label fees, orders with their lines and payments."""

from decimal import Decimal

import pytest
from django.test import Client

from marketplace import services
from marketplace.models import Listing, Order, Payment, ShippingRate

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def order(make_user, make_buyer, make_listing, django_capture_on_commit_callbacks):
    seller, _ = make_user("ava")
    with django_capture_on_commit_callbacks(execute=True):
        return services.purchase_listing(
            buyer=make_buyer("marco")[0], listing=make_listing(seller), idempotency_key="k"
        )


@pytest.mark.parametrize("model", ["order", "payment", "offer", "domainevent", "shippingrate", "sellerdiscounts"])
def test_changelists_render(staff_client, order, model):
    services.create_offer(
        buyer=order.buyer,
        listing=services.create_listing(
            seller=order.seller, title="Scarf", category_id=order.lines.get().listing.category_id, price=Decimal("30")
        ),
        amount=Decimal("20"),
    )
    services.update_seller_discounts(seller=order.seller, bundle_percent=10)
    assert staff_client.get(f"/admin/marketplace/{model}/", {"q": "ava"}).status_code == 200


def test_staff_set_the_label_fee(staff_client, make_user, make_buyer, make_listing):
    staff_client.post(
        "/admin/marketplace/shippingrate/add/", {"currency": "USD", "label_fee": "7.99", "max_weight_lb": 5}
    )
    assert ShippingRate.objects.get().label_fee == Decimal("7.99")
    order = services.purchase_listing(
        buyer=make_buyer("marco")[0], listing=make_listing(make_user("ava")[0]), idempotency_key="k"
    )
    assert order.shipping_fee == Decimal("7.99")


def test_an_order_page_shows_lines_discounts_and_payments(staff_client, order):
    response = staff_client.get(f"/admin/marketplace/order/{order.pk}/change/")
    assert response.status_code == 200
    assert b"Wrap dress" in response.content and b"Captured" in response.content


def test_staff_cancel_an_order_and_the_buyer_is_refunded(staff_client, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/admin/marketplace/order/", {"action": "cancel", "_selected_action": [order.pk]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancelled_by) == (Order.Status.CANCELLED, "platform")
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    assert Listing.objects.get().status == Listing.Status.AVAILABLE
    # Refused transitions are reported, not raised.
    response = staff_client.post(
        "/admin/marketplace/order/", {"action": "mark_delivered", "_selected_action": [order.pk]}, follow=True
    )
    assert b"it cannot deliver now" in response.content
