"""Live selling's GraphQL schema, one module per room:

- `types`: the show, its line-up, co-hosts, chat history and auctions; the shared enums;
- `events`: the event types showEvents delivers, and the subscription;
- `shows`: show queries and the mutations on a show itself (the base of the other mutations);
- `room`: co-hosts, moderation, the line-up, featuring and chat;
- `sales`: buy-now, auctions and bids;
- `video`: the host's publish credentials, going live with the stream, failing over;
- `replays`: a show's replay with its chapters, the replays on a host's profile.

`Query`, `Mutation` and `Subscription` join them for config/graphql/schema.py.
"""

import graphene

from live.schema.events import Subscription
from live.schema.replays import Query as ReplayQuery
from live.schema.room import (
    AddCoHost,
    AddShowListing,
    DeleteShowMessage,
    FeatureShowListing,
    MuteShowViewer,
    RemoveCoHost,
    RemoveShowListing,
    RemoveShowViewer,
    ReorderShowListings,
    RespondToCoHostInvite,
    SendShowMessage,
    SetShowMutedWords,
    SetShowSlowMode,
    UnmuteShowViewer,
)
from live.schema.sales import BuyShowListing, PlaceBid, StartShowAuction
from live.schema.shows import (
    CreateShow,
    EndShow,
    OpenShowLink,
    RotateShowLink,
    SaveShow,
    StartShow,
    UnsaveShow,
    UpdateShow,
)
from live.schema.shows import Query as ShowQuery
from live.schema.video import FailOverShowStream, PublishCredentials, RotateStreamKey, SetShowGoesLiveWithStream


class Query(ShowQuery, ReplayQuery):
    """Shows, and their replays."""


class Mutation(graphene.ObjectType):
    create_show = CreateShow.Field()
    update_show = UpdateShow.Field()
    start_show = StartShow.Field()
    end_show = EndShow.Field()
    save_show = SaveShow.Field()
    open_show_link = OpenShowLink.Field()
    rotate_show_link = RotateShowLink.Field()
    unsave_show = UnsaveShow.Field()
    add_co_host = AddCoHost.Field()
    respond_to_co_host_invite = RespondToCoHostInvite.Field()
    remove_co_host = RemoveCoHost.Field()
    add_show_listing = AddShowListing.Field()
    remove_show_listing = RemoveShowListing.Field()
    reorder_show_listings = ReorderShowListings.Field()
    feature_show_listing = FeatureShowListing.Field()
    send_show_message = SendShowMessage.Field()
    delete_show_message = DeleteShowMessage.Field()
    set_show_slow_mode = SetShowSlowMode.Field()
    set_show_muted_words = SetShowMutedWords.Field()
    mute_show_viewer = MuteShowViewer.Field()
    unmute_show_viewer = UnmuteShowViewer.Field()
    remove_show_viewer = RemoveShowViewer.Field()
    buy_show_listing = BuyShowListing.Field()
    start_show_auction = StartShowAuction.Field()
    place_bid = PlaceBid.Field()
    publish_credentials = PublishCredentials.Field()
    rotate_stream_key = RotateStreamKey.Field()
    set_show_goes_live_with_stream = SetShowGoesLiveWithStream.Field()
    fail_over_show_stream = FailOverShowStream.Field()


__all__ = ["Mutation", "Query", "Subscription"]
