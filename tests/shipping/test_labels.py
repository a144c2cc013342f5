"""Prepaid labels: bought when the order is placed, once, through EasyPost's SDK against a local
fake of its API (tests/fakes/easypost_api.py), offered to the seller only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from marketplace import events
from marketplace import services as marketplace_services
from marketplace.models import DomainEvent, Listing, ShippingAddress
from sellers.models import FirstSaleShippingProgram
from shipping import account_data, services, tasks
from shipping.checks import easypost_configured
from shipping.models import Shipment
from tests.helpers import assert_constant_queries, gid, race
from tests.marketplace.checkout_api import PURCHASE
from tests.sellers.programs import run_program
from tests.shipping.conftest import SHIPMENT, order_shipment

pytestmark = pytest.mark.django_db


def test_a_placed_order_gets_one_label_the_seller_sees_it_the_buyer_only_tracks(
    gql, easypost_api, parties, place_order
):
    _, seller_token, _, buyer_token = parties
    order = place_order()
    shipment = Shipment.objects.get(order=order)
    # A retried task and a re-dispatched event buy nothing more.
    tasks.buy_label.delay(shipment.pk)
    services.on_order_placed(DomainEvent.objects.get(name=DomainEvent.Name.ORDER_PLACED))
    tasks.sweep_labels.delay()
    assert easypost_api.purchases == [shipment.carrier_shipment_id]
    assert Shipment.objects.filter(order=order).count() == 1

    seen_by_seller = order_shipment(gql, seller_token, order)["shipment"]
    label = easypost_api.shipments[shipment.carrier_shipment_id]["postage_label"]
    assert seen_by_seller == {
        "carrier": "USPS",
        "service": "GroundAdvantage",  # the cheapest of the configured service, not UPS's cheaper Ground
        "trackingCode": easypost_api.shipments[shipment.carrier_shipment_id]["tracking_code"],
        "labelUrl": label["label_pdf_url"],
        "status": "PRE_TRANSIT",
        "events": [],
    }
    seen_by_buyer = order_shipment(gql, buyer_token, order)["shipment"]
    assert seen_by_buyer == seen_by_seller | {"labelUrl": None}
    assert Shipment.objects.get(pk=shipment.pk).label_cost == Decimal("5.57")  # staff see it in the admin
    sent = easypost_api.shipments[shipment.carrier_shipment_id]
    assert (sent["from_address"]["name"], sent["to_address"]["name"]) == ("Ava", "Marco")
    assert sent["parcel"]["weight"] == 80 and sent["reference"] == f"order-{order.pk}-outbound"


def test_the_label_cost_is_kept_beside_what_the_buyer_paid_for_shipping(easypost_api, parties, place_order):
    seller = parties[0]
    marketplace_services.update_seller_discounts(seller=seller, shipping_percent=50)
    order = place_order()
    shipment = Shipment.objects.get(order=order)
    assert order.shipping_fee == Decimal("6.49")
    assert shipment.shipping_charged == Decimal("3.24")  # the fee less the seller's 50% (3.25 off)
    assert shipment.label_cost == Decimal("5.57")
    assert shipment.shipping_subsidy == Decimal("2.33")


def test_the_first_sale_shipping_discount_is_what_the_program_pays_not_the_buyer(easypost_api, make_user, place_order):
    staff, _ = make_user("community")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    run_program(
        FirstSaleShippingProgram, staff, amount=Decimal("5.00"), per_order_cap=Decimal("5.00"), budget=Decimal("100")
    )
    first, second = place_order(), place_order()
    first_label, second_label = Shipment.objects.get(order=first), Shipment.objects.get(order=second)
    # One label per parcel; the buyer paid 1.49 of the first's 6.49 fee, the program the rest.
    assert (first.shipping_fee, first_label.shipping_charged) == (Decimal("6.49"), Decimal("1.49"))
    assert first_label.shipping_subsidy == Decimal("4.08")
    assert (second_label.shipping_charged, second_label.shipping_subsidy) == (Decimal("6.49"), Decimal("-0.92"))


def test_a_carrier_timeout_leaves_the_label_to_the_sweep_which_buys_no_second_one(easypost_api, place_order):
    easypost_api.stall_after_buy = 1.0  # bought there, the answer too late here
    order = place_order()
    shipment = Shipment.objects.get(order=order)
    assert shipment.purchased_at is None and "timed out" in shipment.last_error.lower()
    assert len(easypost_api.purchases) == 1

    easypost_api.stall_after_buy = 0
    tasks.sweep_labels.delay()  # not due yet: backing off
    assert Shipment.objects.get(pk=shipment.pk).purchased_at is None
    Shipment.objects.filter(pk=shipment.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    tasks.sweep_labels.delay()
    shipment.refresh_from_db()
    assert shipment.purchased_at is not None and shipment.last_error == ""
    assert easypost_api.purchases == [shipment.carrier_shipment_id]  # the first purchase, found again
    assert shipment.tracking_code == easypost_api.shipments[shipment.carrier_shipment_id]["tracking_code"]


def test_a_carrier_outage_is_retried_later(easypost_api, place_order):
    easypost_api.unavailable = 1
    order = place_order()
    shipment = Shipment.objects.get(order=order)
    assert shipment.purchased_at is None and shipment.attempts == 1 and easypost_api.purchases == []
    Shipment.objects.filter(pk=shipment.pk).update(next_attempt_at=timezone.now())
    tasks.sweep_labels.delay()
    assert Shipment.objects.get(pk=shipment.pk).purchased_at is not None


def test_a_seller_without_an_address_gets_the_label_once_they_add_one(
    easypost_api, make_user, make_buyer, make_listing, api
):
    seller, _ = make_user("ava")
    _, buyer_token = make_buyer("marco")
    listing = make_listing(seller)
    api(PURCHASE, {"input": {"listingId": gid(listing), "idempotencyKey": "k-no-address"}}, token=buyer_token)
    shipment = Shipment.objects.get(order__lines__listing=listing)
    assert shipment.purchased_at is None and "address to ship from" in shipment.last_error
    assert easypost_api.purchases == [] and Listing.objects.get(pk=listing.pk).status == Listing.Status.SOLD

    marketplace_services.add_shipping_address(
        user=seller,
        recipient_name="Ava",
        line1="2 Oak St",
        city="Salem",
        region="OR",
        postal_code="97301",
        country="US",
    )
    Shipment.objects.filter(pk=shipment.pk).update(next_attempt_at=timezone.now())
    tasks.sweep_labels.delay()
    assert Shipment.objects.get(pk=shipment.pk).purchased_at is not None
    assert ShippingAddress.objects.filter(user=seller).count() == 1


def test_a_cancelled_order_gets_no_label(easypost_api, parties, place_order, django_capture_on_commit_callbacks):
    easypost_api.unavailable = 1
    order = place_order()
    buyer = parties[2]
    with django_capture_on_commit_callbacks(execute=True):
        marketplace_services.cancel_order(order=order, actor=buyer)
    Shipment.objects.filter(order=order).update(next_attempt_at=timezone.now())
    tasks.sweep_labels.delay()
    assert not Shipment.objects.filter(order=order).exists() and easypost_api.purchases == []


def test_a_label_bought_for_a_cancelled_order_is_given_back_once(
    easypost_api, parties, place_order, django_capture_on_commit_callbacks
):
    order = place_order()
    shipment = Shipment.objects.get(order=order)
    easypost_api.unavailable = 1  # the first refund attempt meets an outage
    with django_capture_on_commit_callbacks(execute=True):
        marketplace_services.cancel_order(order=order, actor=parties[2])
    assert easypost_api.refunds == [] and Shipment.objects.get(pk=shipment.pk).refund_requested_at is None
    tasks.sweep_labels.delay()
    tasks.sweep_labels.delay()
    with django_capture_on_commit_callbacks(execute=True):  # the event handed over again
        services.on_order_cancelled(DomainEvent.objects.get(name=DomainEvent.Name.ORDER_CANCELLED))
    shipment.refresh_from_db()
    assert easypost_api.refunds == [shipment.carrier_shipment_id]
    assert shipment.refund_requested_at is not None and shipment.shipping_subsidy is None


def test_a_return_label_goes_from_the_buyer_back_to_the_seller(
    gql, easypost_api, parties, place_order, django_capture_on_commit_callbacks
):
    _, seller_token, _, buyer_token = parties
    order = place_order()
    with django_capture_on_commit_callbacks(execute=True):
        returned = services.buy_return_label(order=order)
    assert services.buy_return_label(order=order).pk == returned.pk  # asked again: the same one
    returned.refresh_from_db()
    sent = easypost_api.shipments[returned.carrier_shipment_id]
    assert sent["is_return"] is True and (sent["from_address"]["name"], sent["to_address"]["name"]) == ("Marco", "Ava")
    assert returned.shipping_charged == Decimal("0.00") and returned.shipping_subsidy == Decimal("5.57")
    query = "query($id: ID!) { order(id: $id) { returnShipment { trackingCode labelUrl } } }"
    for token, sees_label in ((buyer_token, True), (seller_token, False)):
        seen = gql(query, {"id": gid(order)}, token=token)["data"]["order"]["returnShipment"]
        assert seen["trackingCode"] == returned.tracking_code
        assert (seen["labelUrl"] is not None) is sees_label


def test_the_dev_carrier_makes_a_pdf_label_in_media_without_network(gql, client, parties, place_order):
    _, seller_token, _, _ = parties
    order = place_order()
    shipment = order_shipment(gql, seller_token, order)["shipment"]
    assert shipment["carrier"] == "DEV" and shipment["trackingCode"].startswith("DEV")
    pdf = client.get(shipment["labelUrl"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-1.4")


def test_order_lists_carry_their_shipments_in_fixed_queries(gql, easypost_api, parties, make_listing):
    seller, seller_token, buyer, _ = parties
    query = f"""query($first: Int) {{ myOrders(role: SELLER, first: $first) {{ edges {{ node {{ id
      {SHIPMENT} returnShipment {{ trackingCode }} }} }} }} }}"""

    def grow(number):
        for n in range(number):
            order = marketplace_services.purchase_listing(
                buyer=buyer, listing=make_listing(seller), idempotency_key=f"list-{n}-{timezone.now().timestamp()}"
            )
            services.request_label(order=order)
            shipment = Shipment.objects.get(order=order)
            Shipment.objects.filter(pk=shipment.pk).update(
                tracker_id=f"trk_{order.pk}", tracking_code=f"CODE{order.pk}"
            )

    assert_constant_queries(gql, query, {"first": 100}, seller_token, grow, path=["myOrders"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_buy_one_label(easypost_api, parties, make_listing, category):
    seller, _, buyer, _ = parties
    easypost_api.unavailable = 1  # the attempt on commit fails: the label is left to buy
    order = marketplace_services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="race")
    shipment = Shipment.objects.get(order=order, purchased_at__isnull=True)
    Shipment.objects.filter(pk=shipment.pk).update(next_attempt_at=timezone.now())
    results = race([lambda: services.buy_label(shipment_id=shipment.pk) for _ in range(8)])
    assert sum(result is not None for result in results) == 1
    assert len(easypost_api.purchases) == 1 and Shipment.objects.get(pk=shipment.pk).purchased_at is not None


def test_deploying_with_easypost_needs_its_keys(settings):
    settings.SHIPPING_CARRIER = "easypost"
    settings.EASYPOST_API_KEY = ""
    settings.EASYPOST_WEBHOOK_SECRET = ""
    with pytest.raises(SystemCheckError, match="shipping.E001"):
        call_command("check", "--deploy", "--fail-level", "ERROR", "--tag", "security")
    settings.EASYPOST_API_KEY, settings.EASYPOST_WEBHOOK_SECRET = "key", "secret"
    assert easypost_configured(None) == []


def test_the_event_handler_is_subscribed():
    assert services.on_order_placed in events._subscribers[DomainEvent.Name.ORDER_PLACED]


def test_staff_see_labels_and_their_tracking_in_the_admin(client, make_user, place_order):
    order = place_order()
    staff, _ = make_user("community")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(staff)
    shipment = Shipment.objects.get(order=order)
    assert client.get("/admin/shipping/shipment/").status_code == 200
    page = client.get(f"/admin/shipping/shipment/{shipment.pk}/change/")
    assert page.status_code == 200 and shipment.tracking_code in page.content.decode()


def test_a_members_data_export_has_their_parcels(parties, place_order):
    order = place_order()
    shipment = Shipment.objects.get(order=order)
    for member in parties[0], parties[2]:
        assert account_data.export(member)["shipments"] == [
            {
                "orderId": order.pk,
                "direction": "outbound",
                "carrier": "DEV",
                "trackingCode": shipment.tracking_code,
                "status": "pre_transit",
                "purchasedAt": shipment.purchased_at,
                "events": [],
            }
        ]
