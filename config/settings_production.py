"""Production mode: the embedded defaults hardened so `manage.py check --deploy` is clean.

Run with DJANGO_SETTINGS_MODULE=config.settings_production and at least SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and MEDIA_S3_BUCKET in the environment.
"""

from django.core.exceptions import ImproperlyConfigured

from config.media import s3_storage
from config.settings import *  # noqa: F401,F403
from config.settings import (
    DEBUG,
    GRAPHQL_INTROSPECTION,
    GRAPHQL_SUGGESTIONS,
    LIVE_VIDEO_FAILOVER_PROVIDER,
    LIVE_VIDEO_PROVIDER,
    LIVEKIT_API_SECRET,
    MEDIA_SERVER_CALLBACK_SECRET,
    SECRET_KEY,
    STORAGES,
    env,
)

if DEBUG or GRAPHQL_INTROSPECTION or GRAPHQL_SUGGESTIONS:
    raise ImproperlyConfigured("DEBUG, GraphQL introspection and suggestions must be off in production.")
if SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("Set SECRET_KEY in production.")
# LiveKit signs its webhooks and our tokens with LIVEKIT_API_SECRET: never the development one.
if "livekit" in f"{LIVE_VIDEO_PROVIDER} {LIVE_VIDEO_FAILOVER_PROVIDER}" and LIVEKIT_API_SECRET.startswith("dev-only"):
    raise ImproperlyConfigured("Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET to use LiveKit in production.")
# The media server proves its callbacks with MEDIA_SERVER_CALLBACK_SECRET: the development one is in
# this repository, so anyone at an allowed address could start, stop or forge a stream with it.
if "nginx_rtmp" in f"{LIVE_VIDEO_PROVIDER} {LIVE_VIDEO_FAILOVER_PROVIDER}" and MEDIA_SERVER_CALLBACK_SECRET.startswith(
    "dev-only"
):
    raise ImproperlyConfigured("Set MEDIA_SERVER_CALLBACK_SECRET to run the media server in production.")

# Account mail goes through a provider a member's inbox trusts: Postmark through django-anymail
# (EMAIL_PROVIDER=postmark, POSTMARK_SERVER_TOKEN), or an SMTP relay the operator names
# (EMAIL_PROVIDER=smtp with EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER/PASSWORD, EMAIL_USE_TLS).
# The console backend of development never reaches a member.
EMAIL_PROVIDER = env("EMAIL_PROVIDER", default="")
if EMAIL_PROVIDER == "postmark":
    EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    ANYMAIL = {"POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN")}
    if env("POSTMARK_API_URL", default=""):
        ANYMAIL["POSTMARK_API_URL"] = env("POSTMARK_API_URL")
elif EMAIL_PROVIDER == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    raise ImproperlyConfigured("Set EMAIL_PROVIDER to postmark (with POSTMARK_SERVER_TOKEN) or smtp (with EMAIL_HOST).")
if env("DEFAULT_FROM_EMAIL", default="").endswith("closetline.test>") or not env("DEFAULT_FROM_EMAIL", default=""):
    raise ImproperlyConfigured("Set DEFAULT_FROM_EMAIL to an address of your domain in production.")

# Collected by `manage.py collectstatic`; names carry a content hash, so they are cached forever.
# Media in an S3-compatible bucket (django-storages), absolute URLs through MEDIA_CDN_URL (config/media.py).
STORAGES = {
    **STORAGES,
    "default": s3_storage(env),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
