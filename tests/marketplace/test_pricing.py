from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.pricing import ITEMS, SHIPPING, Discount, order_totals, percent_of, to_cents

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
discounts = st.builds(
    Discount,
    source=st.sampled_from(["seller", "bundle", "offer", "program"]),
    amount=st.decimals(min_value=0, max_value=100_000, places=3),
    applies_to=st.sampled_from([ITEMS, SHIPPING]),
)


@given(items=st.lists(cents, min_size=1, max_size=8), shipping=cents, applied=st.lists(discounts, max_size=6))
def test_total_is_items_plus_shipping_minus_discounts_in_cents(items, shipping, applied):
    totals = order_totals(items, shipping, applied)
    as_cents = [totals.items, totals.shipping, totals.discount_total, totals.total]
    assert all(isinstance(v, Decimal) and v == v.quantize(Decimal("0.01")) for v in as_cents)
    assert totals.total == totals.items + totals.shipping - totals.discount_total
    assert totals.items == sum(to_cents(i) for i in items)
    assert totals.total >= 0
    item_discounts = sum(d.amount for d in totals.discounts if d.applies_to == ITEMS)
    shipping_discounts = sum(d.amount for d in totals.discounts if d.applies_to == SHIPPING)
    assert item_discounts <= totals.items and shipping_discounts <= totals.shipping


def test_bundle_of_three_with_fifteen_percent_off_and_flat_shipping():
    items = [Decimal("20.00"), Decimal("35.00"), Decimal("12.99")]
    bundle = Discount("bundle", percent_of(sum(items), 15))
    totals = order_totals(items, Decimal("6.49"), [bundle])
    assert (totals.items, totals.discount_total, totals.total) == (Decimal("67.99"), Decimal("10.20"), Decimal("64.28"))


def test_a_shipping_discount_never_exceeds_the_fee():
    totals = order_totals([Decimal("10")], Decimal("6.49"), [Discount("program", Decimal("10"), SHIPPING)])
    assert totals.discounts[0].amount == Decimal("6.49") and totals.total == Decimal("10.00")


@pytest.mark.parametrize("bad", [1.5, float("nan")])
def test_floats_are_refused(bad):
    with pytest.raises(TypeError):
        order_totals([bad], Decimal("0"))


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        order_totals([Decimal("-1")], Decimal("0"))
    with pytest.raises(ValueError):
        order_totals([Decimal("1")], Decimal("0"), [Discount("seller", Decimal("-2"))])
