"""Webhooks of the real-time video providers (LiveKit): verified by the provider's signature,
then applied to the show's stream. A request that is not signed, or signed with another secret,
is refused with 401 before anything is read from it; a signed event the show does not take (a
publisher who does not run it, a show that is over or gone) is acknowledged and logged, so the
provider does not retry it. Logs name the reason, never a token."""

import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from live import services
from live.models import Show
from live.video.base import CallbackRefused, provider_named

logger = logging.getLogger("closetline.live")


@csrf_exempt
@require_POST
def provider_webhook(request, provider_name: str):
    try:
        provider = provider_named(provider_name)
    except LookupError:
        return HttpResponse(status=404)  # a provider this deployment does not use
    try:
        signals = provider.verify_callback(request)
    except CallbackRefused as refused:
        logger.warning("Video webhook refused (%s): %s", provider_name, refused.reason)
        return HttpResponse(status=401)
    for signal in signals:
        try:
            services.apply_signal(signal)
        except (CallbackRefused, Show.DoesNotExist) as ignored:
            logger.info("Video webhook for show %s not applied (%s): %s", signal.show_id, provider_name, ignored)
    return HttpResponse(status=200)
