"""Order arithmetic: Decimal amounts in whole cents, one function for every checkout path.

Purchases, accepted offers, bundles, live buy-now and auctions all price an order through
`order_totals`, so a discount can never take a total below zero or leave a fraction of a cent.
"""

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ITEMS, SHIPPING = "items", "shipping"


def to_cents(amount) -> Decimal:
    """Round to whole cents (half up, as shoppers expect); refuses floats, which are inexact."""
    if isinstance(amount, float):
        raise TypeError("Money is Decimal, never float.")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent) -> Decimal:
    return to_cents(Decimal(amount) * Decimal(percent) / 100)


@dataclass(frozen=True)
class Discount:
    source: str  # seller, bundle, offer, program (marketplace.models.DiscountSource)
    amount: Decimal
    applies_to: str = ITEMS  # or SHIPPING
    description: str = ""


@dataclass(frozen=True)
class Totals:
    items: Decimal
    shipping: Decimal
    discounts: tuple[Discount, ...]  # as applied: each capped by what was left to discount

    @property
    def discount_total(self) -> Decimal:
        return sum((d.amount for d in self.discounts), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.items + self.shipping - self.discount_total


def order_totals(item_amounts, shipping_fee, discounts=()) -> Totals:
    """Items plus shipping minus discounts; a discount applies to its part only and never past it."""
    items = sum((to_cents(amount) for amount in item_amounts), Decimal("0.00"))
    shipping = to_cents(shipping_fee)
    if items < 0 or shipping < 0:
        raise ValueError("Prices and fees cannot be negative.")
    left = {ITEMS: items, SHIPPING: shipping}
    applied = []
    for discount in discounts:
        amount = to_cents(discount.amount)
        if amount < 0:
            raise ValueError("A discount cannot be negative.")
        amount = min(amount, left[discount.applies_to])
        left[discount.applies_to] -= amount
        applied.append(replace(discount, amount=amount))
    return Totals(items=items, shipping=shipping, discounts=tuple(applied))
