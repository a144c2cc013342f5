"""Order arithmetic: Decimal amounts in whole cents, one function for every checkout path.

Purchases, accepted offers, bundles, live buy-now and auctions all price an order through
`order_totals`, so a discount can never take a total below zero or leave a fraction of a cent.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
    # When someone other than the seller pays for it (a program's budget): called with the new order
    # and the amount applied, in the order's transaction, so that the payer's money moves with the
    # order or not at all; a ServiceError it raises refuses the order.
    fund: Callable[[object, Decimal], None] | None = field(default=None, compare=False, repr=False)


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


@dataclass(frozen=True)
class SellerTerms:
    """A seller's standing discounts (marketplace.models.SellerDiscounts)."""

    bundle_percent: int = 0
    bundle_min_items: int = 2
    shipping_percent: int = 0


@dataclass(frozen=True)
class Basket:
    """What a new order is priced from: its items, the label fee and the terms that discount them."""

    seller_id: int
    buyer_id: int
    currency: str
    item_prices: tuple[Decimal, ...]
    shipping_fee: Decimal
    seller_terms: SellerTerms = SellerTerms()
    bundled: bool = False  # checked out as a bundle: the seller's bundle discount may apply
    offer_price: Decimal | None = None  # an accepted bundle offer: what all the items cost together
    offer_shipping_discount: Decimal = Decimal("0.00")


def offer_discounts(basket: Basket) -> list[Discount]:
    discounts = []
    if basket.offer_price is not None:
        # Prices lowered since the offer leave the buyer paying the lower sum: never a negative discount.
        discount = max(sum(basket.item_prices) - basket.offer_price, Decimal("0.00"))
        discounts.append(Discount("offer", discount, ITEMS, "Accepted offer"))
    if basket.offer_shipping_discount:
        discounts.append(Discount("offer", basket.offer_shipping_discount, SHIPPING, "Offer shipping discount"))
    return discounts


def bundle_discount(basket: Basket) -> list[Discount]:
    """The seller's bundle discount; an accepted bundle offer already is the bundle's price."""
    terms = basket.seller_terms
    if (
        not basket.bundled
        or basket.offer_price is not None
        or not terms.bundle_percent
        or len(basket.item_prices) < terms.bundle_min_items
    ):
        return []
    return [
        Discount(
            "bundle",
            percent_of(sum(basket.item_prices), terms.bundle_percent),
            ITEMS,
            f"{terms.bundle_percent}% off {terms.bundle_min_items}+ items",
        )
    ]


def seller_shipping_discount(basket: Basket) -> list[Discount]:
    percent = basket.seller_terms.shipping_percent
    if not percent:
        return []
    return [Discount("seller", percent_of(basket.shipping_fee, percent), SHIPPING, f"{percent}% off shipping")]


# The rules that discount a new order, applied in this order, each on what the previous ones left.
# Community programs (first-sale shipping paid by the platform) append theirs from their
# AppConfig.ready(): a function of the Basket returning Discount("program", ...) items.
DISCOUNT_RULES = [offer_discounts, bundle_discount, seller_shipping_discount]


def price(basket: Basket) -> Totals:
    """Totals of a new order: its items and fee less every discount the rules grant."""
    discounts = [discount for rule in DISCOUNT_RULES for discount in rule(basket)]
    return order_totals(basket.item_prices, basket.shipping_fee, discounts)
