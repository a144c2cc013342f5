"""Shows: creating, editing, going live and ending; the private link; saving a show for a
reminder; and the upkeep of the event log."""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import CommonError, ServiceError
from live import events
from live.errors import LiveError
from live.models import Auction, SavedShow, Show, ShowEvent, ShowPass
from live.services._shared import Type, _locked, _require_host
from live.services._video import _end_stream
from live.services.replays import CHAPTER_EVENTS
from marketplace import images
from notifications.models import Kind
from notifications.services import notify
from social import selectors as social_selectors

MAX_SCHEDULE_AHEAD = timedelta(days=365)


def create_show(
    *, host, title: str, scheduled_start, description: str = "", is_private: bool = False, cover=None, now=None
) -> Show:
    show = Show(host=host, is_private=is_private, link_token=new_link_token())
    _apply_details(
        show, title=title, description=description, scheduled_start=scheduled_start, now=now or timezone.now()
    )
    if cover is not None:
        show.cover = _store_cover(cover)
    show.save()
    return show


def update_show(*, show: Show, user, cover=None, now=None, **details) -> Show:
    """Change the title, description, privacy, cover, or (before it starts) the scheduled start."""
    path = _store_cover(cover) if cover is not None else None  # CPU work before the lock
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        if show.state == Show.State.ENDED:
            raise ServiceError(LiveError.SHOW_ENDED, "This show is over.", "showId")
        if details.get("scheduled_start") is not None and show.state != Show.State.SCHEDULED:
            raise ServiceError(LiveError.SHOW_NOT_SCHEDULED, "The show has started.", "scheduledStart")
        _apply_details(show, now=now or timezone.now(), **details)
        if path is not None:
            show.cover = path
        show.save()
    return show


def start_show(*, show: Show, user, now=None) -> Show:
    """Go live, and remind the host's followers and the people who saved the show (only them
    when it is private)."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        if show.state != Show.State.SCHEDULED:
            raise ServiceError(LiveError.SHOW_NOT_SCHEDULED, "This show has already started or ended.", "showId")
        _go_live(show, now=now)
    return show


def _go_live(show: Show, *, now) -> None:
    """The scheduled show, locked by the caller, goes live (by the host, or with its stream)."""
    show.state, show.started_at = Show.State.LIVE, now
    show.save(update_fields=["state", "started_at"])
    events.record(show, Type.STATE, {"state": show.state}, now=now)
    _remind_audience(show)


def end_show(*, show: Show, user, now=None) -> Show:
    """End a live show, or cancel a scheduled one. A running auction finishes first."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        if show.state == Show.State.ENDED:
            raise ServiceError(LiveError.SHOW_ENDED, "This show is already over.", "showId")
        if Auction.objects.filter(show_id=show.pk, state=Auction.State.RUNNING).exists():
            raise ServiceError(LiveError.AUCTION_RUNNING, "Let the running auction finish first.", "showId")
        show.state, show.ended_at, show.featured_listing = Show.State.ENDED, now, None
        show.save(update_fields=["state", "ended_at", "featured_listing"])
        _end_stream(show, now=now)  # before the show's end, which closes viewers' subscriptions
        events.record(show, Type.STATE, {"state": show.state}, now=now)
    return show


def new_link_token() -> str:
    """The secret of a show's link: 32 URL-safe characters (192 random bits), never guessed."""
    return secrets.token_urlsafe(24)


def rotate_show_link(*, show: Show, user) -> Show:
    """The host replaces the link: the old one opens nothing more; who opened it keeps access."""
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, user)
        show.link_token = new_link_token()
        show.save(update_fields=["link_token"])
    return show


def open_show_link(*, show: Show, user) -> None:
    """A member opened a show by its link (the caller checked the token): they keep access."""
    if user is not None and user.is_authenticated:
        ShowPass.objects.get_or_create(user=user, show=show)


def save_show(*, user, show: Show) -> bool:
    """Remind me when it goes live; idempotent, True when this call saved it."""
    if show.state == Show.State.ENDED:
        raise ServiceError(LiveError.SHOW_ENDED, "This show is over.", "showId")
    with transaction.atomic():
        _, created = SavedShow.objects.get_or_create(user=user, show=show)
    return created


def unsave_show(*, user, show: Show) -> bool:
    deleted, _ = SavedShow.objects.filter(user=user, show=show).delete()
    return bool(deleted)


def prune_events(*, now) -> int:
    """Forget log events older than LIVE_EVENT_RETENTION; reconnecting later gets a snapshot.
    What a replay's chapters are made of (featuring, sales, the stream's ups and downs) stays
    until the show has been over for LIVE_REPLAY_CHAPTERS_KEPT (live.services.replays)."""
    chapters = Q(type__in=CHAPTER_EVENTS) & (
        Q(show__ended_at__isnull=True) | Q(show__ended_at__gte=now - settings.LIVE_REPLAY_CHAPTERS_KEPT)
    )
    old = ShowEvent.objects.filter(created_at__lt=now - settings.LIVE_EVENT_RETENTION).exclude(chapters)
    deleted, _ = old.delete()
    return deleted


def _remind_audience(show: Show) -> None:
    savers = SavedShow.objects.filter(show_id=show.pk).values_list("user_id", flat=True)
    audience = set(savers)
    if not show.is_private:
        audience |= set(social_selectors.followers(show.host, None).values_list("pk", flat=True))
    audience.discard(show.host_id)
    notify(
        recipient_ids=audience,
        kind=Kind.SHOW_LIVE,
        title=f"@{show.host.username} is live",
        body=show.title,
        dedupe_key=f"show_live:{show.pk}",
        target=show,
        coalesce_key=f"show:{show.pk}",
        data={"show_id": to_global_id("Show", show.pk)},
    )


def _apply_details(show: Show, *, now, title=None, description=None, scheduled_start=None, is_private=None) -> None:
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise ServiceError(CommonError.REQUIRED, "Give the show a title.", "title")
        if len(title) > Show._meta.get_field("title").max_length:
            raise ServiceError(CommonError.INVALID, "Titles are at most 80 characters.", "title")
        show.title = title
    if description is not None:
        if len(description) > Show._meta.get_field("description").max_length:
            raise ServiceError(CommonError.INVALID, "Descriptions are at most 1,000 characters.", "description")
        show.description = description.strip()
    if scheduled_start is not None:
        if not now - timedelta(minutes=5) <= scheduled_start <= now + MAX_SCHEDULE_AHEAD:
            raise ServiceError(CommonError.INVALID, "Schedule the show from now to a year ahead.", "scheduledStart")
        show.scheduled_start = scheduled_start
    if is_private is not None:
        show.is_private = is_private


def _store_cover(upload) -> str:
    encoded = images.normalise(upload, field="cover")
    return default_storage.save(f"shows/{uuid.uuid4().hex}.jpg", ContentFile(encoded.content))
