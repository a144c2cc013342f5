"""purchase_listing, reserve_listing and release_listing: the purchase path every feature calls."""

import enum
from decimal import Decimal

import pytest

from config.errors import CommonError, ServiceError
from marketplace import services
from marketplace.errors import CheckoutError, ListingError
from marketplace.models import DomainEvent, IdempotencyKey, Listing, Order, OrderLine, Payment, ShippingRate
from marketplace.services import checkout
from notifications.models import Notification
from tests.helpers import gid
from tests.marketplace.checkout_api import money, purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(make_user):
    return make_user("ava")[0]


@pytest.fixture
def buyer(make_buyer):
    return make_buyer("marco")[0]


def buy(buyer, listing, key="key-1", **options):
    return services.purchase_listing(buyer=buyer, listing=listing, idempotency_key=key, **options)


def error_of(call) -> tuple[enum.Enum, str | None]:
    with pytest.raises(ServiceError) as raised:
        call()
    return raised.value.errors[0].code, raised.value.errors[0].field


def state(listing) -> tuple:
    """What a failed purchase must leave as it was."""
    listing.refresh_from_db()
    return (
        listing.status,
        listing.quantity,
        Order.objects.count(),
        OrderLine.objects.count(),
        Payment.objects.count(),
        IdempotencyKey.objects.count(),
        DomainEvent.objects.count(),
    )


def test_a_purchase_sells_the_item_with_a_snapshot_of_title_price_and_address(
    seller, buyer, make_listing, provider, django_capture_on_commit_callbacks
):
    listing = make_listing(seller, title="Silk wrap dress", price="48.00")
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(buyer, listing)
    listing.refresh_from_db()
    assert (listing.status, listing.quantity) == (Listing.Status.SOLD, 0)
    assert (order.buyer, order.seller, order.status, order.source) == (buyer, seller, "paid", "purchase")
    assert (order.item_total, order.shipping_fee, order.discount_total, order.total) == (
        Decimal("48.00"),
        Decimal("6.49"),
        Decimal("0.00"),
        Decimal("54.49"),
    )
    assert (order.recipient_name, order.line1, order.city, order.country) == ("Marco", "1 Main St", "Portland", "US")
    line = order.lines.get()
    assert (line.listing, line.title, line.price, line.active, line.sole_unit) == (
        listing,
        "Silk wrap dress",
        Decimal("48.00"),
        True,
        True,
    )
    # The snapshot outlives edits of the saved address.
    address = buyer.shipping_addresses.get()
    services.update_shipping_address(address=address, city="Salem")
    order.refresh_from_db()
    assert order.city == "Portland"
    # Authorized before, captured once committed.
    payment = order.payments.get()
    assert provider.operations() == ["authorize", "capture"]
    assert (payment.status, payment.amount, payment.reference) == ("captured", Decimal("54.49"), provider.calls[0][1])
    assert [event.name for event in DomainEvent.objects.order_by("pk")] == ["order_placed", "first_sale"]
    sold = Notification.objects.get(recipient=seller)
    assert (sold.kind, sold.title, sold.target) == ("item_sold", "Sold: Silk wrap dress", listing)


def test_the_same_key_returns_the_first_order_and_other_input_is_refused(seller, buyer, make_listing):
    listing, other = make_listing(seller), make_listing(seller, title="Other")
    first = buy(buyer, listing)
    assert buy(buyer, listing) == first  # even though the item is sold out by now
    assert error_of(lambda: buy(buyer, other)) == (CheckoutError.IDEMPOTENCY_KEY_REUSED, "idempotencyKey")
    assert error_of(lambda: buy(buyer, listing, price=Decimal("10"))) == (
        CheckoutError.IDEMPOTENCY_KEY_REUSED,
        "idempotencyKey",
    )
    assert buy(buyer, listing, price=None) == first
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "make_trouble, code",
    [
        (lambda listing, buyer: Listing.objects.filter(pk=listing.pk).update(status="sold", quantity=0), "SOLD_OUT"),
        (
            lambda listing, buyer: Listing.objects.filter(pk=listing.pk).update(status="reserved"),
            "LISTING_NOT_AVAILABLE",
        ),
        (lambda listing, buyer: Listing.objects.filter(pk=listing.pk).update(status="draft"), "LISTING_NOT_AVAILABLE"),
        (
            lambda listing, buyer: Listing.objects.filter(pk=listing.pk).update(status="removed"),
            "LISTING_NOT_AVAILABLE",
        ),
        (lambda listing, buyer: buyer.shipping_addresses.all().delete(), "ADDRESS_REQUIRED"),
        (lambda listing, buyer: Listing.objects.filter(pk=listing.pk).update(price="20.64"), "PAYMENT_DECLINED"),
    ],
)
def test_a_refused_purchase_changes_nothing(seller, buyer, make_listing, provider, make_trouble, code):
    listing = make_listing(seller)
    make_trouble(listing, buyer)
    before = state(listing)
    assert error_of(lambda: buy(buyer, listing))[0].name == code
    assert state(listing) == before
    assert "capture" not in provider.operations()


def test_cannot_buy_own_listing(seller, make_listing):
    listing = make_listing(seller)
    assert error_of(lambda: buy(seller, listing)) == (CheckoutError.CANNOT_BUY_OWN_LISTING, "listingId")


def interfere(monkeypatch, change):
    """Run `change(listing)` just before the purchase takes the stock, as a concurrent request would."""
    take_stock = checkout._take_stock

    def changed_meanwhile(listing, **options):
        change(listing)
        return take_stock(listing, **options)

    monkeypatch.setattr(checkout, "_take_stock", changed_meanwhile)


def test_a_failure_after_authorizing_voids_the_authorization(seller, buyer, make_listing, provider, monkeypatch):
    listing = make_listing(seller)
    interfere(monkeypatch, lambda listing: services.reserve_listing(listing=listing))
    assert error_of(lambda: buy(buyer, listing))[0] == ListingError.LISTING_NOT_AVAILABLE
    assert provider.operations() == ["authorize", "void"]
    assert provider.calls[0][1] == provider.calls[1][1]
    assert not Order.objects.exists() and not IdempotencyKey.objects.exists()


def test_a_price_change_between_quote_and_stock_is_refused(seller, buyer, make_listing, provider, monkeypatch):
    listing = make_listing(seller, price="30.00")
    interfere(monkeypatch, lambda listing: Listing.objects.filter(pk=listing.pk).update(price="35.00"))
    assert error_of(lambda: buy(buyer, listing))[0] == CheckoutError.PRICE_CHANGED
    listing.refresh_from_db()
    assert (listing.status, listing.quantity) == ("available", 1)
    assert provider.operations() == ["authorize", "void"]


def test_a_given_price_overrides_the_listing_price(seller, buyer, make_listing):
    listing = make_listing(seller, price="40.00")
    order = buy(buyer, listing, price=Decimal("31.5"), source=Order.Source.AUCTION)
    assert (order.source, order.item_total, order.total) == ("auction", Decimal("31.50"), Decimal("37.99"))
    assert order.lines.get().source == "auction"


def test_a_reserved_listing_is_bought_only_by_its_holder(seller, buyer, make_buyer, make_listing):
    listing = make_listing(seller)
    assert services.reserve_listing(listing=listing).status == Listing.Status.RESERVED
    assert error_of(lambda: services.reserve_listing(listing=listing))[0] == ListingError.LISTING_NOT_AVAILABLE
    other = make_buyer("priya")[0]
    assert error_of(lambda: buy(other, listing))[0] == ListingError.LISTING_NOT_AVAILABLE
    order = buy(buyer, listing, allow_reserved=True, source=Order.Source.LIVE_BUY_NOW)
    listing.refresh_from_db()
    assert (listing.status, order.source) == (Listing.Status.SOLD, "live_buy_now")
    assert error_of(lambda: services.reserve_listing(listing=listing))[0] == CheckoutError.SOLD_OUT


def test_release_makes_a_reserved_listing_available_and_leaves_others(seller, make_listing):
    listing = make_listing(seller)
    services.reserve_listing(listing=listing)
    assert services.release_listing(listing=listing).status == Listing.Status.AVAILABLE
    assert services.release_listing(listing=listing).status == Listing.Status.AVAILABLE
    Listing.objects.filter(pk=listing.pk).update(status="sold", quantity=0)
    assert services.release_listing(listing=listing).status == Listing.Status.SOLD


def test_holding_a_listing_with_several_units_and_buying_one_makes_it_available(seller, buyer, make_listing):
    listing = make_listing(seller, quantity=3)
    services.reserve_listing(listing=listing)
    order = buy(buyer, listing, allow_reserved=True)
    listing.refresh_from_db()
    assert (listing.status, listing.quantity) == (Listing.Status.AVAILABLE, 2)
    assert order.lines.get().sole_unit is False


def test_the_last_unit_of_several_sells_the_listing_out(seller, make_buyer, make_listing):
    listing = make_listing(seller, quantity=2)
    buy(make_buyer("marco")[0], listing)
    buy(make_buyer("priya")[0], listing)
    listing.refresh_from_db()
    assert (listing.status, listing.quantity) == (Listing.Status.SOLD, 0)
    assert list(OrderLine.objects.values_list("sole_unit", flat=True)) == [False, False]
    assert error_of(lambda: buy(make_buyer("sam")[0], listing))[0] == CheckoutError.SOLD_OUT
    # One first sale for the seller.
    assert DomainEvent.objects.filter(name="first_sale").count() == 1


def test_staff_set_the_label_fee_per_currency(seller, buyer, make_listing):
    ShippingRate.objects.create(currency="USD", label_fee=Decimal("7.25"))
    order = buy(buyer, make_listing(seller, price="10"))
    assert (order.shipping_fee, order.total) == (Decimal("7.25"), Decimal("17.25"))


def test_a_chosen_address_must_be_the_buyers(seller, buyer, make_buyer, make_listing):
    listing = make_listing(seller)
    theirs = make_buyer("priya")[0].shipping_addresses.get()
    assert error_of(lambda: buy(buyer, listing, shipping_address_id=theirs.pk)) == (
        CommonError.NOT_FOUND,
        "shippingAddressId",
    )
    second = services.add_shipping_address(
        user=buyer, recipient_name="Marco", line1="9 Elm St", city="Austin", postal_code="73301", country="us"
    )
    assert buy(buyer, listing, shipping_address_id=second.pk).city == "Austin"


def test_the_database_refuses_a_second_active_line_for_a_sole_unit(seller, buyer, make_buyer, make_listing):
    """The backstop when code forgets the stock: a one-off item cannot be on two live orders."""
    from django.db import IntegrityError, transaction

    order = buy(buyer, make_listing(seller))
    line = order.lines.get()
    other = buy(make_buyer("priya")[0], make_listing(seller, title="Other"))
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(
            order=other, listing=line.listing, title=line.title, price=line.price, source="purchase", sole_unit=True
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Listing.objects.filter(pk=line.listing_id).update(quantity=-1)


# Through the API -------------------------------------------------------------------------------


def test_purchase_listing_returns_the_order(gql, make_user, make_buyer, make_listing):
    seller, _ = make_user("ava")
    _, token = make_buyer("marco")
    listing = make_listing(seller, title="Silk wrap dress", price="48.00")
    payload = purchase(gql, token, listing)
    assert payload["errors"] == []
    assert payload["order"] | {"id": None} == {
        "id": None,
        "status": "PAID",
        "source": "PURCHASE",
        "viewerRole": "BUYER",
        "buyer": {"username": "marco"},
        "seller": {"username": "ava"},
        "trackingNumber": "",
        "lines": [
            {
                "title": "Silk wrap dress",
                "source": "PURCHASE",
                "price": money("48.00"),
                "listing": {"id": gid(listing), "status": "SOLD"},
            }
        ],
        "discounts": [],
        "itemTotal": money("48.00"),
        "shippingFee": money("6.49"),
        "discountTotal": money("0.00"),
        "total": money("54.49"),
        "shippingAddress": {"recipientName": "Marco", "line1": "1 Main St", "city": "Portland", "country": "US"},
    }
    assert (
        gql(
            "query($id: ID!) { order(id: $id) { viewerRole total { amount } } }",
            {"id": payload["order"]["id"]},
            token=make_user("ava2")[1],
        )["data"]["order"]
        is None
    )


def test_a_retry_gets_the_identical_response_and_a_new_input_a_typed_error(gql, make_user, make_buyer, make_listing):
    seller, _ = make_user("ava")
    _, token = make_buyer("marco")
    listing, other = make_listing(seller), make_listing(seller, title="Other")
    first = purchase(gql, token, listing, key="3f1c2a9e-retry")
    assert purchase(gql, token, listing, key="3f1c2a9e-retry") == first
    assert purchase(gql, token, other, key="3f1c2a9e-retry") == {
        "order": None,
        "errors": [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}],
    }
    assert Order.objects.count() == 1


@pytest.mark.parametrize("key", ["short", "has:colon-inside", "x" * 101, "spaces are not ok"])
def test_client_keys_are_plain_and_long_enough(gql, make_user, make_buyer, make_listing, key):
    seller, _ = make_user("ava")
    _, token = make_buyer("marco")
    assert purchase(gql, token, make_listing(seller), key=key)["errors"] == [
        {"field": "idempotencyKey", "code": "INVALID"}
    ]
    assert not Order.objects.exists()


def test_purchase_errors_are_typed(gql, make_user, make_buyer, make_listing):
    seller, seller_token = make_user("ava")
    _, token = make_buyer("marco")
    _, homeless = make_user("sam")
    listing = make_listing(seller)
    assert purchase(gql, seller_token, listing)["errors"] == [{"field": "listingId", "code": "CANNOT_BUY_OWN_LISTING"}]
    assert purchase(gql, homeless, listing)["errors"] == [{"field": "shippingAddressId", "code": "ADDRESS_REQUIRED"}]
    assert purchase(gql, None, listing)["errors"] == [{"field": None, "code": "UNAUTHENTICATED"}]
    assert purchase(gql, token, listing, shippingAddressId=gid(listing))["errors"] == [
        {"field": "shippingAddressId", "code": "INVALID"}
    ]
    purchase(gql, token, listing, key="first-purchase")
    assert purchase(gql, token, listing, key="second-purchase")["errors"] == [
        {"field": "listingId", "code": "SOLD_OUT"}
    ]


def test_a_retry_refused_because_its_twin_just_won_returns_the_twins_order(seller, buyer, make_listing, monkeypatch):
    """The race the PostgreSQL test hits now and then, made certain: while a retry checks the item,
    its twin (same key) buys it and commits; the retry's SOLD_OUT gives way to the twin's order."""
    listing = make_listing(seller)
    check = checkout._check_buyable
    twin = []

    def twin_wins_meanwhile(*args, **kwargs):
        if not twin:
            monkeypatch.setattr(checkout, "_check_buyable", check)
            twin.append(buy(buyer, listing))
        return check(*args, **kwargs)

    monkeypatch.setattr(checkout, "_check_buyable", twin_wins_meanwhile)
    assert buy(buyer, listing) == twin[0]
    assert Order.objects.count() == 1


def test_community_programs_hook_their_discount_into_every_new_order(seller, buyer, make_listing, monkeypatch):
    """What issue 8's first-sale program will do: append a rule; its discount is stored by source."""
    from marketplace import pricing

    def first_sale_shipping(basket):
        return [pricing.Discount("program", Decimal("5.00"), pricing.SHIPPING, "First sale: shipping on us")]

    monkeypatch.setattr(pricing, "DISCOUNT_RULES", [*pricing.DISCOUNT_RULES, first_sale_shipping])
    order = buy(buyer, make_listing(seller, price="20.00"))
    assert (order.shipping_fee, order.discount_total, order.total) == (
        Decimal("6.49"),
        Decimal("5.00"),
        Decimal("21.49"),
    )
    assert list(order.discounts.values_list("source", "applies_to", "description")) == [
        ("program", "shipping", "First sale: shipping on us")
    ]


def test_a_funded_discount_is_paid_in_the_orders_transaction_and_can_refuse_it(
    seller, buyer, make_listing, monkeypatch, provider
):
    """A program paying for its discount (Discount.fund) sees the order it funds; refusing rolls it back."""
    from marketplace import pricing

    funded = []

    def fund(order, amount):
        funded.append((Order.objects.filter(pk=order.pk).exists(), amount))
        if len(funded) > 1:
            raise ServiceError(CheckoutError.PRICE_CHANGED, "The program's budget has just run out.")

    def program(basket):
        return [pricing.Discount("program", Decimal("9.00"), pricing.SHIPPING, "Shipping on us", fund=fund)]

    monkeypatch.setattr(pricing, "DISCOUNT_RULES", [*pricing.DISCOUNT_RULES, program])
    order = buy(buyer, make_listing(seller, price="20.00"))
    assert funded == [(True, Decimal("6.49"))]  # as applied: capped by the label fee
    assert order.total == Decimal("20.00")
    with pytest.raises(ServiceError) as refused:
        buy(buyer, make_listing(seller, price="30.00"), key="second")
    assert refused.value.errors[0].code is CheckoutError.PRICE_CHANGED
    assert Order.objects.count() == 1 and provider.operations()[-1] == "void"
