"""The media server's calls to the backend (live.video.nginx_rtmp): its callbacks about
publishers, players and recordings, and the playback check of every HLS request.

Anything refused answers 403 and changes nothing; the log says why and from where, never the
key or token it was given."""

import logging

from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from live import selectors, services
from live.video import nginx_rtmp
from live.video.base import CallbackRefused, provider_named

logger = logging.getLogger("closetline.live")


@csrf_exempt
@require_POST
def media_server_callback(request, secret: str, call: str):
    provider = _provider()
    try:
        if call == "on_play":
            nginx_rtmp.check_origin(request)
            _require_grant(request.POST.get("token", ""), request.POST.get("name", ""))
            return HttpResponse()
        if call not in nginx_rtmp.CALLBACKS:
            raise Http404
        signals = provider.verify_callback(request)
        for signal in signals:
            services.apply_signal(signal)
    except CallbackRefused as refused:
        return _refuse(request, call, refused)
    return HttpResponse()


@require_GET
def playback_grant(request, secret: str):
    """nginx's auth_request for each HLS request (answers cached a few seconds)."""
    _provider()
    try:
        nginx_rtmp.check_origin(request)
        _require_grant(request.headers.get("X-Playback-Token", ""), request.headers.get("X-Playback-Room", ""))
    except CallbackRefused as refused:
        return _refuse(request, "playback_grant", refused)
    return HttpResponse()


def _provider():
    try:
        return provider_named(nginx_rtmp.NginxRtmpProvider.name)
    except LookupError:
        raise Http404 from None  # the media server is not one of the configured providers


def _require_grant(token: str, room_id: str) -> None:
    show_id, viewer_id = nginx_rtmp.playback_grant(token)
    if not selectors.may_play(show_id, viewer_id, room_id):
        raise CallbackRefused("the viewer may no longer play this show")


def _refuse(request, call: str, refused: CallbackRefused) -> HttpResponseForbidden:
    logger.warning(
        "Media server %s refused: %s (from %s, client %s)",
        call,
        refused.reason,
        request.META.get("REMOTE_ADDR"),
        request.POST.get("clientid", "-") if request.method == "POST" else "-",
    )
    return HttpResponseForbidden()
