"""Bundle mutations: add a listing to a buyer's bundle, take one out."""

import graphene

from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.permissions import Access
from marketplace import selectors, services
from marketplace.schema.listings import ListingIdInput
from marketplace.schema.types import BundleType


class BundlePayload:
    bundle = graphene.Field(BundleType)


class AddToBundle(BundlePayload, BaseMutation):
    """Add an item to your bundle from its closet (started on first use)."""

    class Arguments:
        input = ListingIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        bundle = services.add_to_bundle(buyer=user, listing=listing)
        return cls(bundle=selectors.get_bundle(user, bundle.pk), errors=[])


class RemoveFromBundle(BundlePayload, BaseMutation):
    class Arguments:
        input = ListingIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        bundle = services.remove_from_bundle(buyer=user, listing=listing)
        return cls(bundle=selectors.get_bundle(user, bundle.pk) if bundle else None, errors=[])
