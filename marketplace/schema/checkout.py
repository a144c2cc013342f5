"""Checkout over GraphQL: the checkout reads (addresses, orders, offers, bundles, seller terms)
and the buying mutations (purchase, bundle checkout, add-on), with the helpers other buying
mutations share (client idempotency keys, address IDs, OrderPayload).
"""

import graphene

from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_user, viewer
from marketplace import selectors, services
from marketplace.models import Offer
from marketplace.schema.types import (
    BundleType,
    CurationTermsType,
    OfferConnection,
    OfferType,
    OrderConnection,
    OrderStatus,
    OrderType,
    Party,
    SellerDiscountsType,
    ShippingAddressType,
)


class CheckoutQuery(graphene.ObjectType):
    my_shipping_addresses = graphene.List(
        graphene.NonNull(ShippingAddressType), required=True, description="The default first."
    )
    my_orders = graphene.Field(
        OrderConnection,
        **connection_args(
            role=Party(required=True, description="BUYER: your purchases; SELLER: your sales."), status=OrderStatus()
        ),
        description="Newest first.",
    )
    order = graphene.Field(
        OrderType, id=graphene.ID(required=True), description="An order you bought or sold; null otherwise."
    )
    my_offers = graphene.Field(
        OfferConnection,
        **connection_args(
            role=Party(required=True, description="BUYER: offers on items you want; SELLER: on your items."),
            pending_only=graphene.Boolean(required=True, default_value=False),
        ),
        description="Most recently active first.",
    )
    offer = graphene.Field(OfferType, id=graphene.ID(required=True))
    bundle = graphene.Field(
        BundleType,
        seller_id=graphene.ID(required=True),
        description="Your open bundle from this closet, if you started one.",
    )
    seller_discounts = graphene.Field(SellerDiscountsType, required=True, seller_id=graphene.ID(required=True))
    curation_terms = graphene.Field(
        CurationTermsType,
        required=True,
        seller_id=graphene.ID(required=True),
        description="On what terms others may curate and auction this member's listings.",
    )

    def resolve_my_shipping_addresses(root, info):
        return selectors.addresses_of(require_user(info))

    def resolve_my_orders(root, info, role, first=None, after=None, status=None):
        current = require_user(info)
        orders = selectors.orders_of(
            current, as_seller=role.value == Offer.Party.SELLER, status=status.value if status else None
        )
        return keyset_page(orders, OrderConnection, first=first, after=after, ordering=("-placed_at", "-pk"))

    def resolve_order(root, info, id):
        order_id = decode_id(id, "Order")
        try:
            return selectors.get_order(viewer(info), order_id)
        except ServiceError:
            return None

    def resolve_my_offers(root, info, role, first=None, after=None, pending_only=False):
        current = require_user(info)
        offers = selectors.offers_of(current, as_seller=role.value == Offer.Party.SELLER, pending_only=pending_only)
        return keyset_page(offers, OfferConnection, first=first, after=after, ordering=("-updated_at", "-pk"))

    def resolve_offer(root, info, id):
        offer_id = decode_id(id, "Offer")
        try:
            return selectors.get_offer(viewer(info), offer_id)
        except ServiceError:
            return None

    def resolve_bundle(root, info, seller_id):
        current = require_user(info)
        return selectors.open_bundle(current, decode_id(seller_id, "User", "sellerId"))

    def resolve_seller_discounts(root, info, seller_id):
        return selectors.seller_terms(decode_id(seller_id, "User", "sellerId"))

    def resolve_curation_terms(root, info, seller_id):
        return selectors.curation_terms(decode_id(seller_id, "User", "sellerId"))


def client_key(value: str) -> str:
    """An idempotency key from a client: 8 to 100 letters, digits, '-' or '_' (a UUID does). The
    colon is kept for keys services derive themselves (an offer's acceptance), so no client key
    can collide with one."""
    if not 8 <= len(value) <= 100 or not all(char.isascii() and (char.isalnum() or char in "-_") for char in value):
        raise ServiceError(
            CommonError.INVALID, "Send 8 to 100 letters, digits, '-' or '_' (e.g. a UUID).", "idempotencyKey"
        )
    return value


def address_id(input) -> int:
    return decode_id(input.shipping_address_id, "ShippingAddress", "shippingAddressId")


def optional_address_id(input) -> int | None:
    return address_id(input) if input.shipping_address_id else None


class PurchaseListingInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    idempotency_key = graphene.String(required=True, description="New per purchase; the same for its retries.")
    shipping_address_id = graphene.ID(description="Default: your default address.")
    payment_method = graphene.String(
        description="What the payment sheet collected (a confirmation token or payment method id); "
        "send it again unchanged when retrying after PAYMENT_ACTION_REQUIRED."
    )


class OrderPayload:
    order = graphene.Field(OrderType)


class PurchaseListing(OrderPayload, BaseMutation):
    """Buy one item at its price. A retry with the same key returns the same order."""

    class Arguments:
        input = PurchaseListingInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        order = services.purchase_listing(
            buyer=user,
            listing=listing,
            idempotency_key=client_key(input.idempotency_key),
            shipping_address_id=optional_address_id(input),
            payment_method=input.payment_method,
        )
        return cls(order=selectors.get_order(user, order.pk), errors=[])


class CheckoutBundleInput(graphene.InputObjectType):
    bundle_id = graphene.ID(required=True)
    idempotency_key = graphene.String(required=True)
    shipping_address_id = graphene.ID()
    payment_method = graphene.String(
        description="What the payment sheet collected (a confirmation token or payment method id); "
        "send it again unchanged when retrying after PAYMENT_ACTION_REQUIRED."
    )


class CheckoutBundle(OrderPayload, BaseMutation):
    """Buy every item of your bundle: one order, one parcel, one label fee, the seller's bundle discount."""

    class Arguments:
        input = CheckoutBundleInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        bundle = selectors.get_bundle(user, decode_id(input.bundle_id, "Bundle", "bundleId"))
        order = services.checkout_bundle(
            buyer=user,
            bundle=bundle,
            idempotency_key=client_key(input.idempotency_key),
            shipping_address_id=optional_address_id(input),
            payment_method=input.payment_method,
        )
        return cls(order=selectors.get_order(user, order.pk), errors=[])


class AddToOrderInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True)
    idempotency_key = graphene.String(required=True)
    payment_method = graphene.String(
        description="What the payment sheet collected (a confirmation token or payment method id); "
        "send it again unchanged when retrying after PAYMENT_ACTION_REQUIRED."
    )


class AddToOrder(OrderPayload, BaseMutation):
    """Buy another item of the same closet into an order's parcel (no second label fee), within a day
    of purchase and before it ships."""

    class Arguments:
        input = AddToOrderInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        order = selectors.get_order(user, decode_id(input.order_id, "Order", "orderId"))
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        services.add_to_order(
            buyer=user,
            order=order,
            listing=listing,
            idempotency_key=client_key(input.idempotency_key),
            payment_method=input.payment_method,
        )
        return cls(order=selectors.get_order(user, order.pk), errors=[])
