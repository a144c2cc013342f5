"""Properties of the order path: whatever the items and discounts, an order's total in cents is items
+ shipping − discounts, never negative, never a float; first on `pricing.price` (every rule,
programs included), then on orders really written by checkout, bundle offers and offers to likers."""

import itertools
from decimal import Decimal
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accounts import services as account_services
from marketplace import pricing, services
from marketplace.models import Bundle, Offer, Order, ShippingRate
from marketplace.pricing import ITEMS, SHIPPING, Basket, Discount, SellerTerms

CENT = Decimal("0.01")
cents = st.integers(min_value=1, max_value=1_000_000).map(lambda c: Decimal(c) / 100)
fees = st.integers(min_value=0, max_value=2_000).map(lambda c: Decimal(c) / 100)
terms = st.builds(
    SellerTerms,
    bundle_percent=st.integers(0, 90),
    bundle_min_items=st.integers(2, 6),
    shipping_percent=st.integers(0, 100),
)


def assert_adds_up(items, shipping, discounts, total, item_prices):
    amounts = [items, shipping, total, *discounts]
    assert all(isinstance(amount, Decimal) and amount == amount.quantize(CENT) for amount in amounts)
    assert items == sum(item_prices)
    assert total == items + shipping - sum(discounts, Decimal("0.00"))
    assert total >= 0 and all(discount >= 0 for discount in discounts)


@pytest.mark.django_db  # the first-sale program's rule (sellers) reads its program's row
@given(
    prices=st.lists(cents, min_size=1, max_size=8),
    fee=fees,
    seller=terms,
    bundled=st.booleans(),
    offer_share=st.none() | st.integers(40, 99),
    shipping_off=fees,
    program=st.none() | fees,
    program_target=st.sampled_from([ITEMS, SHIPPING]),
)
def test_every_rule_together_adds_up(prices, fee, seller, bundled, offer_share, shipping_off, program, program_target):
    offer_price = None if offer_share is None else pricing.percent_of(sum(prices), offer_share)
    programs = [] if program is None else [lambda basket: [Discount("program", program, program_target)]]
    with patch.object(pricing, "DISCOUNT_RULES", [*pricing.DISCOUNT_RULES, *programs]):  # as a program appends
        totals = pricing.price(
            Basket(
                seller_id=1,
                buyer_id=2,
                currency="USD",
                item_prices=tuple(prices),
                shipping_fee=fee,
                seller_terms=seller,
                bundled=bundled,
                offer_price=offer_price,
                offer_shipping_discount=shipping_off,
            )
        )
    assert_adds_up(totals.items, totals.shipping, [d.amount for d in totals.discounts], totals.total, prices)
    for target, base in ((ITEMS, totals.items), (SHIPPING, totals.shipping)):
        assert sum(d.amount for d in totals.discounts if d.applies_to == target) <= base
    if offer_price is not None:  # an accepted bundle offer is the price of the items, with no bundle discount
        assert totals.items - sum(d.amount for d in totals.discounts if d.applies_to == ITEMS) <= offer_price
        assert "bundle" not in {d.source for d in totals.discounts}


NAMES = itertools.count()


def member(with_address=True):
    name = f"member{next(NAMES)}"
    user, _ = account_services.register(username=name, email=f"{name}@example.com", password="a-long-enough-passphrase")
    if with_address:
        services.add_shipping_address(
            user=user, recipient_name="M", line1="1 Main St", city="Reno", postal_code="89501", country="US"
        )
    return user


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    # The database is the test's, shared by the examples; each one makes its own members and items.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prices=st.lists(cents, min_size=1, max_size=5),
    fee=fees,
    seller_terms=terms,
    path=st.sampled_from(["bundle", "bundle_offer", "offer_to_liker"]),
    offer_share=st.integers(40, 99),
    shipping_off=fees,
)
def test_orders_written_by_every_checkout_path_add_up(
    prices, fee, seller_terms, path, offer_share, shipping_off, category, provider, monkeypatch
):
    monkeypatch.setattr(provider, "DECLINED_CENTS", None)  # any total may come up, x.13 too
    ShippingRate.objects.update_or_create(currency="USD", defaults={"label_fee": fee})
    seller, buyer = member(with_address=False), member()
    services.update_seller_discounts(
        seller=seller,
        bundle_percent=seller_terms.bundle_percent,
        bundle_min_items=seller_terms.bundle_min_items,
        shipping_percent=seller_terms.shipping_percent,
    )
    listings = [
        services.create_listing(seller=seller, title="Item", category_id=category.pk, price=price) for price in prices
    ]
    offered = prices[:1] if path == "offer_to_liker" else prices
    offer_amount = max(pricing.percent_of(sum(offered), offer_share), pricing.percent_of(sum(offered), 40))
    if path == "offer_to_liker":
        assume(0 < offer_amount < prices[0])  # a few cents leave no room for an offer below the price
        offer = services.create_offer(
            buyer=buyer,
            listing=listings[0],
            amount=offer_amount,
            source=Offer.Source.OFFER_TO_LIKERS,
            shipping_discount=shipping_off or None,
        )
        services.respond_to_offer(offer=offer, actor=buyer, action="accept")
        bought = [offer_amount]
    else:
        for listing in listings:
            services.add_to_bundle(buyer=buyer, listing=listing)
        bundle = Bundle.objects.get(buyer=buyer)
        if path == "bundle_offer":
            assume(0 < offer_amount < sum(prices))
            offer = services.make_bundle_offer(buyer=buyer, bundle=bundle, amount=offer_amount)
            services.respond_to_offer(offer=offer, actor=seller, action="accept")
        else:
            services.checkout_bundle(buyer=buyer, bundle=bundle, idempotency_key="k")
        bought = prices
    order = Order.objects.get(buyer=buyer)  # as stored: Decimals read back from the database
    discounts = list(order.discounts.values_list("amount", flat=True))
    assert_adds_up(order.item_total, order.shipping_fee, discounts, order.total, bought)
    assert order.discount_total == sum(discounts, Decimal("0.00"))
    assert sorted(order.lines.values_list("price", flat=True)) == sorted(bought)
    assert order.payments.get().amount == order.total
