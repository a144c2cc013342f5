"""Replays: a show's recording after it ended, the listings featured in it and where, and the
replays on a host's profile."""

import graphene
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import viewer
from live import replay_files, selectors
from live.models import Replay, ReplayChapter
from marketplace.schema import ListingType


class ReplayChapterType(DjangoObjectType):
    class Meta:
        model = ReplayChapter
        name = "ReplayChapter"
        fields = ("offset_seconds", "featured_at")

    offset_seconds = graphene.Float(
        required=True, description="Where in the replay the listing was featured, in seconds from its start."
    )
    featured_at = graphene.DateTime(required=True, description="When it was featured in the live show.")
    sold_in_show = graphene.Boolean(required=True, description="It sold during the show.")
    listing = graphene.Field(
        ListingType, required=True, description="As it is now: its status says whether it can still be bought."
    )


class ReplayType(DjangoObjectType):
    class Meta:
        model = Replay
        name = "Replay"
        interfaces = (Node,)
        fields = ("duration_seconds",)

    show_id = graphene.ID(required=True)
    title = graphene.String(required=True)
    host = graphene.Field(UserType, required=True)
    started_at = graphene.DateTime(description="When the show went live.")
    ended_at = graphene.DateTime()
    url = graphene.String(required=True, description="The MP4 (byte ranges served): a signed link until urlExpiresAt.")
    url_expires_at = graphene.DateTime(required=True)
    chapters = graphene.List(
        graphene.NonNull(ReplayChapterType),
        required=True,
        description="The listings featured, in the order they were (one listing may come back).",
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.replay_cards(queryset.filter(show__in=selectors.visible_shows(current)), current)

    def resolve_show_id(replay, info):
        return Node.to_global_id("Show", replay.show_id)

    def resolve_title(replay, info):
        return replay.show.title

    def resolve_host(replay, info):
        return replay.show.host

    def resolve_started_at(replay, info):
        return replay.show.started_at

    def resolve_ended_at(replay, info):
        return replay.show.ended_at

    def resolve_url(replay, info):
        return _link(replay, info)[0]

    def resolve_url_expires_at(replay, info):
        return _link(replay, info)[1]

    def resolve_chapters(replay, info):
        return replay.visible_chapters


def _link(replay, info):
    if not hasattr(replay, "playback_link"):
        replay.playback_link = replay_files.playback_url(replay, viewer(info))
    return replay.playback_link


class ReplayConnection(graphene.relay.Connection):
    class Meta:
        node = ReplayType


class Query(graphene.ObjectType):
    show_replay = graphene.Field(
        ReplayType,
        show_id=graphene.ID(required=True),
        link_token=graphene.String(description="From the link of a private show."),
        description="The replay of a show you may watch, once it is ready; null otherwise.",
    )
    host_replays = graphene.Field(
        ReplayConnection,
        host_id=graphene.ID(required=True),
        **connection_args(),
        description="The replays on a host's profile, newest first (private shows only for who may list them).",
    )

    def resolve_show_replay(root, info, show_id, link_token=None):
        return selectors.show_replay(viewer(info), decode_id(show_id, "Show", "showId"), link_token)

    def resolve_host_replays(root, info, host_id, first=None, after=None):
        replays = selectors.host_replays(viewer(info), decode_id(host_id, "User", "hostId"))
        return keyset_page(replays, ReplayConnection, first=first, after=after, ordering=selectors.REPLAYS)
