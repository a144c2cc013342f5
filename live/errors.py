"""Error codes of live shows.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class LiveError(enum.Enum):
    """Shows: line-up, chat, moderation, auctions and the host's video."""

    SHOW_NOT_SCHEDULED = "show_not_scheduled"
    SHOW_NOT_LIVE = "show_not_live"
    SHOW_ENDED = "show_ended"
    COHOST_LIMIT_REACHED = "cohost_limit_reached"
    LISTING_NOT_IN_SHOW = "listing_not_in_show"
    LISTING_ALREADY_IN_SHOW = "listing_already_in_show"
    LINE_UP_FULL = "line_up_full"
    LISTING_NOT_FEATURED = "listing_not_featured"
    MESSAGE_TOO_LONG = "message_too_long"
    SLOW_MODE = "slow_mode"
    MUTED_WORD = "muted_word"
    VIEWER_MUTED = "viewer_muted"
    VIEWER_REMOVED = "viewer_removed"
    AUCTION_RUNNING = "auction_running"
    AUCTION_ENDED = "auction_ended"
    BID_TOO_LOW = "bid_too_low"
    ALREADY_HIGHEST_BIDDER = "already_highest_bidder"
    CURATION_NOT_ALLOWED = "curation_not_allowed"
    AUCTION_NOT_ALLOWED = "auction_not_allowed"
    BELOW_AUCTION_FLOOR = "below_auction_floor"
    SHOW_STAFF_CANNOT_BID = "show_staff_cannot_bid"
    STREAM_DOWN = "stream_down"
    AUCTION_PAUSED = "auction_paused"
    NO_FAILOVER_PROVIDER = "no_failover_provider"
    VIDEO_PROVIDER_UNAVAILABLE = "video_provider_unavailable"
