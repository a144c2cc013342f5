"""LiveKit, the real-time (WebRTC) provider, through its server SDK (`livekit-api`).

A show is one LiveKit room, `show-<id>`, created once (`prepare_show`; LiveKit's CreateRoom also
answers the existing room for a name it knows) with a room-composite egress recording it to an
MP4 file: the replay (`egress_ended` → RECORDING_READY). Publish tokens carry the same room
configuration, so a room LiveKit closed meanwhile is made again, recorded, by the host's join.
Publishers (the host, accepted co-hosts) get an access token for identity `<member id>` that
may publish; viewers one for `viewer-<member id>` (or `guest-<random>`) that may only subscribe,
hidden, so a room of thousands lists only its publishers. Tokens cannot be withdrawn once
minted: `revoke` disconnects the member's participants, and a token's life
(LIVE_PUBLISH_TOKEN_LIFETIME, LIVE_PLAYBACK_TOKEN_LIFETIME) bounds what a kept copy could do.

The SDK is asyncio (aiohttp); providers are called from synchronous services, so each call runs
one short-lived client in `async_to_sync`. Webhooks are verified with the SDK's WebhookReceiver:
the Authorization header is a JWT signed with LIVEKIT_API_SECRET carrying the body's sha256.
"""

import logging
import secrets
from datetime import UTC, datetime

import aiohttp
from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils import timezone
from livekit import api

from config.errors import ServiceError
from live.errors import LiveError
from live.video.base import (
    CallbackRefused,
    Playback,
    PublishCredentials,
    SignalKind,
    StreamSignal,
    VideoProvider,
)

ROOM_PREFIX = "show-"
VIEWER_PREFIX = "viewer-"
GUEST_PREFIX = "guest-"

logger = logging.getLogger("closetline.live")


def room_name(show_id: int) -> str:
    return f"{ROOM_PREFIX}{show_id}"


def show_id_of(name: str) -> int | None:
    """The show a room name belongs to; None for a room this backend did not create."""
    digits = name.removeprefix(ROOM_PREFIX)
    return int(digits) if name.startswith(ROOM_PREFIX) and digits.isdecimal() else None


def publisher_identity(member) -> str:
    return str(member.pk)


def publisher_id_of(identity: str) -> int | None:
    """The member a participant identity names when it is a publisher's (viewers' are prefixed)."""
    return int(identity) if identity.isdecimal() else None


def viewer_identity(viewer) -> str:
    return f"{VIEWER_PREFIX}{viewer.pk}" if viewer is not None else f"{GUEST_PREFIX}{secrets.token_hex(8)}"


class LiveKitProvider(VideoProvider):
    name = "livekit"
    # WebRTC's glass-to-glass delay through an SFU, the 300-500 ms the product targets.
    expected_latency_ms = 400
    uses_stream_keys = False

    def prepare_show(self, stream) -> str:
        if stream.provider_room_id:
            return stream.provider_room_id
        config = room_configuration(stream.show_id)
        request = api.CreateRoomRequest(
            name=config.name,
            empty_timeout=config.empty_timeout,
            departure_timeout=config.departure_timeout,
            egress=config.egress,
        )
        room = _call(lambda client: client.room.create_room(request))
        return room.name

    def publish_credentials(self, stream, member, *, stream_key: str | None = None) -> PublishCredentials:
        expires_at = timezone.now() + settings.LIVE_PUBLISH_TOKEN_LIFETIME
        grants = api.VideoGrants(
            room_join=True,
            room=room_name(stream.show_id),
            can_publish=True,
            can_subscribe=True,
            can_publish_data=True,
        )
        token = _token(
            publisher_identity(member),
            member.username,
            grants,
            settings.LIVE_PUBLISH_TOKEN_LIFETIME,
            # A room LiveKit closed (empty for too long) is made again by the host's join, recorded as the first.
            room_config=room_configuration(stream.show_id),
        )
        return PublishCredentials(ingest_url=settings.LIVEKIT_URL, expires_at=expires_at, token=token)

    def playback(self, stream, viewer) -> Playback:
        expires_at = timezone.now() + settings.LIVE_PLAYBACK_TOKEN_LIFETIME
        grants = api.VideoGrants(
            room_join=True,
            room=room_name(stream.show_id),
            can_publish=False,
            can_subscribe=True,
            can_publish_data=False,  # the room's chat goes through the API, moderated
            hidden=True,
        )
        name = viewer.username if viewer is not None else ""
        token = _token(viewer_identity(viewer), name, grants, settings.LIVE_PLAYBACK_TOKEN_LIFETIME)
        return Playback(
            url=settings.LIVEKIT_URL,
            token=token,
            expires_at=expires_at,
            latency_ms=self.expected_latency_ms,
            protocol="webrtc",
        )

    def revoke(self, stream, member) -> None:
        name = room_name(stream.show_id)
        for identity in (publisher_identity(member), f"{VIEWER_PREFIX}{member.pk}"):
            _ignoring_not_found(
                lambda client, identity=identity: client.room.remove_participant(
                    api.RoomParticipantIdentity(room=name, identity=identity)
                )
            )

    def end(self, stream) -> None:
        # Deleting the room disconnects everyone and stops its egress, which then reports the file.
        request = api.DeleteRoomRequest(room=room_name(stream.show_id))
        _ignoring_not_found(lambda client: client.room.delete_room(request))

    def verify_callback(self, request) -> list[StreamSignal]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token:
            raise CallbackRefused("livekit webhook without an Authorization token")
        receiver = api.WebhookReceiver(api.TokenVerifier(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET))
        try:
            event = receiver.receive(request.body.decode(), token)
        except Exception as error:  # the SDK raises bare Exceptions (and PyJWT's) for every refusal
            raise CallbackRefused(f"livekit webhook refused: {type(error).__name__}") from None
        signal = _signal(event)
        return [signal] if signal is not None else []


def _signal(event) -> StreamSignal | None:
    """The one signal a webhook event means for a show's stream, if any.

    Only a publisher's video counts: a host who joined but has no camera on is not live, and a
    microphone unpublished while the camera runs interrupts nothing. `participant_joined` is
    therefore not a signal; `track_published` of the camera is."""
    room = event.egress_info.room_name if event.event == "egress_ended" else event.room.name
    show_id = show_id_of(room)
    if show_id is None:
        return None
    at = datetime.fromtimestamp(event.created_at, UTC) if event.created_at else timezone.now()
    if event.event == "egress_ended":
        info = event.egress_info
        files = [result.location for result in info.file_results if result.location]
        if info.status != api.EGRESS_COMPLETE or not files:
            return None
        return StreamSignal(SignalKind.RECORDING_READY, show_id, at, session_id=info.egress_id, recording=files[0])
    publisher_id = publisher_id_of(event.participant.identity)
    if publisher_id is None:
        return None
    is_video = event.track.type == api.VIDEO
    if event.event == "track_published" and is_video:
        kind = SignalKind.PUBLISH_STARTED
    elif (event.event == "track_unpublished" and is_video) or event.event == "participant_left":
        kind = SignalKind.PUBLISH_ENDED
    else:
        return None
    return StreamSignal(kind, show_id, at, publisher_id=publisher_id, session_id=event.participant.sid)


def room_configuration(show_id: int) -> api.RoomConfiguration:
    """The show's room: kept open LIVEKIT_EMPTY_ROOM_SECONDS before anyone joins and after the
    last one leaves (a host reconnecting finds it), recorded whole to one MP4 per session."""
    name = room_name(show_id)
    recording = api.EncodedFileOutput(
        file_type=api.MP4, filepath=f"{settings.LIVEKIT_RECORDING_PREFIX}{name}-{{time}}.mp4"
    )
    return api.RoomConfiguration(
        name=name,
        empty_timeout=settings.LIVEKIT_EMPTY_ROOM_SECONDS,
        departure_timeout=settings.LIVEKIT_EMPTY_ROOM_SECONDS,
        egress=api.RoomEgress(room=api.RoomCompositeEgressRequest(room_name=name, file_outputs=[recording])),
    )


def _token(identity: str, name: str, grants: api.VideoGrants, lifetime, room_config=None) -> str:
    token = api.AccessToken(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
    token = token.with_identity(identity).with_name(name).with_grants(grants).with_ttl(lifetime)
    return (token.with_room_config(room_config) if room_config else token).to_jwt()


def _call(operation):
    """Run one RoomService call on a client of its own (the SDK's session belongs to one loop)."""

    async def run():
        timeout = aiohttp.ClientTimeout(total=settings.LIVEKIT_TIMEOUT_SECONDS)
        async with api.LiveKitAPI(
            settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET, timeout=timeout
        ) as client:
            return await operation(client)

    try:
        return async_to_sync(run)()
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("LiveKit out of reach: %s", type(error).__name__)
        raise _unavailable() from None
    except api.ServerError as error:
        if error.status < 500:
            raise
        logger.warning("LiveKit failed: %s %s", error.status, error.code)
        raise _unavailable() from None


def _unavailable() -> ServiceError:
    return ServiceError(
        LiveError.VIDEO_PROVIDER_UNAVAILABLE, "The video service is not answering; try again in a moment.", "showId"
    )


def _ignoring_not_found(operation) -> None:
    """Removing what is already gone (a participant who left, a room LiveKit closed) is done."""
    try:
        _call(operation)
    except api.ServerError as error:
        if error.code != api.ServerErrorCode.NOT_FOUND:
            raise
