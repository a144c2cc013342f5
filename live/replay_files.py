"""A replay's MP4 for a player: a signed link that expires (LIVE_REPLAY_URL_LIFETIME), given
only to whoever may watch the show (live.selectors.replay_cards), and the view behind it.

The link names the replay and the member it was made for; a stranger's copy works until it
expires, like any signed media link. Local media (the embedded storage) is served here with
byte ranges, which video players need to seek and which iOS requires; storage with URLs of its
own (S3 presigned, a CDN) is redirected to.
"""

import re
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from live.models import Replay

_SALT = "live.replay-file"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 256 * 1024


def playback_url(replay: Replay, viewer) -> tuple[str, datetime]:
    """The link `viewer` plays the replay with, and when it stops working."""
    signed = signing.dumps({"replay": replay.pk, "viewer": viewer.pk if viewer else None}, salt=_SALT)
    expires_at = timezone.now() + settings.LIVE_REPLAY_URL_LIFETIME
    return settings.PUBLIC_API_URL.rstrip("/") + reverse("replay-file", args=[signed]), expires_at


def open_link(signed: str) -> Replay | None:
    try:
        claims = signing.loads(signed, salt=_SALT, max_age=settings.LIVE_REPLAY_URL_LIFETIME)
    except signing.BadSignature:
        return None
    return Replay.objects.filter(pk=claims.get("replay"), ready=True).exclude(file="").first()


@require_safe
def serve_replay(request, signed: str):
    replay = open_link(signed)
    if replay is None:
        raise Http404("No such replay.")
    url = default_storage.url(replay.file)
    if urlsplit(url).scheme:
        return HttpResponseRedirect(url)
    size = default_storage.size(replay.file)
    wanted = _byte_range(request.headers.get("Range", ""), size)
    if wanted is None:
        response = FileResponse(default_storage.open(replay.file, "rb"), content_type="video/mp4")
    elif wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted
        response = StreamingHttpResponse(_read(replay.file, start, end), status=206, content_type="video/mp4")
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _byte_range(header: str, size: int):
    """(start, end) of a single `bytes=` range, None for the whole file (no or another kind of
    Range, several ranges), False when it lies outside the file."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), (min(int(last), size - 1) if last else size - 1)
    else:  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    return (start, end) if start <= end and start < size else False


def _read(name: str, start: int, end: int):
    with default_storage.open(name, "rb") as file:
        file.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = file.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
