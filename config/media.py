"""Uploaded media (listing photos, avatars): where the files live and the URLs the API gives out.

- Embedded (`make run`, `make test`): Django's FileSystemStorage under MEDIA_ROOT, served by the
  project itself at MEDIA_URL (`urlpatterns` below), with or without DEBUG: daphne serves no
  files, and a photo must never 404 in a documented mode.
- Production (`config.settings_production`): an S3-compatible bucket through django-storages
  (`s3_storage`), configured by MEDIA_S3_* and the standard AWS credential environment. Its URLs
  are MEDIA_CDN_URL + the key when a CDN (or a public bucket URL) fronts it, else presigned URLs
  of the bucket itself.

Every image URL the API returns is absolute (`absolute_url`): the storage's own when it is
(S3, CDN), else the request's scheme and host in front of the local path.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
# Keys are random (and renditions are named after them), so a stored file never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


def s3_storage(env) -> dict:
    """STORAGES["default"] for production, from the environment."""
    bucket = env("MEDIA_S3_BUCKET", default="")
    if not bucket:
        raise ImproperlyConfigured("Set MEDIA_S3_BUCKET: production keeps media in an S3-compatible bucket.")
    options = {
        "bucket_name": bucket,
        "file_overwrite": False,
        "default_acl": None,  # the bucket's policy decides who reads
        "signature_version": "s3v4",  # presigned URLs in the current scheme (SigV2 is retired)
        "object_parameters": {"CacheControl": IMMUTABLE},
    }
    for option, name in (
        ("endpoint_url", "MEDIA_S3_ENDPOINT_URL"),
        ("region_name", "MEDIA_S3_REGION"),
        ("addressing_style", "MEDIA_S3_ADDRESSING_STYLE"),
    ):
        if value := env(name, default=""):
            options[option] = value
    cdn = env("MEDIA_CDN_URL", default="").rstrip("/")
    if cdn:
        parts = urlsplit(cdn)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ImproperlyConfigured(
                "MEDIA_CDN_URL must be an absolute http(s) base URL, e.g. https://cdn.example.com"
            )
        options.update(custom_domain=parts.netloc + parts.path, url_protocol=f"{parts.scheme}:", querystring_auth=False)
    else:
        options.update(
            querystring_auth=True, querystring_expire=env.int("MEDIA_S3_URL_EXPIRE_SECONDS", default=24 * 3600)
        )
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


def absolute_url(context, name: str) -> str:
    """The public URL of a stored file, absolute: as the storage gives it, or under the host the
    client reached (an HTTP request, or a WebSocket's scope)."""
    from django.core.files.storage import default_storage

    url = default_storage.url(name)
    if urlsplit(url).scheme:
        return url
    build = getattr(context, "build_absolute_uri", None)
    return build(url) if build is not None else url


def absolute_uri_for_scope(scope: dict, location: str) -> str:
    """`request.build_absolute_uri` for a WebSocket: its Host (if allowed) and scheme, the
    TLS proxy's X-Forwarded-Proto trusted as for HTTP (SECURE_PROXY_SSL_HEADER)."""
    from django.conf import settings
    from django.http.request import split_domain_port, validate_host

    headers = {key.decode("latin1").lower(): value.decode("latin1") for key, value in scope.get("headers", [])}
    host = headers.get("host", "")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return location
    secure = scope.get("scheme") in ("wss", "https")
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        forwarded = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower(), "")
        secure = forwarded.split(",")[0].strip() == value
    return f"{'https' if secure else 'http'}://{host}{location}"


def serve_local(request, path):
    """A file of MEDIA_ROOT (the embedded default storage), read where settings say at the time;
    a path leading out of it is simply not found."""
    from django.conf import settings
    from django.core.exceptions import SuspiciousFileOperation
    from django.http import Http404
    from django.views.static import serve

    try:
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    except SuspiciousFileOperation:
        raise Http404(path) from None


def urlpatterns() -> list:
    """The route serving local media under MEDIA_URL, when the default storage is local files."""
    from django.conf import settings
    from django.urls import re_path

    if settings.STORAGES["default"]["BACKEND"] != "django.core.files.storage.FileSystemStorage":
        return []
    prefix = urlsplit(settings.MEDIA_URL).path.strip("/")
    return [re_path(rf"^{prefix}/(?P<path>.+)$", serve_local, name="media")]
