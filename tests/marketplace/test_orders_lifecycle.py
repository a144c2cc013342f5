"""An order's life after purchase: ship, deliver, accept, cancel (with its windows), the add-on window,
payments settling, and the order history of buyers and sellers."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from config.errors import CommonError, ServiceError
from marketplace import hooks, services, tasks
from marketplace.errors import CheckoutError
from marketplace.models import DomainEvent, Listing, Order, OrderLine, Payment
from notifications.models import Notification
from tests.helpers import assert_constant_queries, gid
from tests.marketplace.checkout_api import ADD_TO_ORDER, ERRORS, ORDER, money

pytestmark = pytest.mark.django_db

KEYS = itertools.count()
MUTATIONS = {
    "ship": ("shipOrder", "ShipOrderInput", {"trackingNumber": "1Z999AA10123456784"}),
    "deliver": ("markOrderDelivered", "OrderIdInput", {}),
    "accept": ("acceptOrder", "OrderIdInput", {}),
    "cancel": ("cancelOrder", "OrderIdInput", {}),
}
STAMPS = {
    Order.Status.SHIPPED: "shipped_at",
    Order.Status.IN_TRANSIT: "in_transit_at",
    Order.Status.DELIVERED: "delivered_at",
    Order.Status.ACCEPTED: "accepted_at",
    Order.Status.CANCELLED: "cancelled_at",
    Order.Status.REFUNDED: "refunded_at",
}


@pytest.fixture
def parties(make_user, make_buyer):
    """(seller, seller token, buyer, buyer token)."""
    seller, seller_token = make_user("ava")
    buyer, buyer_token = make_buyer("marco")
    return seller, seller_token, buyer, buyer_token


@pytest.fixture
def bought(parties, make_listing, django_capture_on_commit_callbacks):
    """An order of a new listing, its payment captured: `bought(placed_ago=timedelta(hours=4), status=...)`."""
    seller, _, buyer, _ = parties

    def make(*, placed_ago=timedelta(0), status=Order.Status.PAID, source=Order.Source.PURCHASE, **listing_fields):
        with django_capture_on_commit_callbacks(execute=True):
            order = services.purchase_listing(
                buyer=buyer,
                listing=make_listing(seller, **listing_fields),
                idempotency_key=f"key-{next(KEYS)}",
                source=source,
            )
        placed_at = timezone.now() - placed_ago
        stamps = {STAMPS[status]: placed_at} if status in STAMPS else {}
        Order.objects.filter(pk=order.pk).update(
            status=status, placed_at=placed_at, add_on_until=placed_at + timedelta(hours=24), **stamps
        )
        return Order.objects.get(pk=order.pk)

    return make


def act(gql, token, action, order, **extra):
    field, input_type, defaults = MUTATIONS[action]
    mutation = f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ order {ORDER} {ERRORS} }} }}"
    return gql(mutation, {"input": {"orderId": gid(order), **defaults, **extra}}, token=token)["data"][field]


def everything_about(order) -> dict:
    """What a refused transition must leave untouched."""
    order.refresh_from_db()
    return {
        "order": model_to_dict(order),
        "lines": list(OrderLine.objects.values("listing_id", "active")),
        "listings": list(Listing.objects.order_by("pk").values("status", "quantity")),
        "payments": list(Payment.objects.order_by("pk").values("status")),
        "notifications": Notification.objects.count(),
        "events": DomainEvent.objects.count(),
    }


ALLOWED_ROLE = {"ship": "seller", "deliver": "buyer", "accept": "buyer", "cancel": "buyer"}


@pytest.mark.parametrize(
    "action, status",
    [
        (action, status)
        for action, transition in services.ORDER_TRANSITIONS.items()
        if action in MUTATIONS
        for status in Order.Status.values
        if status not in transition.sources
    ],
)
def test_a_transition_from_a_wrong_status_is_a_typed_error_and_changes_nothing(gql, parties, bought, action, status):
    _, seller_token, _, buyer_token = parties
    order = bought(status=status)
    before = everything_about(order)
    token = seller_token if ALLOWED_ROLE[action] == "seller" else buyer_token
    assert act(gql, token, action, order) == {
        "order": None,
        "errors": [{"field": None, "code": "ORDER_TRANSITION_NOT_ALLOWED"}],
    }
    assert everything_about(order) == before


@pytest.mark.parametrize(
    "action, role",
    [
        (action, role)
        for action, transition in services.ORDER_TRANSITIONS.items()
        if action in MUTATIONS
        for role in (services.Role.BUYER, services.Role.SELLER)
        if role not in transition.rules
    ],
)
def test_a_transition_by_the_wrong_side_is_forbidden_and_changes_nothing(gql, parties, bought, action, role):
    _, seller_token, _, buyer_token = parties
    source = next(iter(services.ORDER_TRANSITIONS[action].sources))
    order = bought(status=source)
    before = everything_about(order)
    token = seller_token if role == services.Role.SELLER else buyer_token
    assert act(gql, token, action, order)["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    assert everything_about(order) == before


@pytest.mark.parametrize("action", MUTATIONS)
def test_strangers_do_not_see_orders(gql, make_user, bought, action):
    order = bought()
    _, stranger = make_user("sam")
    assert act(gql, stranger, action, order)["errors"] == [{"field": "orderId", "code": "NOT_FOUND"}]
    assert gql("query($id: ID!) { order(id: $id) { id } node(id: $id) { id } }", {"id": gid(order)}, token=stranger)[
        "data"
    ] == {"order": None, "node": None}


def test_ship_deliver_accept(gql, parties, bought, django_capture_on_commit_callbacks):
    _, seller_token, buyer, buyer_token = parties
    order = bought()
    with django_capture_on_commit_callbacks(execute=True):
        shipped = act(gql, seller_token, "ship", order, trackingNumber=" 1Z999AA10123456784 ")
    assert shipped["errors"] == [] and shipped["order"]["status"] == "SHIPPED"
    assert shipped["order"]["trackingNumber"] == "1Z999AA10123456784"
    notice = Notification.objects.get(recipient=buyer, kind="order_shipped")
    assert notice.body == "Tracking number 1Z999AA10123456784."
    assert act(gql, buyer_token, "deliver", order)["order"]["status"] == "DELIVERED"
    assert act(gql, buyer_token, "accept", order)["order"]["status"] == "ACCEPTED"
    order.refresh_from_db()
    assert order.shipped_at <= order.delivered_at <= order.accepted_at


def test_a_seller_may_name_the_carrier(gql, parties, bought):
    _, seller_token, _, _ = parties
    order = bought()
    mutation = """mutation($input: ShipOrderInput!) { shipOrder(input: $input) {
      order { status carrier trackingNumber inTransitAt refundedAt } errors { field code } } }"""
    variables = {"input": {"orderId": gid(order), "trackingNumber": "1Z999AA10123456784", "carrier": "x" * 33}}
    assert gql(mutation, variables, token=seller_token)["data"]["shipOrder"]["errors"] == [
        {"field": "carrier", "code": "INVALID"}
    ]
    variables["input"]["carrier"] = " UPS "
    assert gql(mutation, variables, token=seller_token)["data"]["shipOrder"] == {
        "order": {
            "status": "SHIPPED",
            "carrier": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "inTransitAt": None,
            "refundedAt": None,
        },
        "errors": [],
    }


def test_shipping_needs_a_tracking_number(gql, parties, bought):
    _, seller_token, _, _ = parties
    order = bought()
    assert act(gql, seller_token, "ship", order, trackingNumber=" ")["errors"] == [
        {"field": "trackingNumber", "code": "INVALID"}
    ]
    assert Order.objects.get().status == Order.Status.PAID


def test_accepting_a_shipped_order_means_it_arrived(gql, parties, bought):
    _, _, _, buyer_token = parties
    order = bought(status=Order.Status.SHIPPED)
    assert act(gql, buyer_token, "accept", order)["order"]["status"] == "ACCEPTED"
    order.refresh_from_db()
    assert order.delivered_at == order.accepted_at


def test_a_buyer_cancels_within_three_hours_the_item_is_relisted_and_refunded(
    gql, parties, bought, make_buyer, provider, django_capture_on_commit_callbacks
):
    _, _, _, buyer_token = parties
    order = bought(placed_ago=timedelta(hours=2, minutes=59))
    with django_capture_on_commit_callbacks(execute=True):
        payload = act(gql, buyer_token, "cancel", order)
    assert payload["errors"] == [] and payload["order"]["status"] == "CANCELLED"
    listing = order.lines.get().listing
    listing.refresh_from_db()
    assert (listing.status, listing.quantity) == (Listing.Status.AVAILABLE, 1)
    assert order.lines.get().active is False
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    assert provider.operations() == ["authorize", "capture", "refund"]
    order.refresh_from_db()
    assert order.cancelled_by == "buyer"
    # Back on sale: someone else can buy it now.
    assert services.purchase_listing(buyer=make_buyer("priya")[0], listing=listing, idempotency_key="k").total


@pytest.mark.parametrize(
    "side, placed_ago, source, allowed",
    [
        ("buyer", timedelta(hours=3, minutes=1), Order.Source.PURCHASE, False),
        ("buyer", timedelta(hours=1), Order.Source.OFFER, False),  # an accepted offer is binding
        ("buyer", timedelta(hours=1), Order.Source.AUCTION, False),
        ("buyer", timedelta(hours=1), Order.Source.BUNDLE, True),
        ("buyer", timedelta(days=7), Order.Source.OFFER, True),
        ("seller", timedelta(hours=1), Order.Source.PURCHASE, False),
        ("seller", timedelta(days=6, hours=23), Order.Source.PURCHASE, False),
        ("seller", timedelta(days=7), Order.Source.PURCHASE, True),
    ],
)
def test_cancellation_windows(gql, parties, bought, side, placed_ago, source, allowed):
    _, seller_token, _, buyer_token = parties
    order = bought(placed_ago=placed_ago, source=source)
    before = everything_about(order)
    payload = act(gql, seller_token if side == "seller" else buyer_token, "cancel", order)
    if allowed:
        assert payload["errors"] == [] and payload["order"]["status"] == "CANCELLED"
    else:
        assert payload["errors"] == [{"field": None, "code": "CANCELLATION_WINDOW_CLOSED"}]
        assert everything_about(order) == before


def test_the_platform_cancels_at_any_time_before_shipping(bought, provider, django_capture_on_commit_callbacks):
    order = bought(placed_ago=timedelta(days=1))
    Payment.objects.update(status=Payment.Status.AUTHORIZED)  # as if the capture had not run yet
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order, actor=None)
    assert Order.objects.get().cancelled_by == "platform"
    assert Payment.objects.get().status == Payment.Status.VOIDED  # a hold is released, not refunded


def test_orders_delivered_long_ago_are_accepted_by_the_periodic_task(bought):
    old = bought(status=Order.Status.DELIVERED, placed_ago=timedelta(days=3, minutes=1))
    recent = bought(status=Order.Status.DELIVERED, placed_ago=timedelta(days=2))
    shipped = bought(status=Order.Status.SHIPPED, placed_ago=timedelta(days=9))
    assert tasks.auto_accept_orders() == 1
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert (statuses[old.pk], statuses[recent.pk], statuses[shipped.pk]) == ("accepted", "delivered", "shipped")


def test_the_carrier_ships_moves_and_delivers_a_parcel_and_the_buyer_accepts_it_in_transit(
    gql, parties, bought, django_capture_on_commit_callbacks
):
    _, _, buyer, buyer_token = parties
    order = bought()
    with django_capture_on_commit_callbacks(execute=True):
        services.ship_order(order=order, actor=None, tracking_number="9400100000000000000000", carrier=" USPS ")
    order.refresh_from_db()
    assert (order.status, order.tracking_number, order.carrier) == ("shipped", "9400100000000000000000", "USPS")
    assert Notification.objects.filter(recipient=buyer, kind="order_shipped").count() == 1
    assert services.mark_order_in_transit(order=order, actor=None).status == Order.Status.IN_TRANSIT
    payload = act(gql, buyer_token, "accept", order)
    assert payload["errors"] == [] and payload["order"]["status"] == "ACCEPTED"
    order.refresh_from_db()
    assert order.shipped_at <= order.in_transit_at <= order.delivered_at == order.accepted_at


def test_a_buyer_marks_a_parcel_in_transit_delivered(gql, parties, bought):
    _, _, _, buyer_token = parties
    order = bought(status=Order.Status.IN_TRANSIT)
    payload = act(gql, buyer_token, "deliver", order)
    assert payload["errors"] == [] and payload["order"]["status"] == "DELIVERED"


@pytest.mark.parametrize("action", ["in_transit", "release", "refund"])
def test_only_the_platform_moves_an_order_in_transit_releases_or_refunds_it(parties, bought, action):
    seller, _, buyer, _ = parties
    order = bought(status=Order.Status.SHIPPED)
    before = everything_about(order)
    move = {
        "in_transit": services.mark_order_in_transit,
        "release": services.release_order,
        "refund": lambda **kwargs: services.refund_order(**kwargs, reason="Damaged."),
    }[action]
    for party in (buyer, seller):
        with pytest.raises(ServiceError) as refused:
            move(order=order, actor=party)
        assert refused.value.errors[0].code is CommonError.FORBIDDEN
    assert everything_about(order) == before


def test_an_open_case_holds_automatic_acceptance_until_staff_release_it(
    bought, make_user, monkeypatch, django_capture_on_commit_callbacks
):
    held = bought(status=Order.Status.DELIVERED, placed_ago=timedelta(days=4))
    free = bought(status=Order.Status.DELIVERED, placed_ago=timedelta(days=4))
    monkeypatch.setattr(hooks, "ACCEPTANCE_HELD", [lambda order: "A case is open." if order.pk == held.pk else None])
    assert tasks.auto_accept_orders() == 1
    with pytest.raises(ServiceError) as refused:
        services.accept_order(order=held, actor=None)
    assert (refused.value.errors[0].code, refused.value.errors[0].message) == (
        CheckoutError.ORDER_TRANSITION_NOT_ALLOWED,
        "A case is open.",
    )
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert (statuses[held.pk], statuses[free.pk]) == ("delivered", "accepted")
    staff, _ = make_user("sam")
    staff.is_staff = True
    assert services.release_order(order=held, actor=staff).status == Order.Status.ACCEPTED
    assert DomainEvent.objects.filter(name="order_accepted", payload__order_id=held.pk, payload__by="platform").exists()


def test_a_refund_after_shipping_refunds_the_payment_and_keeps_the_items_sold(
    bought, provider, django_capture_on_commit_callbacks
):
    order = bought(status=Order.Status.DELIVERED)
    with django_capture_on_commit_callbacks(execute=True):
        refunded = services.refund_order(order=order, actor=None, reason=" Not as described. ")
    assert (refunded.status, refunded.refund_reason) == (Order.Status.REFUNDED, "Not as described.")
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    assert provider.operations() == ["authorize", "capture", "refund"]
    listing = order.lines.get().listing
    listing.refresh_from_db()
    assert (listing.status, listing.quantity, order.lines.get().active) == (Listing.Status.SOLD, 0, True)


def test_a_refund_before_the_capture_ran_releases_the_hold(bought, provider, django_capture_on_commit_callbacks):
    order = bought(status=Order.Status.SHIPPED)
    Payment.objects.update(status=Payment.Status.AUTHORIZED)
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_order(order=order, actor=None, reason="Lost in the post.")
    assert Payment.objects.get().status == Payment.Status.VOIDED


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_a_refund_says_why(bought, reason):
    order = bought(status=Order.Status.SHIPPED)
    before = everything_about(order)
    with pytest.raises(ServiceError) as refused:
        services.refund_order(order=order, actor=None, reason=reason)
    assert (refused.value.errors[0].code, refused.value.errors[0].field) == (CommonError.INVALID, "reason")
    assert everything_about(order) == before


def test_a_failed_capture_cancels_the_order_and_releases_the_hold(
    parties, make_listing, provider, django_capture_on_commit_callbacks
):
    seller, _, buyer, _ = parties
    listing = make_listing(seller)
    provider.fail.add("capture")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.purchase_listing(buyer=buyer, listing=listing, idempotency_key="k")
    order.refresh_from_db()
    listing.refresh_from_db()
    assert (order.status, order.cancelled_by) == (Order.Status.CANCELLED, "platform")
    assert (listing.status, listing.quantity) == (Listing.Status.AVAILABLE, 1)
    payment = Payment.objects.get()
    assert (payment.status, payment.detail) == (Payment.Status.VOIDED, "")
    assert provider.operations() == ["authorize", "void"]


def test_a_capture_failing_after_shipping_is_left_for_staff(
    parties, make_listing, provider, django_capture_on_commit_callbacks
):
    seller, _, buyer, _ = parties
    provider.fail.add("capture")
    with django_capture_on_commit_callbacks(execute=False) as capture_later:
        order = services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k")
    services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")
    for callback in capture_later:
        callback()
    assert Order.objects.get().status == Order.Status.SHIPPED
    payment = Payment.objects.get()
    assert (payment.status, payment.detail) == (Payment.Status.CAPTURE_FAILED, "capture declined")


def test_the_sweep_settles_payments_whose_task_was_lost_or_whose_worker_died(bought, provider):
    order = bought()
    lost_capture = Payment.objects.get()
    long_ago = timezone.now() - timedelta(minutes=10)
    Payment.objects.filter(pk=lost_capture.pk).update(status=Payment.Status.CAPTURING, updated_at=long_ago)
    cancelled = bought()
    Order.objects.filter(pk=cancelled.pk).update(status=Order.Status.CANCELLED)
    lost_refund = cancelled.payments.get()
    Payment.objects.filter(pk=lost_refund.pk).update(updated_at=long_ago)
    recent = bought()
    Payment.objects.filter(order=recent).update(status=Payment.Status.AUTHORIZED)  # its task is still due
    tasks.sweep_checkout()
    statuses = dict(Payment.objects.values_list("order_id", "status"))
    assert (statuses[order.pk], statuses[cancelled.pk], statuses[recent.pk]) == ("captured", "refunded", "authorized")


# The add-on window ----------------------------------------------------------------------------


def add_to_order(gql, token, order, listing, key="add-on-key-1"):
    variables = {"input": {"orderId": gid(order), "listingId": gid(listing), "idempotencyKey": key}}
    return gql(ADD_TO_ORDER, variables, token=token)["data"]["addToOrder"]


def test_an_add_on_joins_the_parcel_without_a_second_label_fee(
    gql, parties, bought, make_listing, provider, django_capture_on_commit_callbacks
):
    seller, _, _, buyer_token = parties
    order = bought(price="40.00", placed_ago=timedelta(hours=23))
    scarf = make_listing(seller, title="Scarf", price="12.00")
    with django_capture_on_commit_callbacks(execute=True):
        payload = add_to_order(gql, buyer_token, order, scarf)
    assert payload["errors"] == []
    assert [line["title"] for line in payload["order"]["lines"]] == ["Wrap dress", "Scarf"]
    assert payload["order"]["lines"][1]["source"] == "ADD_ON"
    assert (payload["order"]["itemTotal"], payload["order"]["shippingFee"], payload["order"]["total"]) == (
        money("52.00"),
        money("6.49"),
        money("58.49"),
    )
    assert sorted(Payment.objects.values_list("amount", "status")) == [
        (Decimal("12.00"), "captured"),
        (Decimal("46.49"), "captured"),
    ]
    assert Notification.objects.filter(recipient=seller, kind="item_sold").count() == 2
    # A retry returns the same order; the same key for another item is refused.
    assert add_to_order(gql, buyer_token, order, scarf) == payload
    assert add_to_order(gql, buyer_token, order, make_listing(seller))["errors"] == [
        {"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}
    ]


def test_cancelling_an_order_with_an_add_on_restocks_both_and_refunds_both(
    gql, parties, bought, make_listing, provider, django_capture_on_commit_callbacks
):
    seller, _, _, buyer_token = parties
    order = bought()
    with django_capture_on_commit_callbacks(execute=True):
        add_to_order(gql, buyer_token, order, make_listing(seller, title="Scarf"))
    with django_capture_on_commit_callbacks(execute=True):
        act(gql, buyer_token, "cancel", order)
    assert set(Listing.objects.values_list("status", "quantity")) == {("available", 1)}
    assert list(Payment.objects.values_list("status", flat=True)) == ["refunded", "refunded"]


@pytest.mark.parametrize(
    "change, code",
    [
        ({"add_on_until": timezone.now() - timedelta(seconds=1)}, "ADD_ON_WINDOW_CLOSED"),
        ({"status": Order.Status.SHIPPED}, "ADD_ON_WINDOW_CLOSED"),
        ({"status": Order.Status.CANCELLED}, "ADD_ON_WINDOW_CLOSED"),
    ],
)
def test_add_ons_only_within_the_window_and_before_shipping(gql, parties, bought, make_listing, change, code):
    seller, _, _, buyer_token = parties
    order, scarf = bought(), make_listing(seller, title="Scarf")
    Order.objects.filter(pk=order.pk).update(**change)
    before = everything_about(order)
    assert add_to_order(gql, buyer_token, order, scarf)["errors"] == [{"field": "orderId", "code": code}]
    assert everything_about(order) == before


def test_add_ons_come_from_the_same_closet_and_only_for_the_buyer(gql, parties, bought, make_user, make_listing):
    seller, seller_token, _, buyer_token = parties
    order = bought()
    other_seller, _ = make_user("priya")
    assert add_to_order(gql, buyer_token, order, make_listing(other_seller))["errors"] == [
        {"field": "listingId", "code": "DIFFERENT_SELLER"}
    ]
    assert add_to_order(gql, buyer_token, order, order.lines.get().listing)["errors"] == [
        {"field": "listingId", "code": "INVALID"}
    ]
    assert add_to_order(gql, seller_token, order, make_listing(seller))["errors"] == [
        {"field": "orderId", "code": "NOT_FOUND"}
    ]
    assert OrderLine.objects.count() == 1


# Order history --------------------------------------------------------------------------------

MY_ORDERS = f"""query($role: Party!, $first: Int, $after: String, $status: OrderStatus) {{
  myOrders(role: $role, first: $first, after: $after, status: $status) {{
    edges {{ node {ORDER} }} pageInfo {{ hasNextPage endCursor }} }} }}"""


def test_buyers_see_purchases_and_sellers_sales_newest_first(gql, parties, bought, make_buyer):
    seller, seller_token, _, buyer_token = parties
    first, second = bought(title="First", placed_ago=timedelta(hours=2)), bought(title="Second")
    _, other_token = make_buyer("priya")

    def titles(body):
        return [edge["node"]["lines"][0]["title"] for edge in body["data"]["myOrders"]["edges"]]

    assert titles(gql(MY_ORDERS, {"role": "BUYER"}, token=buyer_token)) == ["Second", "First"]
    assert titles(gql(MY_ORDERS, {"role": "SELLER"}, token=seller_token)) == ["Second", "First"]
    assert titles(gql(MY_ORDERS, {"role": "SELLER"}, token=buyer_token)) == []
    assert titles(gql(MY_ORDERS, {"role": "BUYER"}, token=other_token)) == []
    page = gql(MY_ORDERS, {"role": "BUYER", "first": 1}, token=buyer_token)["data"]["myOrders"]
    after = gql(MY_ORDERS, {"role": "BUYER", "first": 1, "after": page["pageInfo"]["endCursor"]}, token=buyer_token)
    assert titles(after) == ["First"]
    Order.objects.filter(pk=first.pk).update(status=Order.Status.SHIPPED)
    assert titles(gql(MY_ORDERS, {"role": "BUYER", "status": "SHIPPED"}, token=buyer_token)) == ["First"]
    assert gql(MY_ORDERS, {"role": "BUYER"})["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    order = gql("query($id: ID!) { order(id: $id) { viewerRole } }", {"id": gid(second)}, token=seller_token)
    assert order["data"]["order"] == {"viewerRole": "SELLER"}


@pytest.mark.parametrize("role", ["BUYER", "SELLER"])
def test_order_history_runs_a_fixed_number_of_queries(gql, parties, make_listing, role):
    seller, seller_token, buyer, buyer_token = parties
    services.update_seller_discounts(seller=seller, shipping_percent=50)  # every order has a discount

    def grow(count):
        for _ in range(count):
            services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key=f"k{next(KEYS)}")

    assert_constant_queries(
        gql,
        MY_ORDERS,
        {"role": role, "first": 100},
        seller_token if role == "SELLER" else buyer_token,
        grow,
        path=["myOrders"],
    )
