"""What ending a show or removing a co-host means for the show's video: their stream keys are
revoked (a publisher using one is cut off), and the show's stream ends with the show. The
provider is told once the transaction commits; when it is out of reach the change stands (a
revoked key is refused at its next callback all the same)."""

from django.contrib.auth import get_user_model
from django.db import transaction

from live import events
from live.models import PublishKey, Show, ShowEvent, ShowStream
from live.services.replays import replay_due
from live.video.base import provider_for


def _revoke_keys(show: Show, *, now, member_id: int | None = None) -> None:
    """Revoke the show's active keys (only `member_id`'s when given); the caller holds the lock."""
    stream = ShowStream.objects.filter(show_id=show.pk).first()
    if stream is None:
        return
    active = PublishKey.objects.filter(show_id=show.pk, revoked_at__isnull=True)
    if member_id is not None:
        active = active.filter(member_id=member_id)
    publishing = list(active.exclude(publisher_session="").select_related("member"))
    active.update(revoked_at=now)
    for key in publishing:
        _tell_provider(stream, "revoke", key.member)
    if member_id is not None and not provider_for(stream).uses_stream_keys:
        # Token providers keep no keys here: the provider disconnects the member itself.
        _tell_provider(stream, "revoke", get_user_model()(pk=member_id))


def _disconnect_viewer(show: Show, viewer) -> None:
    """A removed viewer: the provider cuts their connections (HLS grants are checked per request)."""
    stream = ShowStream.objects.filter(show_id=show.pk).first()
    if stream is not None and stream.state != ShowStream.State.ENDED:
        _tell_provider(stream, "revoke", viewer)


def _end_stream(show: Show, *, now) -> None:
    """The show ended: its stream ends (STREAM_ENDED) and every key is revoked."""
    stream = ShowStream.objects.select_for_update().filter(show_id=show.pk).first()
    if stream is None or stream.state == ShowStream.State.ENDED:
        return
    _revoke_keys(show, now=now)
    stream.state, stream.ended_at = ShowStream.State.ENDED, now
    stream.save(update_fields=["state", "ended_at"])
    events.record(show, ShowEvent.Type.STREAM_ENDED, {"stream_state": stream.state}, now=now)
    _tell_provider(stream, "end")
    replay_due(show)


def _tell_provider(stream: ShowStream, call: str, *arguments) -> None:
    # robust: Django logs a provider's failure; the show's change stands.
    transaction.on_commit(lambda: getattr(provider_for(stream), call)(stream, *arguments), robust=True)
