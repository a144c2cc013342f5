"""Production mode: the embedded defaults hardened so `manage.py check --deploy` is clean.

Run with DJANGO_SETTINGS_MODULE=config.settings_production and at least SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and MEDIA_S3_BUCKET in the environment.
"""

from django.core.exceptions import ImproperlyConfigured

from config.media import s3_storage
from config.settings import *  # noqa: F401,F403
from config.settings import DEBUG, GRAPHQL_INTROSPECTION, GRAPHQL_SUGGESTIONS, SECRET_KEY, STORAGES, env

if DEBUG or GRAPHQL_INTROSPECTION or GRAPHQL_SUGGESTIONS:
    raise ImproperlyConfigured("DEBUG, GraphQL introspection and suggestions must be off in production.")
if SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("Set SECRET_KEY in production.")

# Collected by `manage.py collectstatic`; names carry a content hash, so they are cached forever.
# Media in an S3-compatible bucket (django-storages), absolute URLs through MEDIA_CDN_URL (config/media.py).
STORAGES = {**STORAGES, "default": s3_storage(env),
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
