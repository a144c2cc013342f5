"""The show's video: publish credentials for who runs the show, the host's choices, and the
provider's signals moving the stream through waiting → live → interrupted (→ live again) →
ended (live.services._video ends it with the show).

Each change of the stream is a show event (STREAM_LIVE, STREAM_INTERRUPTED, STREAM_RESUMED,
STREAM_ENDED) recorded under the show's lock like any other, so a reconnecting viewer catches
up. When the stream drops the running auction is paused, and it resumes with the stream
(live.services.sales). A show with `go_live_with_stream` goes live when its stream first does.

Stream keys (providers with `uses_stream_keys`) are stored as their sha256 only: the plaintext
is in the answer that issues or rotates one, never again. A revoked key, a key of an ended show
or a second connection on a key in use is refused at the provider's callback.
"""

import logging
import secrets

from django.db import transaction
from django.utils import timezone

from config.errors import ServiceError
from live import events, selectors
from live.errors import LiveError
from live.models import PublishKey, Show, ShowStream
from live.services._shared import Type, _locked, _require_host, _require_moderator, _require_not_ended
from live.services._video import _revoke_keys
from live.services.replays import add_recording
from live.services.sales import pause_auction, resume_auction
from live.services.shows import _go_live
from live.video.base import (
    CallbackRefused,
    PublishCredentials,
    SignalKind,
    StreamSignal,
    default_provider,
    failover_provider,
    hash_stream_key,
    provider_for,
)

logger = logging.getLogger("closetline.live")


def publish_credentials(*, show: Show, user, rotate: bool = False, now=None) -> PublishCredentials:
    """What the host or an accepted co-host streams with. With stream keys: a new key the first
    time (or when `rotate`, which revokes the old one and cuts off its connection), afterwards
    the ingest URL alone (`stream_key` None: rotate to see a key again)."""
    now = now or timezone.now()
    _require_moderator(show, user)
    _require_not_ended(show)
    stream = _prepared_stream(show)
    provider = provider_for(stream)
    if not provider.uses_stream_keys:
        return provider.publish_credentials(stream, user)
    with transaction.atomic():
        show = _locked(show.pk)
        _require_moderator(show, user)
        _require_not_ended(show)
        has_key = PublishKey.objects.filter(show_id=show.pk, member_id=user.pk, revoked_at__isnull=True).exists()
        if has_key and not rotate:
            return provider.publish_credentials(stream, user)
        _revoke_keys(show, now=now, member_id=user.pk)
        key = secrets.token_urlsafe(24)
        PublishKey.objects.create(show=show, member=user, key_hash=hash_stream_key(key), created_at=now)
    return provider.publish_credentials(stream, user, stream_key=key)


def set_goes_live_with_stream(*, show: Show, user, enabled: bool) -> ShowStream:
    """The host chooses whether the scheduled show goes live when its stream does."""
    _require_host(show, user)
    _require_not_ended(show)
    stream = _prepared_stream(show)
    ShowStream.objects.filter(pk=stream.pk).update(go_live_with_stream=enabled)
    stream.go_live_with_stream = enabled
    return stream


def fail_over(*, show: Show, user, now=None) -> ShowStream:
    """Move the show's stream to LIVE_VIDEO_FAILOVER_PROVIDER (host): its keys are revoked, a
    live stream counts as interrupted until a publisher starts on the new provider, and viewers'
    apps ask for playback again on STREAM_RESUMED."""
    now = now or timezone.now()
    _require_host(show, user)
    _require_not_ended(show)
    second = failover_provider()
    stream = _prepared_stream(show)
    if second is None or second.name == stream.provider:
        raise ServiceError(LiveError.NO_FAILOVER_PROVIDER, "There is no other video provider to switch to.", "showId")
    room_id = second.prepare_show(stream)
    with transaction.atomic():
        show = _locked(show.pk)
        stream = ShowStream.objects.select_for_update().get(pk=stream.pk)
        _revoke_keys(show, now=now)
        stream.provider, stream.provider_room_id = second.name, room_id
        stream.save(update_fields=["provider", "provider_room_id"])
        if stream.state == ShowStream.State.LIVE:
            _interrupt(show, stream, now=now)
    return stream


def apply_signal(signal: StreamSignal) -> None:
    """Apply what the provider saw; CallbackRefused for a publisher the show does not take."""
    with transaction.atomic():
        show = _locked(signal.show_id)
        stream = ShowStream.objects.select_for_update().filter(show_id=show.pk).first()
        if stream is None:
            raise CallbackRefused("the show has no stream")
        if signal.kind is SignalKind.PUBLISH_STARTED:
            _publish_started(show, stream, signal)
        elif signal.kind is SignalKind.PUBLISH_ENDED:
            _publish_ended(show, stream, signal)
        else:
            add_recording(show, signal.recording)


def _prepared_stream(show: Show) -> ShowStream:
    """The show's stream, its provider's room made (once: the provider call is idempotent)."""
    stream, _ = ShowStream.objects.get_or_create(show_id=show.pk, defaults={"provider": default_provider().name})
    if not stream.provider_room_id:
        room_id = provider_for(stream).prepare_show(stream)
        ShowStream.objects.filter(pk=stream.pk, provider_room_id="").update(provider_room_id=room_id)
        stream.refresh_from_db()
    return stream


def _publish_started(show: Show, stream: ShowStream, signal: StreamSignal) -> None:
    if show.state == Show.State.ENDED or stream.state == ShowStream.State.ENDED:
        raise CallbackRefused("the show is over")
    if provider_for(stream).uses_stream_keys:
        _claim_key(show, signal)
    elif signal.publisher_id not in selectors.moderator_ids(show):
        raise CallbackRefused("the publisher does not run the show")
    if stream.state == ShowStream.State.LIVE:
        return
    resumed = stream.state == ShowStream.State.INTERRUPTED
    stream.state, stream.interrupted_at = ShowStream.State.LIVE, None
    stream.went_live_at = stream.went_live_at or signal.at
    stream.save(update_fields=["state", "interrupted_at", "went_live_at"])
    events.record(show, Type.STREAM_RESUMED if resumed else Type.STREAM_LIVE, _payload(stream), now=signal.at)
    if resumed:
        resume_auction(show, now=signal.at)
    elif stream.go_live_with_stream and show.state == Show.State.SCHEDULED:
        _go_live(show, now=signal.at)


def _claim_key(show: Show, signal: StreamSignal) -> None:
    """The publisher's active key takes this connection, unless it (or another key of the show)
    is already publishing: the show has one picture."""
    keys = PublishKey.objects.select_for_update().filter(show_id=show.pk, revoked_at__isnull=True)
    key = keys.filter(member_id=signal.publisher_id).first()
    if key is None:
        raise CallbackRefused("the key was revoked")
    if keys.exclude(publisher_session="").exclude(publisher_session=signal.session_id).exists():
        raise CallbackRefused("another connection is publishing the show")
    key.publisher_session, key.publishing_since = signal.session_id, signal.at
    key.save(update_fields=["publisher_session", "publishing_since"])


def _publish_ended(show: Show, stream: ShowStream, signal: StreamSignal) -> None:
    if provider_for(stream).uses_stream_keys:
        # Revoked keys too: a revoked publisher's connection ends after its key did.
        ended = PublishKey.objects.filter(show_id=show.pk, publisher_session=signal.session_id)
        if not ended.update(publisher_session="", publishing_since=None):
            return  # a connection the show never took (refused, or already ended)
    if stream.state == ShowStream.State.LIVE:
        _interrupt(show, stream, now=signal.at)


def _interrupt(show: Show, stream: ShowStream, *, now) -> None:
    stream.state, stream.interrupted_at = ShowStream.State.INTERRUPTED, now
    stream.save(update_fields=["state", "interrupted_at"])
    events.record(show, Type.STREAM_INTERRUPTED, _payload(stream), now=now)
    pause_auction(show, now=now)


def _payload(stream: ShowStream) -> dict:
    return {"stream_state": stream.state}
