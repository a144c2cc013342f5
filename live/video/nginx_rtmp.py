"""The self-hosted default: nginx with its RTMP module (Debian: nginx, libnginx-mod-rtmp).

Hosts publish RTMP to MEDIA_SERVER_INGEST_URL with the stream key `<room>?key=<secret>` (the
show's room, `show-<id>`, is the stream's name; the secret rides in its arguments, so it never
names a file or a playback address). nginx asks the backend (live.video.views, on_publish)
before it takes a publisher: the secret is looked up by its hash and must belong to that room's
show. nginx writes HLS into `<dir>/hls/<room>/`, records every publish as FLV into
`<dir>/recordings/`, and reports the end of a publish and of a recording.

Viewers play `<MEDIA_SERVER_PLAYBACK_URL>/<token>/<room>/index.m3u8`: the token sits in the path,
so the player's relative segment addresses carry it too. nginx checks every request with the
backend (auth_request, its answer cached a few seconds): the token is signed, expires, and binds
one viewer to one show, so a viewer removed from the show stops playing within seconds. RTMP
playback (on_play) takes the same token as `?token=`.

Callbacks carry MEDIA_SERVER_CALLBACK_SECRET in their path and are taken only from
MEDIA_SERVER_ALLOWED_ADDRESSES.
"""

import hmac
import os
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.utils import timezone

from live.models import PublishKey, ShowStream
from live.video.base import (
    CallbackRefused,
    Playback,
    PublishCredentials,
    SignalKind,
    StreamSignal,
    VideoProvider,
    hash_stream_key,
)

APPLICATION = "live"  # the RTMP application: rtmp://host:port/live/<room>?key=<secret>
PLAYBACK_SALT = "live.video.nginx_rtmp.playback"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
CALLBACKS = ("on_publish", "on_publish_done", "on_play", "on_record_done")


class NginxRtmpProvider(VideoProvider):
    name = "nginx_rtmp"
    uses_stream_keys = True

    @property
    def expected_latency_ms(self) -> int:
        # Players start about three fragments from the live edge, plus the fragment being cut.
        return (3 * settings.MEDIA_SERVER_HLS_FRAGMENT_SECONDS + 1) * 1000

    def prepare_show(self, stream) -> str:
        return f"show-{stream.show_id}"

    def publish_credentials(self, stream, member, *, stream_key=None) -> PublishCredentials:
        return PublishCredentials(
            ingest_url=settings.MEDIA_SERVER_INGEST_URL,
            stream_key=f"{stream.provider_room_id}?key={stream_key}" if stream_key else None,
            expires_at=None,
        )

    def playback(self, stream, viewer) -> Playback:
        token = signing.TimestampSigner(salt=PLAYBACK_SALT).sign_object({"show": stream.show_id, "viewer": viewer.pk})
        base = settings.MEDIA_SERVER_PLAYBACK_URL.rstrip("/")
        return Playback(
            url=f"{base}/{token}/{stream.provider_room_id}/index.m3u8",
            token=token,
            expires_at=timezone.now() + settings.LIVE_PLAYBACK_TOKEN_LIFETIME,
            latency_ms=self.expected_latency_ms,
            protocol="hls",
        )

    def revoke(self, stream, member) -> None:
        sessions = PublishKey.objects.filter(show_id=stream.show_id, member_id=member.pk).exclude(publisher_session="")
        for session in sessions.values_list("publisher_session", flat=True):
            _control("drop/client", name=stream.provider_room_id, clientid=session)

    def end(self, stream) -> None:
        _control("drop/publisher", name=stream.provider_room_id)

    def verify_callback(self, request) -> list[StreamSignal]:
        check_origin(request)
        form, now = request.POST, timezone.now()
        call = form.get("call", "")
        if call == "publish":
            key = (
                PublishKey.objects.filter(
                    key_hash=hash_stream_key(form.get("key", "")),
                    revoked_at__isnull=True,
                    show__stream__provider_room_id=form.get("name", ""),
                )
                .values("show_id", "member_id")
                .first()
            )
            if key is None:
                raise CallbackRefused("unknown or revoked stream key, or not this show's")
            return [
                StreamSignal(
                    SignalKind.PUBLISH_STARTED, key["show_id"], now, key["member_id"], _session(form.get("clientid"))
                )
            ]
        if call == "publish_done":
            session = _session(form.get("clientid"))
            key = PublishKey.objects.filter(publisher_session=session).values("show_id", "member_id").first()
            if key is None:
                return []  # a publisher the backend refused, or one it already saw end
            return [StreamSignal(SignalKind.PUBLISH_ENDED, key["show_id"], now, key["member_id"], session)]
        if call == "record_done":
            stream = ShowStream.objects.filter(provider=self.name, provider_room_id=form.get("name", "")).first()
            if stream is None:
                return []
            return [StreamSignal(SignalKind.RECORDING_READY, stream.show_id, now, recording=form.get("path", ""))]
        raise CallbackRefused(f"unexpected call {call[:20]!r}")


def check_origin(request) -> None:
    """The callback comes from the configured media server: its secret, an allowed address."""
    secret = (request.resolver_match.kwargs.get("secret") if request.resolver_match else "") or ""
    if not hmac.compare_digest(secret.encode(), settings.MEDIA_SERVER_CALLBACK_SECRET.encode()):
        raise CallbackRefused("wrong callback secret")
    if request.META.get("REMOTE_ADDR") not in settings.MEDIA_SERVER_ALLOWED_ADDRESSES:
        raise CallbackRefused("callback from an address not allowed")


def playback_grant(token: str) -> tuple[int, int]:
    """The (show id, viewer id) a playback token was minted for, or CallbackRefused."""
    try:
        grant = signing.TimestampSigner(salt=PLAYBACK_SALT).unsign_object(
            token, max_age=settings.LIVE_PLAYBACK_TOKEN_LIFETIME
        )
        return int(grant["show"]), int(grant["viewer"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise CallbackRefused("bad or expired playback token") from None


def _session(clientid) -> str:
    return f"rtmp-{clientid}" if clientid else ""


def _control(action: str, **query) -> None:
    """nginx-rtmp's control API (bound to the server's own address in the config)."""
    query = {"app": APPLICATION, **query}
    if "clientid" in query:
        query["clientid"] = query["clientid"].removeprefix("rtmp-")
    url = f"http://127.0.0.1:{settings.MEDIA_SERVER_HTTP_PORT}/control/{action}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (our own server, a fixed http URL)
        pass


def installed() -> bool:
    return shutil.which("nginx") is not None and RTMP_MODULE.exists()


def config(directory: Path) -> str:
    """nginx.conf for a media server keeping its files under `directory`, in the foreground."""
    callback = f"{settings.MEDIA_SERVER_BACKEND_URL.rstrip('/')}/media-server/{settings.MEDIA_SERVER_CALLBACK_SECRET}"
    fragment = settings.MEDIA_SERVER_HLS_FRAGMENT_SECONDS
    playback_path = urllib.parse.urlparse(settings.MEDIA_SERVER_PLAYBACK_URL).path.rstrip("/") or "/hls"
    hls_request = rf"^{playback_path}/(?<playback_token>[^/]+)/(?<room>[\w-]+)/(?<file>[\w-]+\.(m3u8|ts))$"
    notify = "\n".join(f"            {name} {callback}/{name};" for name in CALLBACKS)
    return f"""# Written by `manage.py run_media_server`; edits are lost.
daemon off;
worker_processes 1;
{"user root;" if _is_root() else ""}
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
load_module {RTMP_MODULE};

events {{ worker_connections 4096; }}

rtmp {{
    server {{
        listen 127.0.0.1:{settings.MEDIA_SERVER_RTMP_PORT};
        chunk_size 4096;
        application {APPLICATION} {{
            live on;
            notify_method post;
{notify}
            drop_idle_publisher 10s;
            hls on;
            hls_path {directory}/hls;
            hls_nested on;
            hls_fragment {fragment}s;
            hls_playlist_length {4 * fragment}s;
            hls_cleanup on;
            record all;
            record_path {directory}/recordings;
            record_unique on;
        }}
    }}
}}

http {{
    access_log off;
    client_body_temp_path {directory}/tmp/body;
    proxy_temp_path {directory}/tmp/proxy;
    fastcgi_temp_path {directory}/tmp/fastcgi;
    uwsgi_temp_path {directory}/tmp/uwsgi;
    scgi_temp_path {directory}/tmp/scgi;
    proxy_cache_path {directory}/tmp/playback-grants keys_zone=playback_grants:1m max_size=16m inactive=1m;
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
    }}
    server {{
        listen 127.0.0.1:{settings.MEDIA_SERVER_HTTP_PORT};
        location ~ {hls_request} {{
            auth_request /_playback_grant;
            alias {directory}/hls/$room/$file;
            add_header Cache-Control no-cache;
            add_header Access-Control-Allow-Origin *;
        }}
        location = /_playback_grant {{
            internal;
            proxy_pass {callback}/playback_grant;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Playback-Token $playback_token;
            proxy_set_header X-Playback-Room $room;
            # One check per viewer's token every few seconds, not one per segment.
            proxy_cache playback_grants;
            proxy_cache_key "$playback_token $room";
            proxy_cache_valid 200 403 {max(2, fragment * 2)}s;
        }}
        location /control {{
            rtmp_control all;
            allow 127.0.0.1;
            deny all;
        }}
    }}
}}
"""


def prepare_directory(directory: Path) -> Path:
    for sub in ("hls", "recordings", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    path = directory / "nginx.conf"
    path.write_text(config(directory))
    return path


def _is_root() -> bool:
    return os.geteuid() == 0
