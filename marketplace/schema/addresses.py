"""Shipping address mutations, and a seller's bundle and shipping discounts and curation terms."""

import graphene

from config.graphql.mutations import BaseMutation
from config.graphql.permissions import Access
from marketplace import selectors, services
from marketplace.models import ShippingAddress
from marketplace.schema.checkout import address_id
from marketplace.schema.types import CurationTermsType, SellerDiscountsType, ShippingAddressType


class AddShippingAddressInput(graphene.InputObjectType):
    recipient_name = graphene.String(required=True)
    line1 = graphene.String(required=True)
    line2 = graphene.String()
    city = graphene.String(required=True)
    region = graphene.String()
    postal_code = graphene.String(required=True)
    country = graphene.String(required=True, description="ISO 3166-1 alpha-2 code, e.g. US.")
    phone = graphene.String()
    make_default = graphene.Boolean(description="Your first address is the default anyway.")


class UpdateShippingAddressInput(graphene.InputObjectType):
    shipping_address_id = graphene.ID(required=True)
    recipient_name = graphene.String()
    line1 = graphene.String()
    line2 = graphene.String()
    city = graphene.String()
    region = graphene.String()
    postal_code = graphene.String()
    country = graphene.String()
    phone = graphene.String()
    make_default = graphene.Boolean()


def address_changes(input) -> dict:
    return {
        name: value for name, value in input.items() if name in ShippingAddress.ADDRESS_FIELDS and value is not None
    }


class AddShippingAddress(BaseMutation):
    class Arguments:
        input = AddShippingAddressInput(required=True)

    shipping_address = graphene.Field(ShippingAddressType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        address = services.add_shipping_address(
            user=info.context.user, make_default=bool(input.make_default), **address_changes(input)
        )
        return cls(shipping_address=address, errors=[])


class UpdateShippingAddress(BaseMutation):
    class Arguments:
        input = UpdateShippingAddressInput(required=True)

    shipping_address = graphene.Field(ShippingAddressType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        address = selectors.get_address(user, address_id(input))
        address = services.update_shipping_address(
            address=address, make_default=bool(input.make_default), **address_changes(input)
        )
        return cls(shipping_address=address, errors=[])


class ShippingAddressIdInput(graphene.InputObjectType):
    shipping_address_id = graphene.ID(required=True)


class RemoveShippingAddress(BaseMutation):
    class Arguments:
        input = ShippingAddressIdInput(required=True)

    removed_shipping_address_id = graphene.ID()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        address = selectors.get_address(info.context.user, address_id(input))
        services.remove_shipping_address(address=address)
        return cls(removed_shipping_address_id=input.shipping_address_id, errors=[])


class SellerDiscountsPayload:
    seller_discounts = graphene.Field(SellerDiscountsType)


class UpdateBundleDiscountInput(graphene.InputObjectType):
    bundle_percent = graphene.Int(required=True, description="Off the items of a bundle, 0 to 90; 0 for none.")
    bundle_min_items = graphene.Int(required=True, description="Items a bundle needs for it, 2 to 50.")


class UpdateBundleDiscount(SellerDiscountsPayload, BaseMutation):
    """Seller: e.g. 15% off bundles of 3 items or more."""

    class Arguments:
        input = UpdateBundleDiscountInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        services.update_seller_discounts(
            seller=user, bundle_percent=input.bundle_percent, bundle_min_items=input.bundle_min_items
        )
        return cls(seller_discounts=selectors.seller_terms(user.pk), errors=[])


class UpdateShippingDiscountInput(graphene.InputObjectType):
    shipping_percent = graphene.Int(required=True, description="Of the label fee you pay on every order, 0 to 100.")


class UpdateShippingDiscount(SellerDiscountsPayload, BaseMutation):
    """Seller: pay part (or all) of your buyers' label fee."""

    class Arguments:
        input = UpdateShippingDiscountInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        services.update_seller_discounts(seller=user, shipping_percent=input.shipping_percent)
        return cls(seller_discounts=selectors.seller_terms(user.pk), errors=[])


class UpdateCurationTermsInput(graphene.InputObjectType):
    allow_curation = graphene.Boolean(description="Others may add your listings to their shows.")
    allow_auctions = graphene.Boolean(description="Others may auction your listings.")
    auction_floor_percent = graphene.Int(description="1 to 100 percent of the list price.")


class UpdateCurationTerms(BaseMutation):
    """Seller: on what terms others may curate and auction your listings in their live shows."""

    class Arguments:
        input = UpdateCurationTermsInput(required=True)

    access = Access.AUTHENTICATED
    curation_terms = graphene.Field(CurationTermsType)

    @classmethod
    def perform(cls, info, input):
        terms = services.update_curation_terms(
            seller=info.context.user,
            allow_curation=input.allow_curation,
            allow_auctions=input.allow_auctions,
            auction_floor_percent=input.auction_floor_percent,
        )
        return cls(curation_terms=terms, errors=[])
