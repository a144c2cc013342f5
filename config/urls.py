from django.contrib import admin
from django.urls import path

from accounts.views import download_data_export
from config import media
from config.graphql.views import GraphQLEndpoint
from shipping.views import easypost_webhook

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", GraphQLEndpoint.as_view(), name="graphql"),
    path("webhooks/easypost/", easypost_webhook, name="easypost-webhook"),
    path("accounts/exports/<str:signed>/", download_data_export, name="data-export-download"),
]
# Local media (the embedded default storage) is served by the project, DEBUG or not (config/media.py).
urlpatterns += media.urlpatterns()
