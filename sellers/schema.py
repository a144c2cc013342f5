import graphene
from graphene_django import DjangoObjectType

from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import require_owner, viewer
from marketplace import selectors as marketplace_selectors
from marketplace.schema import Money
from sellers import selectors
from sellers.models import PriceDropNotice


class PriceDropNoticeType(DjangoObjectType):
    """A price drop the listing's likers were told of."""

    class Meta:
        model = PriceDropNotice
        name = "PriceDropNotice"
        interfaces = (Node,)
        fields = ("likers_reached", "created_at")

    previous_price = graphene.Field(Money, required=True,
                                    description="The lowest price likers had been told of before.")
    new_price = graphene.Field(Money, required=True)
    coalesced = graphene.Boolean(required=True, description="True when it rewrote the notification of a drop "
                                                            "moments before instead of sending another.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return queryset.filter(listing__seller_id=current.pk) if current else queryset.none()

    def resolve_previous_price(notice, info):
        return {"amount": notice.previous_price, "currency": notice.currency}

    def resolve_new_price(notice, info):
        return {"amount": notice.new_price, "currency": notice.currency}

    def resolve_coalesced(notice, info):
        return notice.window_start_id is not None


class PriceDropNoticeConnection(graphene.relay.Connection):
    class Meta:
        node = PriceDropNoticeType


class Query(graphene.ObjectType):
    price_drops = graphene.Field(PriceDropNoticeConnection, **connection_args(listing_id=graphene.ID(required=True)),
                                 description="Price drops of your listing that notified its likers, newest first.")

    def resolve_price_drops(root, info, listing_id, first=None, after=None):
        listing = _owned_listing(info, listing_id)
        return keyset_page(selectors.price_drops(listing), PriceDropNoticeConnection, first=first, after=after,
                           ordering=("-created_at", "-pk"))


def _owned_listing(info, global_id: str):
    listing = marketplace_selectors.get_listing(viewer(info), decode_id(global_id, "Listing", "listingId"))
    require_owner(info, listing.seller_id)
    return listing


class Mutation(graphene.ObjectType):
    pass
