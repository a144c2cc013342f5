from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """Reject WebSockets from foreign browser pages; accept native apps, which send no Origin.

    Channels' stock validator refuses a missing Origin unless every origin is allowed.
    """

    def __init__(self, application):
        super().__init__(application, settings.WEBSOCKET_ALLOWED_ORIGINS)

    def valid_origin(self, parsed_origin):
        return parsed_origin is None or super().valid_origin(parsed_origin)
