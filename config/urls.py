from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import path

from accounts.views import download_data_export
from config.graphql.views import GraphQLEndpoint

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", GraphQLEndpoint.as_view(), name="graphql"),
    path("accounts/exports/<str:signed>/", download_data_export, name="data-export-download"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
