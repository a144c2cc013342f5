"""Carriers' webhooks: signed tracking updates, each verified before anything is read."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shipping import services
from shipping.carriers import easypost


@csrf_exempt
@require_POST
def easypost_webhook(request):
    """EasyPost's tracker events: 400 when not signed with EASYPOST_WEBHOOK_SECRET (nothing read);
    200 otherwise, an event for a tracker we never bought or of anything else ignored."""
    try:
        update = easypost.parse_webhook(request.body, request.headers)
    except easypost.WebhookRefused:
        return HttpResponseBadRequest("invalid signature")
    if update is not None:
        services.record_tracking(carrier_name=easypost.EasyPostCarrier.name, update=update)
    return HttpResponse(status=200)
