"""Mutations that sell in a show: buy-now of the featured listing, auctions and bids."""

import graphene
from graphql_relay import to_global_id

from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.permissions import Access, viewer
from live import selectors, services
from live.models import Auction
from live.schema.shows import ShowPayload, _listing, _show
from live.schema.types import AuctionType, BidType
from marketplace import selectors as marketplace_selectors
from marketplace.schema import OrderPayload, client_key, optional_address_id


class BuyShowListingInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True, description="The featured listing.")
    idempotency_key = graphene.String(
        required=True, description="Your key for this purchase: a retry with the same key returns the same order."
    )
    shipping_address_id = graphene.ID(description="Default: your default address.")


class BuyShowListing(OrderPayload, ShowPayload, BaseMutation):
    """Buy-now: the featured listing at its price, through the same orders path as purchaseListing."""

    class Arguments:
        input = BuyShowListingInput(required=True)

    order_id = graphene.ID(description="The global ID of the order made.")

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        order = services.buy_featured_listing(
            show=show,
            buyer=info.context.user,
            listing=_listing(info, input.listing_id),
            idempotency_key=client_key(input.idempotency_key),
            shipping_address_id=optional_address_id(input),
        )
        return cls(
            order_id=to_global_id("Order", order.pk),
            order=marketplace_selectors.get_order(info.context.user, order.pk),
            show=show,
            errors=[],
        )


class StartShowAuctionInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True)
    start_price = graphene.Decimal(required=True)
    duration_seconds = graphene.Int(required=True)


class StartShowAuction(BaseMutation):
    """Auction a listing of the line-up (host or co-host): it is featured and reserved; the
    highest bid when the timer ends wins."""

    class Arguments:
        input = StartShowAuctionInput(required=True)

    auction = graphene.Field(AuctionType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        auction = services.start_auction(
            show=_show(info, input.show_id),
            user=info.context.user,
            listing=_listing(info, input.listing_id),
            start_price=input.start_price,
            duration_seconds=input.duration_seconds,
        )
        return cls(auction=_auction_card(info, auction), errors=[])


class PlaceBidInput(graphene.InputObjectType):
    auction_id = graphene.ID(required=True)
    amount = graphene.Decimal(required=True)


class PlaceBid(BaseMutation):
    """Bid at least the auction's nextMinimumBid; a bid in the last seconds extends the timer."""

    class Arguments:
        input = PlaceBidInput(required=True)

    bid = graphene.Field(BidType)
    auction = graphene.Field(AuctionType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        auction = selectors.visible_auction(viewer(info), decode_id(input.auction_id, "Auction", "auctionId"))
        bid = services.place_bid(auction=auction, bidder=info.context.user, amount=input.amount)
        return cls(bid=bid, auction=_auction_card(info, auction), errors=[])


def _auction_card(info, auction: Auction) -> Auction:
    return AuctionType.get_queryset(Auction.objects.all(), info).get(pk=auction.pk)
