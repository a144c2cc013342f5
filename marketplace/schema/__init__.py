"""The marketplace's GraphQL schema, one module per room:

- `types`: node types, connections, enums, Money (listings and checkout);
- `listings`: listing queries and listing/image mutations;
- `checkout`: checkout reads and the buying mutations (purchase, bundle checkout, add-on);
- `addresses`: shipping addresses, seller discounts and curation terms;
- `orders`: ship, deliver, accept, cancel;
- `offers`: make, answer, withdraw offers;
- `bundles`: add to and remove from bundles.

`Query` and `Mutation` join them for config/graphql/schema.py; other apps' schemas import the
types and helpers re-exported below.
"""

import graphene

from marketplace.schema.addresses import (
    AddShippingAddress,
    RemoveShippingAddress,
    UpdateBundleDiscount,
    UpdateCurationTerms,
    UpdateShippingAddress,
    UpdateShippingDiscount,
)
from marketplace.schema.bundles import AddToBundle, RemoveFromBundle
from marketplace.schema.checkout import (
    AddToOrder,
    CheckoutBundle,
    CheckoutQuery,
    OrderPayload,
    PurchaseListing,
    client_key,
    optional_address_id,
)
from marketplace.schema.listings import ListingIdInput, ListingMutation, ListingQuery
from marketplace.schema.offers import MakeOffer, RespondToOffer, WithdrawOffer
from marketplace.schema.orders import AcceptOrder, CancelOrder, MarkOrderDelivered, ShipOrder
from marketplace.schema.payments import PreparePaymentSheet
from marketplace.schema.types import ListingCondition, ListingStatus, ListingType, Money, OrderType, money


class CheckoutMutation(graphene.ObjectType):
    add_shipping_address = AddShippingAddress.Field()
    update_shipping_address = UpdateShippingAddress.Field()
    remove_shipping_address = RemoveShippingAddress.Field()
    purchase_listing = PurchaseListing.Field()
    checkout_bundle = CheckoutBundle.Field()
    add_to_order = AddToOrder.Field()
    prepare_payment_sheet = PreparePaymentSheet.Field()
    ship_order = ShipOrder.Field()
    mark_order_delivered = MarkOrderDelivered.Field()
    accept_order = AcceptOrder.Field()
    cancel_order = CancelOrder.Field()
    make_offer = MakeOffer.Field()
    respond_to_offer = RespondToOffer.Field()
    withdraw_offer = WithdrawOffer.Field()
    add_to_bundle = AddToBundle.Field()
    remove_from_bundle = RemoveFromBundle.Field()
    update_bundle_discount = UpdateBundleDiscount.Field()
    update_shipping_discount = UpdateShippingDiscount.Field()
    update_curation_terms = UpdateCurationTerms.Field()


class Query(ListingQuery, CheckoutQuery, graphene.ObjectType):
    pass


class Mutation(ListingMutation, CheckoutMutation, graphene.ObjectType):
    pass


__all__ = [
    "ListingCondition",
    "ListingIdInput",
    "ListingStatus",
    "ListingType",
    "Money",
    "Mutation",
    "OrderPayload",
    "OrderType",
    "Query",
    "client_key",
    "money",
    "optional_address_id",
]
