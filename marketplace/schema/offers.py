"""Offer mutations: make an offer, answer one (accept, decline, counter), withdraw it."""

import graphene

from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.permissions import Access
from marketplace import selectors, services
from marketplace.schema.checkout import client_key
from marketplace.schema.types import OfferAction, OfferType


class MakeOfferInput(graphene.InputObjectType):
    listing_id = graphene.ID(description="The item; or give bundleId.")
    bundle_id = graphene.ID(description="Your bundle, for an offer on all its items.")
    amount = graphene.Decimal(required=True, description="At least 40% of the price, and below it.")
    idempotency_key = graphene.String(description="Optional: a retry with it returns the same offer.")


class OfferPayload:
    offer = graphene.Field(OfferType)


class MakeOffer(OfferPayload, BaseMutation):
    """Offer a price: binding, the seller may accept it at once. One waiting offer per item."""

    class Arguments:
        input = MakeOfferInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        key = client_key(input.idempotency_key) if input.idempotency_key is not None else None
        if bool(input.listing_id) == bool(input.bundle_id):
            raise ServiceError(CommonError.INVALID, "Give either listingId or bundleId.", "listingId")
        if input.listing_id:
            listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
            offer = services.create_offer(buyer=user, listing=listing, amount=input.amount, idempotency_key=key)
        else:
            bundle = selectors.get_bundle(user, decode_id(input.bundle_id, "Bundle", "bundleId"))
            offer = services.make_bundle_offer(buyer=user, bundle=bundle, amount=input.amount, idempotency_key=key)
        return cls(offer=selectors.get_offer(user, offer.pk), errors=[])


class RespondToOfferInput(graphene.InputObjectType):
    offer_id = graphene.ID(required=True)
    action = OfferAction(required=True, description="ACCEPT buys at the amount on the table (binding).")
    amount = graphene.Decimal(description="COUNTER: strictly between the buyer's and the seller's figures.")


class RespondToOffer(OfferPayload, BaseMutation):
    """Answer an offer when it is your turn; an accepted offer's order is `offer.order`."""

    class Arguments:
        input = RespondToOfferInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        offer = selectors.get_offer(user, decode_id(input.offer_id, "Offer", "offerId"))
        services.respond_to_offer(offer=offer, actor=user, action=input.action.value, amount=input.amount)
        return cls(offer=selectors.get_offer(user, offer.pk), errors=[])


class OfferIdInput(graphene.InputObjectType):
    offer_id = graphene.ID(required=True)


class WithdrawOffer(OfferPayload, BaseMutation):
    """Take back what you proposed before the other side answers."""

    class Arguments:
        input = OfferIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        offer = selectors.get_offer(user, decode_id(input.offer_id, "Offer", "offerId"))
        services.withdraw_offer(offer=offer, actor=user)
        return cls(offer=selectors.get_offer(user, offer.pk), errors=[])
