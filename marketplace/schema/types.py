"""The marketplace's GraphQL node types, connections, enums and small shared shapes (Money,
addresses, discounts), for listings and for checkout (orders, offers, bundles, seller terms).
Other apps' schemas build on ListingType, OrderType and Money from here (through the package).
"""

import graphene
from django.conf import settings
from django.utils import timezone
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from config import media
from config.graphql.node import Node
from config.graphql.pagination import keyset_page, offset_page
from config.graphql.permissions import viewer
from marketplace import selectors
from marketplace.models import (
    Bundle,
    Category,
    DiscountSource,
    DiscountTarget,
    Listing,
    ListingImage,
    Offer,
    Order,
    OrderLine,
    ShippingAddress,
)
from marketplace.pricing import to_cents

ListingCondition = graphene.Enum.from_enum(Listing.Condition, name="ListingCondition")


ListingStatus = graphene.Enum.from_enum(Listing.Status, name="ListingStatus")


ImageSize = graphene.Enum(
    "ImageSize",
    [(name.upper(), name) for name in ("original", *settings.LISTING_IMAGE_WIDTHS)],
    description="Display sizes; ORIGINAL is the normalised upload.",
)


class ListingSort(graphene.Enum):
    NEWEST = "newest"
    RELEVANCE = "relevance"
    FOR_YOU = "for_you"
    PRICE_LOW = "price_low"
    PRICE_HIGH = "price_high"


class Money(graphene.ObjectType):
    amount = graphene.Decimal(required=True, description="Exact decimal, as a string.")
    currency = graphene.String(required=True, description="ISO 4217 code, e.g. USD.")


class CategoryType(DjangoObjectType):
    class Meta:
        model = Category
        name = "Category"
        interfaces = (Node,)
        fields = ("name", "slug", "path", "parent")


class ListingImageType(DjangoObjectType):
    class Meta:
        model = ListingImage
        name = "ListingImage"
        interfaces = (Node,)
        fields = ("position", "width", "height")

    url = graphene.String(
        required=True,
        size=ImageSize(required=True, default_value=ImageSize.LARGE),
        description="Until a size is made, the original is served.",
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(listing__in=selectors.visible_listings(viewer(info)))

    def resolve_url(image, info, size):
        return media.absolute_url(info.context, image.renditions.get(size.value, image.original))


class ListingType(DjangoObjectType):
    class Meta:
        model = Listing
        name = "Listing"
        interfaces = (Node,)
        fields = (
            "title",
            "description",
            "brand",
            "size",
            "colour",
            "quantity",
            "category",
            "listed_at",
            "created_at",
            "updated_at",
        )

    seller = graphene.Field(UserType, required=True)
    condition = ListingCondition(required=True)
    status = ListingStatus(required=True)
    price = graphene.Field(Money, required=True)
    original_price = graphene.Field(Money, description="The retail price, when the seller gave one.")
    images = graphene.List(
        graphene.NonNull(ListingImageType), required=True, description="In order; the first is the cover."
    )
    cover_image = graphene.Field(ListingImageType)
    like_count = graphene.Int(required=True)
    viewer_has_liked = graphene.Boolean(required=True)
    first_sale_shipping_discount = graphene.Field(
        Money,
        description='The banner "first purchase from this seller gets discounted shipping": what Closetline '
        "takes off the shipping of the seller's first order; null once they made a sale or when "
        "no program offers it.",
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        # Used by node(id), which passes the default manager: visibility is the selector's.
        current = viewer(info)
        return selectors.listing_cards(selectors.visible_listings(current), current)

    def resolve_price(listing, info):
        return {"amount": listing.price, "currency": listing.currency}

    def resolve_original_price(listing, info):
        if listing.original_price is None:
            return None
        return {"amount": listing.original_price, "currency": listing.currency}

    def resolve_first_sale_shipping_discount(listing, info):
        amount = listing.first_sale_shipping_discount  # computed in SQL: SQLite drops trailing zeros
        return None if amount is None else {"amount": to_cents(amount), "currency": listing.currency}

    def resolve_images(listing, info):
        return listing.images.all()

    def resolve_cover_image(listing, info):
        images = listing.images.all()
        return images[0] if images else None


class ListingConnection(graphene.relay.Connection):
    class Meta:
        node = ListingType


class PriceRangeInput(graphene.InputObjectType):
    min = graphene.Decimal()
    max = graphene.Decimal()
    currency = graphene.String(description="Default: the marketplace currency.")


def page(listings, *, first, after, keyset: tuple[str, ...] | None = None):
    """A page of listings: by keyset when ordered chronologically, else by offset (ranked)."""
    if keyset is not None:
        return keyset_page(listings, ListingConnection, first=first, after=after, ordering=keyset)
    return offset_page(listings, ListingConnection, first=first, after=after)


# Checkout types: addresses, orders, offers, bundles, seller discounts ---------------------------


OrderStatus = graphene.Enum.from_enum(Order.Status, name="OrderStatus")


OrderSource = graphene.Enum.from_enum(Order.Source, name="OrderSource", description="How an item was bought.")


OfferStatus = graphene.Enum.from_enum(Offer.Status, name="OfferStatus")


OfferSource = graphene.Enum.from_enum(Offer.Source, name="OfferSource")


Party = graphene.Enum.from_enum(Offer.Party, name="Party", description="A side of an order or an offer.")


DiscountSourceEnum = graphene.Enum.from_enum(DiscountSource, name="DiscountSource")


DiscountTargetEnum = graphene.Enum.from_enum(DiscountTarget, name="DiscountTarget")


class OfferAction(graphene.Enum):
    ACCEPT = "accept"
    DECLINE = "decline"
    COUNTER = "counter"


def money(amount, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


class AddressFields:
    recipient_name = graphene.String(required=True)
    line1 = graphene.String(required=True)
    line2 = graphene.String(required=True)
    city = graphene.String(required=True)
    region = graphene.String(required=True)
    postal_code = graphene.String(required=True)
    country = graphene.String(required=True, description="ISO 3166-1 alpha-2 code.")
    phone = graphene.String(required=True)


class ShippingAddressType(DjangoObjectType):
    class Meta:
        model = ShippingAddress
        name = "ShippingAddress"
        interfaces = (Node,)
        fields = (*ShippingAddress.ADDRESS_FIELDS, "is_default", "created_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.addresses_of(current) if current else queryset.none()


class OrderAddress(AddressFields, graphene.ObjectType):
    """Where an order ships: a copy of the buyer's address when they bought."""


class Discount(graphene.ObjectType):
    source = graphene.Field(DiscountSourceEnum, required=True, description="Who grants it.")
    applies_to = graphene.Field(DiscountTargetEnum, required=True)
    amount = graphene.Field(Money, required=True)
    description = graphene.String(required=True)


def discounts_in(discounts, currency: str) -> list[dict]:
    """Order discounts (rows) or quoted ones (marketplace.pricing.Discount), as `Discount` values."""
    return [
        {
            "source": discount.source,
            "applies_to": discount.applies_to,
            "description": discount.description,
            "amount": money(discount.amount, currency),
        }
        for discount in discounts
        if discount.amount
    ]


class OrderLineType(DjangoObjectType):
    class Meta:
        model = OrderLine
        name = "OrderLine"
        fields = ("title",)

    source = graphene.Field(OrderSource, required=True)
    price = graphene.Field(Money, required=True, description="What the item cost, as bought.")
    listing = graphene.Field(ListingType, description="The listing, while you may still see it.")

    def resolve_price(line, info):
        return money(line.price, line.order.currency)  # prefetched lines carry their order


class OrderType(DjangoObjectType):
    class Meta:
        model = Order
        name = "Order"
        interfaces = (Node,)
        fields = (
            "tracking_number",
            "carrier",
            "placed_at",
            "add_on_until",
            "shipped_at",
            "in_transit_at",
            "delivered_at",
            "accepted_at",
            "cancelled_at",
            "refunded_at",
        )

    status = graphene.Field(OrderStatus, required=True)
    source = graphene.Field(OrderSource, required=True)
    buyer = graphene.Field(UserType, required=True)
    seller = graphene.Field(UserType, required=True)
    viewer_role = graphene.Field(Party, required=True, description="Whether you bought or sold it.")
    lines = graphene.List(graphene.NonNull(OrderLineType), required=True)
    discounts = graphene.List(graphene.NonNull(Discount), required=True)
    item_total = graphene.Field(Money, required=True)
    shipping_fee = graphene.Field(Money, required=True)
    discount_total = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    shipping_address = graphene.Field(OrderAddress, required=True)
    review = graphene.Field("reviews.schema.ReviewType", description="The buyer's review, once they left one.")
    case = graphene.Field("cases.schema.CaseType", description="The latest case the buyer opened about it.")
    rating = graphene.Int(deprecation_reason="Read review.rating.")
    rated_at = graphene.DateTime(deprecation_reason="Read review.createdAt.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.order_cards(selectors.visible_orders(current), current)

    def resolve_review(order, info):
        return getattr(order, "review", None)  # prefetched with the order (hooks.ORDER_CARD_PREFETCHES)

    def resolve_case(order, info):
        return next(iter(getattr(order, "cases_shown", ())), None)  # prefetched (hooks.ORDER_CARD_PREFETCHES)

    def resolve_rating(order, info):
        review = getattr(order, "review", None)
        return review and review.rating

    def resolve_rated_at(order, info):
        review = getattr(order, "review", None)
        return review and review.created_at

    def resolve_viewer_role(order, info):
        return Offer.Party.SELLER if info.context.user.pk == order.seller_id else Offer.Party.BUYER

    def resolve_lines(order, info):
        return order.lines.all()

    def resolve_discounts(order, info):
        return discounts_in(order.discounts.all(), order.currency)

    def resolve_item_total(order, info):
        return money(order.item_total, order.currency)

    def resolve_shipping_fee(order, info):
        return money(order.shipping_fee, order.currency)

    def resolve_discount_total(order, info):
        return money(order.discount_total, order.currency)

    def resolve_total(order, info):
        return money(order.total, order.currency)

    def resolve_shipping_address(order, info):
        return order


class OrderConnection(graphene.relay.Connection):
    class Meta:
        node = OrderType


class BundleType(DjangoObjectType):
    """Items gathered from one closet, checked out as one parcel; the totals are a quote for now."""

    class Meta:
        model = Bundle
        name = "Bundle"
        interfaces = (Node,)
        fields = ("created_at",)

    seller = graphene.Field(UserType, required=True)
    items = graphene.List(graphene.NonNull(ListingType), required=True, description="Oldest first.")
    item_total = graphene.Field(Money)
    discounts = graphene.List(graphene.NonNull(Discount), required=True)
    shipping_fee = graphene.Field(Money)
    total = graphene.Field(Money, description="Null while the bundle is empty.")
    pending_offer = graphene.Field(lambda: OfferType, description="Your offer on the whole bundle, if waiting.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.bundle_cards(selectors.visible_bundles(current), current)

    def resolve_items(bundle, info):
        return [item.listing for item in bundle.items.all() if item.listing is not None]

    def resolve_item_total(bundle, info):
        return _quoted(bundle, lambda totals, currency: money(totals.items, currency))

    def resolve_discounts(bundle, info):
        return _quoted(bundle, lambda totals, currency: discounts_in(totals.discounts, currency)) or []

    def resolve_shipping_fee(bundle, info):
        return _quoted(bundle, lambda totals, currency: money(totals.shipping, currency))

    def resolve_total(bundle, info):
        return _quoted(bundle, lambda totals, currency: money(totals.total, currency))

    def resolve_pending_offer(bundle, info):
        return bundle.pending_offers[0] if bundle.pending_offers else None


def _quoted(bundle, shape):
    """A part of the bundle's quote, computed once per bundle and request."""
    if not hasattr(bundle, "quote"):
        bundle.quote = selectors.bundle_quote(bundle)
    return None if bundle.quote is None else shape(*bundle.quote)


class OfferType(DjangoObjectType):
    """A negotiation: the side whose `turn` it is accepts, declines or counters `amount`."""

    class Meta:
        model = Offer
        name = "Offer"
        interfaces = (Node,)
        fields = ("counter_count", "expires_at", "created_at", "updated_at")

    listing = graphene.Field(ListingType, description="The listing, for an offer on one item.")
    bundle = graphene.Field(BundleType, description="The bundle, for an offer on a bundle.")
    buyer = graphene.Field(UserType, required=True)
    seller = graphene.Field(UserType, required=True)
    source = graphene.Field(OfferSource, required=True)
    status = graphene.Field(OfferStatus, required=True, description="EXPIRED as soon as the time is up.")
    turn = graphene.Field(Party, required=True, description="Who may answer now.")
    viewer_role = graphene.Field(Party, required=True)
    amount = graphene.Field(Money, required=True, description="What is on the table.")
    list_price = graphene.Field(Money, required=True, description="The price when the offer was made.")
    buyer_amount = graphene.Field(Money, description="The buyer's latest figure.")
    seller_amount = graphene.Field(Money, required=True, description="The seller's latest figure.")
    shipping_discount = graphene.Field(Money, required=True, description="Off the label fee if accepted.")
    order = graphene.Field(OrderType, description="The order its acceptance made.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.offer_cards(selectors.visible_offers(current), current)

    def resolve_status(offer, info):
        return offer.status_at(timezone.now())

    def resolve_viewer_role(offer, info):
        return Offer.Party.SELLER if info.context.user.pk == offer.seller_id else Offer.Party.BUYER

    def resolve_amount(offer, info):
        return money(offer.amount, offer.currency)

    def resolve_list_price(offer, info):
        return money(offer.list_price, offer.currency)

    def resolve_buyer_amount(offer, info):
        return None if offer.buyer_amount is None else money(offer.buyer_amount, offer.currency)

    def resolve_seller_amount(offer, info):
        return money(offer.seller_amount, offer.currency)

    def resolve_shipping_discount(offer, info):
        return money(offer.shipping_discount, offer.currency)

    def resolve_order(offer, info):
        return offer.order


class OfferConnection(graphene.relay.Connection):
    class Meta:
        node = OfferType


class SellerDiscountsType(graphene.ObjectType):
    class Meta:
        name = "SellerDiscounts"

    bundle_percent = graphene.Int(required=True, description="Off the items of a bundle; 0 for none.")
    bundle_min_items = graphene.Int(required=True, description="Items a bundle needs for the discount.")
    shipping_percent = graphene.Int(required=True, description="Off the label fee of every order.")


class CurationTermsType(graphene.ObjectType):
    class Meta:
        name = "CurationTerms"
        description = "A member's terms for their listings in other members' live shows (their own shows are free)."

    allow_curation = graphene.Boolean(required=True, description="Others may add these listings to their shows.")
    allow_auctions = graphene.Boolean(required=True, description="Others may auction these listings.")
    auction_floor_percent = graphene.Int(
        required=True, description="Of the list price: others' auctions start at and sell for no less."
    )
