"""Tracking: EasyPost's signed tracker webhooks move the order as the platform (shipped, in transit,
delivered), tell the buyer, start the acceptance window; anything unsigned, unknown, stale or
repeated changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import services as marketplace_services
from marketplace.models import Order
from notifications.models import Kind, NotificationEvent
from shipping import services
from shipping.models import Shipment, TrackingEvent
from tests.shipping.conftest import order_shipment, signature, tracker_event

pytestmark = pytest.mark.django_db

INBOX = "{ notifications(first: 20) { edges { node { kind title } } } }"
IN_TRANSIT = ("in_transit", "Departed USPS facility", "2026-12-08T10:00:00Z")
OUT = ("out_for_delivery", "Out for delivery", "2026-12-09T07:00:00Z")
DELIVERED = ("delivered", "Delivered, in mailbox", "2026-12-09T12:30:00Z")


@pytest.fixture
def labelled(easypost_api, place_order):
    """An order with its label bought: (order, tracker id)."""
    order = place_order()
    return order, Shipment.objects.get(order=order).tracker_id


def inbox_titles(gql, token) -> list[str]:
    return [edge["node"]["title"] for edge in gql(INBOX, token=token)["data"]["notifications"]["edges"]]


def test_tracking_to_delivered_moves_the_order_and_tells_the_buyer(gql, parties, labelled, post_webhook):
    _, seller_token, _, buyer_token = parties
    order, tracker = labelled
    steps = [
        ("in_transit", "2026-12-08T10:00:00Z", [IN_TRANSIT], Order.Status.IN_TRANSIT),
        ("out_for_delivery", "2026-12-09T07:00:00Z", [IN_TRANSIT, OUT], Order.Status.IN_TRANSIT),
        ("delivered", "2026-12-09T12:30:00Z", [IN_TRANSIT, OUT, DELIVERED], Order.Status.DELIVERED),
    ]
    for status, updated_at, details, order_status in steps:
        response = post_webhook(tracker_event(tracker, status, updated_at, details))
        assert response.status_code == 200
        assert Order.objects.get(pk=order.pk).status == order_status

    seen = order_shipment(gql, buyer_token, order)
    shipment = Shipment.objects.get(order=order)
    assert seen["status"] == "DELIVERED" and seen["deliveredAt"] is not None
    assert (seen["trackingNumber"], seen["carrier"]) == (shipment.tracking_code, "USPS")
    assert seen["shipment"]["status"] == "DELIVERED"
    assert [(event["status"], event["message"]) for event in seen["shipment"]["events"]] == [
        ("IN_TRANSIT", "Departed USPS facility"),
        ("OUT_FOR_DELIVERY", "Out for delivery"),
        ("DELIVERED", "Delivered, in mailbox"),
    ]
    assert seen["shipment"]["events"][0]["location"] == "PORTLAND, OR, US"
    assert order_shipment(gql, seller_token, order)["shipment"]["events"] == seen["shipment"]["events"]
    # The marketplace told the buyer it shipped (once); tracking told them the rest.
    assert inbox_titles(gql, buyer_token) == [
        "Your order was delivered",
        "Your order is out for delivery",
        "Your order is on its way",
    ]
    # Delivery starts the acceptance window: the platform accepts once it has passed.
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=4))
    assert marketplace_services.auto_accept_orders(now=timezone.now()) == 1


def test_a_first_scan_of_delivered_takes_every_step_at_once(labelled, post_webhook):
    order, tracker = labelled
    post_webhook(tracker_event(tracker, "delivered", "2026-12-09T12:30:00Z", [DELIVERED]))
    order = Order.objects.get(pk=order.pk)
    assert order.status == Order.Status.DELIVERED
    assert order.shipped_at and order.in_transit_at and order.delivered_at


def test_a_parcel_the_seller_marked_shipped_by_hand_still_tracks(gql, parties, labelled, post_webhook):
    seller = parties[0]
    order, tracker = labelled
    marketplace_services.ship_order(order=order, actor=seller, tracking_number="MYOWN1234")
    post_webhook(tracker_event(tracker, "in_transit", "2026-12-08T10:00:00Z", [IN_TRANSIT]))
    assert Order.objects.get(pk=order.pk).status == Order.Status.IN_TRANSIT
    assert NotificationEvent.objects.filter(kind=Kind.ORDER_SHIPPED).count() == 1


def everything(order) -> tuple:
    shipment = Shipment.objects.get(order=order)
    return (
        Order.objects.filter(pk=order.pk).values().get(),
        (shipment.status, shipment.tracked_at),
        TrackingEvent.objects.count(),
        NotificationEvent.objects.count(),
    )


@pytest.mark.parametrize(
    "sign",
    [
        None,
        lambda body: signature(body, "someone-elses-secret"),
        lambda body: signature(body + b" "),
        lambda body: "sha256=" + signature(body).split("=", 1)[1],
    ],
    ids=["missing", "other-secret", "other-body", "wrong-format"],
)
def test_an_unsigned_or_badly_signed_webhook_is_refused_and_changes_nothing(labelled, post_webhook, sign):
    order, tracker = labelled
    before = everything(order)
    response = post_webhook(tracker_event(tracker, "delivered", "2026-12-09T12:30:00Z", [DELIVERED]), sign=sign)
    assert response.status_code == 400
    assert everything(order) == before


def test_without_a_secret_configured_every_webhook_is_refused(labelled, post_webhook, settings):
    order, tracker = labelled
    settings.EASYPOST_WEBHOOK_SECRET = ""
    before = everything(order)
    body = tracker_event(tracker, "delivered", "2026-12-09T12:30:00Z", [DELIVERED])
    assert post_webhook(body, sign=lambda body: signature(body, "")).status_code == 400
    assert everything(order) == before


def test_a_signed_body_that_is_not_json_is_refused(labelled, post_webhook):
    order, _ = labelled
    before = everything(order)
    assert post_webhook(b"{not json").status_code == 400
    assert everything(order) == before


@pytest.mark.parametrize(
    "body",
    [
        tracker_event("trk_never_bought_by_us", "delivered", "2026-12-09T12:30:00Z", [DELIVERED]),
        b'{"object": "Event", "description": "batch.updated", "result": {"id": "batch_1"}}',
        tracker_event("TRACKER", "unknown", "2026-12-09T12:30:00Z"),
        b"[]",
    ],
    ids=["unknown-tracker", "other-event", "unknown-status", "not-an-event"],
)
def test_a_webhook_about_nothing_we_track_is_ignored(labelled, post_webhook, body):
    order, tracker = labelled
    before = everything(order)
    assert post_webhook(body.replace(b"TRACKER", tracker.encode())).status_code == 200
    assert everything(order) == before


def test_a_stale_or_repeated_event_never_moves_the_order_back(labelled, post_webhook):
    order, tracker = labelled
    delivered = tracker_event(tracker, "delivered", "2026-12-09T12:30:00Z", [IN_TRANSIT, DELIVERED])
    post_webhook(delivered)
    after_delivery = everything(order)
    post_webhook(delivered)  # a duplicate
    post_webhook(tracker_event(tracker, "in_transit", "2026-12-08T10:00:00Z", [IN_TRANSIT]))  # late
    # Newer but behind (the carrier re-reporting an earlier status): the order stays delivered.
    post_webhook(tracker_event(tracker, "out_for_delivery", "2026-12-10T08:00:00Z"))
    order_row, (status, _), event_count, notification_count = everything(order)
    assert order_row == after_delivery[0] and status == Shipment.Status.DELIVERED
    assert (event_count, notification_count) == after_delivery[2:]


def test_a_return_parcel_tracks_without_moving_the_order(labelled, post_webhook, django_capture_on_commit_callbacks):
    order, tracker = labelled
    post_webhook(tracker_event(tracker, "delivered", "2026-12-09T12:30:00Z", [DELIVERED]))
    with django_capture_on_commit_callbacks(execute=True):
        returned = services.buy_return_label(order=order)
    returned.refresh_from_db()
    post_webhook(tracker_event(returned.tracker_id, "in_transit", "2026-12-12T10:00:00Z", [IN_TRANSIT]))
    assert Shipment.objects.get(pk=returned.pk).status == Shipment.Status.IN_TRANSIT
    assert Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED


def test_the_webhook_takes_posts_only(client):
    assert client.get("/webhooks/easypost/").status_code == 405


def test_on_the_dev_carrier_staff_can_move_a_parcel_along_from_the_admin(
    client, gql, parties, place_order, make_user, django_capture_on_commit_callbacks
):
    _, _, _, buyer_token = parties
    order = place_order()
    shipment = Shipment.objects.get(order=order)
    staff, _ = make_user("community")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(staff)
    for _ in range(4):  # the fourth finds nothing further
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/admin/shipping/shipment/", {"action": "simulate_dev_scan", "_selected_action": [shipment.pk]})
    seen = order_shipment(gql, buyer_token, order)
    assert seen["status"] == "DELIVERED"
    assert [event["status"] for event in seen["shipment"]["events"]] == ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    assert inbox_titles(gql, buyer_token)[0] == "Your order was delivered"
