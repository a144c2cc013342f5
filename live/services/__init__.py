"""Every write of live selling, one module per room:

- `shows`: shows (create, edit, go live, end), the private link, saved shows, the log's upkeep;
- `cohosts`: inviting, answering, removing co-hosts;
- `line_up`: curating listings into a show, removing and reordering them;
- `room`: featuring, chat and its limits, muting and removing viewers;
- `sales`: buy-now and auctions (bids, closing, settling, the sweep, pausing with the stream);
- `streams`: the host's video: publish credentials, the stream's state from provider signals;
- `replays`: a show's recordings made into its replay, with chapters of what was featured;
- `_shared`: the show's lock, the checks of who may act, featuring and announcing a sale;
- `_video`: revoking stream keys and ending the stream (with the show, a co-host's removal).

Everything a viewer sees happen locks the show's row first (`_shared._locked`), checks the rules
on the locked state, writes, and records its event in the same transaction (live.events.record):
the show row orders a room's events, and a failed change is never announced. Auction writes lock
the auction row second, always in that order, so no two writers wait on each other crosswise.

Who may do what: the host runs the show (start, end, co-hosts); the host and accepted co-hosts
share the room's powers (line-up, featuring, auctions, moderation) and are exempt from chat
limits; a muted viewer reads but cannot chat; a removed viewer can no longer watch, chat or bid.

Other apps, the schema, tasks, the admin and tests call `from live import services` and the names
below. Inside the package, modules import from each other directly, never through here.
"""

from live.services._shared import MAX_PRICE
from live.services.cohosts import invite_cohost, remove_cohost, respond_to_cohost_invite
from live.services.line_up import add_show_listing, remove_show_listing, reorder_line_up
from live.services.replays import build_replay, forget_recordings
from live.services.room import (
    MAX_MUTED_WORD_LENGTH,
    delete_message,
    feature_listing,
    restrict_viewer,
    send_message,
    set_muted_words,
    set_slow_mode,
    unmute_viewer,
)
from live.services.sales import (
    CLOSING_STATES,
    buy_featured_listing,
    close_auction_if_due,
    close_due_auctions,
    place_bid,
    start_auction,
)
from live.services.shows import (
    MAX_SCHEDULE_AHEAD,
    create_show,
    end_show,
    new_link_token,
    open_show_link,
    prune_events,
    rotate_show_link,
    save_show,
    start_show,
    unsave_show,
    update_show,
)
from live.services.streams import apply_signal, fail_over, publish_credentials, set_goes_live_with_stream

__all__ = [
    "CLOSING_STATES",
    "MAX_MUTED_WORD_LENGTH",
    "MAX_PRICE",
    "MAX_SCHEDULE_AHEAD",
    "add_show_listing",
    "apply_signal",
    "build_replay",
    "buy_featured_listing",
    "close_auction_if_due",
    "close_due_auctions",
    "create_show",
    "delete_message",
    "end_show",
    "fail_over",
    "feature_listing",
    "forget_recordings",
    "invite_cohost",
    "new_link_token",
    "open_show_link",
    "place_bid",
    "prune_events",
    "publish_credentials",
    "remove_cohost",
    "remove_show_listing",
    "reorder_line_up",
    "respond_to_cohost_invite",
    "restrict_viewer",
    "rotate_show_link",
    "save_show",
    "send_message",
    "set_goes_live_with_stream",
    "set_muted_words",
    "set_slow_mode",
    "start_auction",
    "start_show",
    "unmute_viewer",
    "unsave_show",
    "update_show",
]
