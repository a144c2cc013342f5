"""Payment providers' webhook endpoints: a body the provider did not sign is refused (400) with
nothing changed; a signed one is applied once (marketplace.services.apply_provider_event)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace import payments, services
from marketplace.payments.stripe import PROVIDER as STRIPE


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = payments.provider(STRIPE).parse_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except payments.InvalidEvent:
        return HttpResponse("Invalid signature.", status=400, content_type="text/plain")
    services.apply_provider_event(provider=STRIPE, event=event)
    return HttpResponse(status=200)
