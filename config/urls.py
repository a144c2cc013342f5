from django.contrib import admin
from django.urls import path

from accounts.views import download_data_export
from config import media
from config.graphql.views import GraphQLEndpoint
from live.replay_files import serve_replay
from live.video import views as video_views
from live.webhooks import provider_webhook
from marketplace.webhooks import stripe_webhook
from shipping.views import easypost_webhook

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", GraphQLEndpoint.as_view(), name="graphql"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("webhooks/easypost/", easypost_webhook, name="easypost-webhook"),
    path("accounts/exports/<str:signed>/", download_data_export, name="data-export-download"),
    path("live/replays/<str:signed>/", serve_replay, name="replay-file"),
    path("webhooks/livekit/", provider_webhook, {"provider_name": "livekit"}, name="livekit-webhook"),
    # The media server's callbacks; the secret in the path is checked by the view (live.video.views).
    path("media-server/<str:secret>/playback_grant", video_views.playback_grant, name="media-server-playback-grant"),
    path("media-server/<str:secret>/<str:call>", video_views.media_server_callback, name="media-server-callback"),
]
# Local media (the embedded default storage) is served by the project, DEBUG or not (config/media.py).
urlpatterns += media.urlpatterns()
