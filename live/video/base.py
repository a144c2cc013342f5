"""The video provider interface: what the backend asks of whatever carries the host's video.

A provider is chosen by dotted path: LIVE_VIDEO_PROVIDER (default the self-hosted nginx-rtmp
server) for new shows, LIVE_VIDEO_FAILOVER_PROVIDER (optional) as the second a host can switch a
show to when the first fails. A show's stream (ShowStream.provider) records the `name` of the
provider it streams on, so a show keeps its provider when the default changes.

Providers never write to the database: they turn the show's stream into provider calls
(`prepare_show`, credentials, playback, `revoke`, `end`) and the provider's callbacks into
`StreamSignal`s, which live.services.streams applies to the show under its lock.
"""

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class CallbackRefused(Exception):
    """A provider callback that is not signed, not from the configured server, or names no valid
    key. `reason` is for the log and never holds a secret."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SignalKind(enum.Enum):
    PUBLISH_STARTED = "publish_started"
    PUBLISH_ENDED = "publish_ended"
    RECORDING_READY = "recording_ready"


@dataclass(frozen=True)
class StreamSignal:
    """Something the provider saw happen to a show's stream.

    `publisher_id` is the member publishing (None when the provider cannot tell); `session_id`
    the provider's name for this one connection, so that a second publisher on the same key is
    refused and a late "ended" of an old connection does not end a newer one; `recording` the
    path or URL of the recording (RECORDING_READY only)."""

    kind: SignalKind
    show_id: int
    at: datetime
    publisher_id: int | None = None
    session_id: str = ""
    recording: str = ""


@dataclass(frozen=True)
class PublishCredentials:
    """What a host's encoder needs: an RTMP `ingest_url` and `stream_key` (None once the key was
    shown: keys are stored hashed, rotating shows a new one), or a provider SDK `token`."""

    ingest_url: str
    expires_at: datetime | None
    stream_key: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class Playback:
    """What a viewer's player opens. `latency_ms` is how far behind the server's clock the
    picture runs; `protocol` is "hls" (url carries a signed token) or "webrtc" (url + token)."""

    url: str
    token: str | None
    expires_at: datetime
    latency_ms: int
    protocol: str


class VideoProvider:
    """Subclasses set `name` (stored on each stream), `expected_latency_ms`, and whether their
    publishers use `stream_keys` (RTMP: the backend issues hashed keys) or provider tokens."""

    name: str
    expected_latency_ms: int
    uses_stream_keys: bool = False

    def prepare_show(self, stream) -> str:
        """Create the provider's room for the show; idempotent, returns the provider room id."""
        raise NotImplementedError

    def publish_credentials(self, stream, member, *, stream_key: str | None = None) -> PublishCredentials:
        """Credentials for `member` (the host or an accepted co-host) to publish the show. For
        key providers the service passes the plaintext key it just issued, or None."""
        raise NotImplementedError

    def playback(self, stream, viewer) -> Playback:
        """What `viewer` (a member or None) plays; the caller checked they may open the show."""
        raise NotImplementedError

    def revoke(self, stream, member) -> None:
        """Stop `member` publishing (their key or token was revoked): cut a live connection."""
        raise NotImplementedError

    def end(self, stream) -> None:
        """The show ended: close the provider's room."""
        raise NotImplementedError

    def verify_callback(self, request) -> list[StreamSignal]:
        """Turn a provider callback (a Django request) into signals, or raise CallbackRefused."""
        raise NotImplementedError


def default_provider() -> VideoProvider:
    return _load(settings.LIVE_VIDEO_PROVIDER)


def failover_provider() -> VideoProvider | None:
    path = settings.LIVE_VIDEO_FAILOVER_PROVIDER
    return _load(path) if path else None


def provider_for(stream) -> VideoProvider:
    """The provider a show's stream runs on, by the name it recorded."""
    return provider_named(stream.provider)


def provider_named(name: str) -> VideoProvider:
    for provider in filter(None, (default_provider(), failover_provider())):
        if provider.name == name:
            return provider
    raise LookupError(f"No configured video provider is named {name!r}")


@cache
def _load(path: str) -> VideoProvider:
    """Providers hold no per-request state and read their settings when called: one each."""
    return import_string(path)()


def hash_stream_key(key: str) -> str:
    """Stream keys are 192 random bits: a plain sha256 is as strong as a slow hash would be."""
    return hashlib.sha256(key.encode()).hexdigest()
