from django.contrib import admin
from django.urls import path

from accounts.views import download_data_export
from config import media
from config.graphql.views import GraphQLEndpoint
from marketplace.webhooks import stripe_webhook

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", GraphQLEndpoint.as_view(), name="graphql"),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("accounts/exports/<str:signed>/", download_data_export, name="data-export-download"),
]
# Local media (the embedded default storage) is served by the project, DEBUG or not (config/media.py).
urlpatterns += media.urlpatterns()
