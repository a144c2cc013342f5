"""The room: featuring a listing, chat (length, slow mode, muted words, mutes) and moderation
(muting and removing viewers). A muted viewer reads but cannot chat; a removed viewer can no
longer watch, chat or bid. Who runs the room is exempt from chat limits."""

import functools
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import CommonError, ServiceError
from config.textfold import fold
from live import events, payloads, selectors
from live.errors import LiveError
from live.models import Auction, Show, ShowMessage, ShowRestriction
from live.services._shared import (
    Type,
    _entry,
    _feature,
    _loaded,
    _locked,
    _require_live,
    _require_moderator,
    _require_not_ended,
)
from live.services._video import _disconnect_viewer
from marketplace.errors import ListingError
from marketplace.models import Listing

MAX_MUTED_WORD_LENGTH = 50


def feature_listing(*, show: Show, user, listing: Listing | None, now=None) -> Show:
    """Show one listing of the line-up to every viewer (None: none); not while an auction runs."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        _require_live(show)
        if Auction.objects.filter(show_id=show.pk, state=Auction.State.RUNNING).exists():
            raise ServiceError(LiveError.AUCTION_RUNNING, "Wait for the auction to end.", "listingId")
        if listing is not None:
            _entry(show, listing)
            listing = _loaded(listing)
            if listing.status != Listing.Status.AVAILABLE:
                raise ServiceError(
                    ListingError.LISTING_NOT_AVAILABLE, "This listing is no longer available.", "listingId"
                )
        if show.featured_listing_id != (listing.pk if listing else None):
            _feature(show, listing, now=now)
    return show


def send_message(*, show: Show, author, body: str, now=None) -> ShowMessage:
    now = now or timezone.now()
    body = (body or "").strip()
    if not body:
        raise ServiceError(CommonError.REQUIRED, "Write something first.", "body")
    if len(body) > settings.LIVE_MESSAGE_MAX_LENGTH:
        raise ServiceError(
            LiveError.MESSAGE_TOO_LONG, f"Messages are at most {settings.LIVE_MESSAGE_MAX_LENGTH} characters.", "body"
        )
    with transaction.atomic():
        show = _locked(show.pk)
        _require_live(show)
        if author.pk not in selectors.moderator_ids(show):
            _require_may_chat(show, author, body, now=now)
        message = ShowMessage.objects.create(show=show, author=author, body=body, created_at=now)
        events.record(show, Type.MESSAGE, {"message": payloads.message(message)}, now=now)
    return message


def delete_message(*, message: ShowMessage, user, now=None) -> None:
    """A moderator (or staff), or the author, takes a message down; deleting it twice is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(message.show_id)
        message = ShowMessage.objects.get(pk=message.pk)
        if user.pk != message.author_id and not user.is_staff and user.pk not in selectors.moderator_ids(show):
            raise ServiceError(
                CommonError.FORBIDDEN, "Only the host, co-hosts and the author can delete it.", "messageId"
            )
        if message.deleted_at is not None:
            return
        message.deleted_at, message.deleted_by = now, user
        message.save(update_fields=["deleted_at", "deleted_by"])
        events.record(show, Type.MESSAGE_DELETED, {"message_id": to_global_id("ShowMessage", message.pk)}, now=now)


def set_slow_mode(*, show: Show, user, seconds: int, now=None) -> Show:
    now = now or timezone.now()
    if not 0 <= seconds <= settings.LIVE_SLOW_MODE_MAX_SECONDS:
        raise ServiceError(
            CommonError.INVALID, f"Slow mode is 0 (off) to {settings.LIVE_SLOW_MODE_MAX_SECONDS} seconds.", "seconds"
        )
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        _require_not_ended(show)
        show.slow_mode_seconds = seconds
        show.save(update_fields=["slow_mode_seconds"])
        events.record(show, Type.SLOW_MODE, {"slow_mode_seconds": seconds}, now=now)
    return show


def set_muted_words(*, show: Show, user, words: list[str]) -> Show:
    """Replace the muted words (whole words or phrases, matched as people see them: case, width,
    invisible characters and look-alike letters do not matter, config.textfold). Not announced:
    the list is the moderators' own."""
    cleaned = list(dict.fromkeys(" ".join(word.split()).lower() for word in words if fold(word).strip()))
    if len(cleaned) > settings.LIVE_MUTED_WORDS_MAX or any(len(word) > MAX_MUTED_WORD_LENGTH for word in cleaned):
        raise ServiceError(
            CommonError.INVALID,
            f"Up to {settings.LIVE_MUTED_WORDS_MAX} words of at most {MAX_MUTED_WORD_LENGTH} characters.",
            "words",
        )
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        show.muted_words = cleaned
        show.save(update_fields=["muted_words"])
    return show


def restrict_viewer(*, show: Show, moderator, viewer, kind: str, now=None) -> bool:
    """Mute a viewer (reads, cannot chat) or remove them (their stream ends; no watching, chat or
    bids). True when this call changed something."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, moderator)
        if viewer.pk in selectors.moderator_ids(show):
            raise ServiceError(CommonError.FORBIDDEN, "The host and co-hosts cannot be muted or removed.", "userId")
        _, created = ShowRestriction.objects.get_or_create(
            show=show, user=viewer, kind=kind, defaults={"created_by": moderator, "created_at": now}
        )
        if created:
            event = Type.VIEWER_MUTED if kind == ShowRestriction.Kind.MUTED else Type.VIEWER_REMOVED
            events.record(show, event, {"user": payloads.user(viewer)}, now=now)
            if kind == ShowRestriction.Kind.REMOVED:
                _disconnect_viewer(show, viewer)
    return created


def unmute_viewer(*, show: Show, moderator, viewer, now=None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, moderator)
        deleted, _ = ShowRestriction.objects.filter(show=show, user=viewer, kind=ShowRestriction.Kind.MUTED).delete()
        if deleted:
            events.record(show, Type.VIEWER_UNMUTED, {"user": payloads.user(viewer)}, now=now)
    return bool(deleted)


def _require_may_chat(show: Show, author, body: str, *, now) -> None:
    restrictions = selectors.restrictions_of(show, author)
    if ShowRestriction.Kind.REMOVED in restrictions:
        raise ServiceError(LiveError.VIEWER_REMOVED, "You were removed from this show.", "showId")
    if ShowRestriction.Kind.MUTED in restrictions:
        raise ServiceError(LiveError.VIEWER_MUTED, "You were muted in this show.", "body")
    if show.muted_words and _muted_words(tuple(show.muted_words)).search(fold(body)):
        raise ServiceError(LiveError.MUTED_WORD, "This message contains a word muted in this show.", "body")
    if (
        show.slow_mode_seconds
        and ShowMessage.objects.filter(
            show_id=show.pk, author_id=author.pk, created_at__gt=now - timedelta(seconds=show.slow_mode_seconds)
        ).exists()
    ):
        raise ServiceError(
            LiveError.SLOW_MODE, f"Slow mode: one message every {show.slow_mode_seconds} seconds.", "body"
        )


@functools.lru_cache(maxsize=256)
def _muted_words(words: tuple[str, ...]) -> re.Pattern:
    """The words as people see them (config.textfold.fold), to search a folded message."""
    folded = sorted({" ".join(fold(word).split()) for word in words} - {""}, key=len, reverse=True)
    if not folded:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in folded) + r")(?!\w)")
