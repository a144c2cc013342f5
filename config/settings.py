"""Settings read from the environment.

With nothing set, everything runs embedded (SQLite, in-memory channel layer, eager Celery,
local-memory cache) so `make run` and `make test` work on a fresh machine. `DATABASE_URL` and
`REDIS_URL` switch to the production runtime; `config.settings_production` adds the hardening.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
# Browser origins allowed to open a WebSocket; native apps send no Origin and are always allowed.
WEBSOCKET_ALLOWED_ORIGINS = env.list(
    "WEBSOCKET_ALLOWED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "config.staticfiles.ClosetlineStaticFilesConfig",
    "graphene_django",
    "channels",
    "accounts",
    "marketplace",
    "shipping",
    "cases",
    "reviews",
    "social",
    "discovery",
    "notifications",
    "sellers",
    "live",
    "earnings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the ASGI process itself (daphne serves none): collected files in production,
    # straight from the finders under DEBUG so `make run` needs no collectstatic.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let daphne's threads and Celery share the file safely.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"pool_class": "config.caching.ProcessConnectionPool"},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # The pub/sub layer fans a group message out once per server process, which suits
            # rooms of thousands of viewers.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/sub channels ignore Redis database numbers; the prefix keeps two deployments
            # (or test runs) on one Redis from hearing each other's groups.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env("CHANNEL_LAYER_PREFIX", default=f"closetline{urlparse(REDIS_URL).path}"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "config.transport.channel_layer.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {}

# Notifications (notifications/): fan-out, push limits and delivery, and their beat schedule.
# `console` logs pushes, `memory` keeps them (tests), `firebase` sends through FCM (firebase-admin)
# with the service-account key file NOTIFICATIONS_FIREBASE_CREDENTIALS (or application defaults).
NOTIFICATIONS_PUSH_BACKEND = env("NOTIFICATIONS_PUSH_BACKEND", default="console")
NOTIFICATIONS_FIREBASE_CREDENTIALS = env("NOTIFICATIONS_FIREBASE_CREDENTIALS", default="")
NOTIFICATIONS_CHUNK_SIZE = 1000  # recipients per fan-out task
NOTIFICATIONS_DEFAULT_DAILY_CAP = 8  # pushes a day when staff have marked no segment as default
NOTIFICATIONS_COALESCE_WINDOW = timedelta(minutes=env.int("NOTIFICATIONS_COALESCE_MINUTES", default=60))
NOTIFICATIONS_MAX_DEVICES_PER_USER = 10  # registering one more retires the least recently registered
# Outbox events and hand-offs unfinished this long after being enqueued are re-enqueued by the sweep.
NOTIFICATIONS_SWEEP_GRACE = timedelta(minutes=2)
NOTIFICATIONS_RELEASE_BATCHES_PER_RUN = 20  # held pushes released per beat run: 20 × chunk size
# Provider rate limits (429/503): retry with exponential backoff and full jitter, 5 s doubling to
# 10 min. Countdown tasks sit unacked in the broker, so the cap stays well under its visibility
# timeout (1 h) or Redis would hand them to a second worker.
NOTIFICATIONS_PUSH_MAX_RETRIES = 6
NOTIFICATIONS_PUSH_RETRY_BACKOFF = 5
NOTIFICATIONS_PUSH_RETRY_BACKOFF_MAX = 600
CELERY_BEAT_SCHEDULE["notifications-sweep-outbox"] = {"task": "notifications.tasks.sweep_outbox", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["notifications-release-held-pushes"] = {
    "task": "notifications.tasks.release_held_pushes",
    "schedule": 60.0,
}

# Live selling (live/): chat and moderation limits, auctions, the show event log and presence.
LIVE_MESSAGE_MAX_LENGTH = env.int("LIVE_MESSAGE_MAX_LENGTH", default=300)
LIVE_SLOW_MODE_MAX_SECONDS = 300
LIVE_MUTED_WORDS_MAX = 200
LIVE_MAX_COHOSTS = env.int("LIVE_MAX_COHOSTS", default=5)
LIVE_LINE_UP_MAX = env.int("LIVE_LINE_UP_MAX", default=200)
LIVE_RECENT_MESSAGES = 50  # chat lines in a snapshot
LIVE_AUCTION_MIN_SECONDS, LIVE_AUCTION_MAX_SECONDS = 5, 600
LIVE_AUCTION_SNIPE_SECONDS = env.int("LIVE_AUCTION_SNIPE_SECONDS", default=10)
# The sweep settles again an auction left settling this long (its settler crashed mid-way).
LIVE_AUCTION_SETTLE_GRACE = timedelta(minutes=1)
# Bid increments by price band: (below this price, add this much); the open band (None) is last.
LIVE_BID_INCREMENTS = [("30", "1"), ("50", "2"), ("100", "5"), ("300", "10"), ("1000", "20"), (None, "50")]
# What closes an auction when its timer ends: `celery` (a task with an eta, re-armed after a late
# bid; the beat sweep closes anything overdue, so a restart loses nothing), `in_process` (the
# embedded runtime: a timer on daphne's event loop, as eager Celery has no worker to hold an eta)
# or `off` (only the sweep; tests drive it with their own clock).
LIVE_AUCTION_TIMER = env("LIVE_AUCTION_TIMER", default="celery" if REDIS_URL else "in_process")
# A reconnecting viewer gets the events it missed while the log keeps them all, else a snapshot.
LIVE_REPLAY_MAX_EVENTS = env.int("LIVE_REPLAY_MAX_EVENTS", default=500)
LIVE_REPLAY_MAX_AGE = timedelta(minutes=env.int("LIVE_REPLAY_MAX_MINUTES", default=10))
# A snapshot of a room with no newer event is handed to new viewers for this long (live.events).
LIVE_SNAPSHOT_REUSE_SECONDS = env.float("LIVE_SNAPSHOT_REUSE_SECONDS", default=2.0)
LIVE_EVENT_RETENTION = timedelta(hours=1)  # the beat prune deletes older log rows
# Presence: each subscription refreshes its entry every HEARTBEAT s; one not refreshed for TTL s
# (a crashed process) stops counting. Viewer counts go out at most once per INTERVAL s per show.
LIVE_PRESENCE_HEARTBEAT = 20.0
LIVE_PRESENCE_TTL = 60.0
LIVE_VIEWER_COUNT_INTERVAL = 1.0
# A subscription that heard no event for this long reads the show's log for events the channel
# layer lost (pub/sub delivers at most once: a Redis restart drops what was in flight).
LIVE_LOG_CHECK_SECONDS = env.float("LIVE_LOG_CHECK_SECONDS", default=15.0)
# The host's video (live.video): the provider of new shows and the one a host can fail over to,
# by dotted path. Playback and publish tokens expire; a member's app asks again.
LIVE_VIDEO_PROVIDER = env("LIVE_VIDEO_PROVIDER", default="live.video.nginx_rtmp.NginxRtmpProvider")
LIVE_VIDEO_FAILOVER_PROVIDER = env("LIVE_VIDEO_FAILOVER_PROVIDER", default="")
LIVE_PLAYBACK_TOKEN_LIFETIME = timedelta(hours=env.int("LIVE_PLAYBACK_TOKEN_HOURS", default=6))
LIVE_PUBLISH_TOKEN_LIFETIME = timedelta(hours=env.int("LIVE_PUBLISH_TOKEN_HOURS", default=12))
# The self-hosted media server (nginx with its RTMP module, `manage.py run_media_server`): the
# addresses hosts and viewers use, the ports it listens on, where it calls the backend back (with
# MEDIA_SERVER_CALLBACK_SECRET in the URL, accepted only from MEDIA_SERVER_ALLOWED_ADDRESSES),
# and where it keeps its config, HLS fragments and recordings.
MEDIA_SERVER_RTMP_PORT = env.int("MEDIA_SERVER_RTMP_PORT", default=1935)
MEDIA_SERVER_HTTP_PORT = env.int("MEDIA_SERVER_HTTP_PORT", default=8088)
MEDIA_SERVER_INGEST_URL = env("MEDIA_SERVER_INGEST_URL", default=f"rtmp://127.0.0.1:{MEDIA_SERVER_RTMP_PORT}/live")
MEDIA_SERVER_PLAYBACK_URL = env("MEDIA_SERVER_PLAYBACK_URL", default=f"http://127.0.0.1:{MEDIA_SERVER_HTTP_PORT}/hls")
MEDIA_SERVER_BACKEND_URL = env("MEDIA_SERVER_BACKEND_URL", default="http://127.0.0.1:8000")
MEDIA_SERVER_CALLBACK_SECRET = env("MEDIA_SERVER_CALLBACK_SECRET", default="dev-only-media-server-secret")
MEDIA_SERVER_ALLOWED_ADDRESSES = env.list("MEDIA_SERVER_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])
MEDIA_SERVER_DIR = Path(env("MEDIA_SERVER_DIR", default=str(BASE_DIR / "var" / "media-server")))
MEDIA_SERVER_HLS_FRAGMENT_SECONDS = 1
# LiveKit, the real-time provider (live.video.livekit, LIVE_VIDEO_PROVIDER="live.video.livekit.LiveKitProvider"):
# its server URL (what apps connect to, and the API's base), the API key and secret that sign
# tokens and webhooks, and where its egress writes a show's recording.
LIVEKIT_URL = env("LIVEKIT_URL", default="http://127.0.0.1:7880")
LIVEKIT_API_KEY = env("LIVEKIT_API_KEY", default="devkey")
LIVEKIT_API_SECRET = env("LIVEKIT_API_SECRET", default="dev-only-livekit-secret-at-least-32-chars")
LIVEKIT_TIMEOUT_SECONDS = env.float("LIVEKIT_TIMEOUT_SECONDS", default=5.0)
LIVEKIT_EMPTY_ROOM_SECONDS = env.int("LIVEKIT_EMPTY_ROOM_SECONDS", default=600)
LIVEKIT_RECORDING_PREFIX = env("LIVEKIT_RECORDING_PREFIX", default="replays/")
# Replays (live.services.replays): ffmpeg remuxes a show's recordings into one MP4 in media
# storage; its signed playback links last LIVE_REPLAY_URL_LIFETIME; the log keeps what chapters
# are made of until a show has been over for LIVE_REPLAY_CHAPTERS_KEPT.
LIVE_FFMPEG = env("LIVE_FFMPEG", default="ffmpeg")
LIVE_FFPROBE = env("LIVE_FFPROBE", default="ffprobe")
LIVE_REPLAY_REMUX_TIMEOUT = env.int("LIVE_REPLAY_REMUX_TIMEOUT", default=900)
LIVE_REPLAY_URL_LIFETIME = timedelta(hours=env.int("LIVE_REPLAY_URL_HOURS", default=6))
LIVE_REPLAY_CHAPTERS_KEPT = timedelta(days=1)
CELERY_BEAT_SCHEDULE["live-close-due-auctions"] = {"task": "live.tasks.close_due_auctions", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["live-prune-show-events"] = {"task": "live.tasks.prune_show_events", "schedule": 600.0}
CELERY_BEAT_SCHEDULE["live-forget-recordings"] = {"task": "live.tasks.forget_recordings", "schedule": 3600.0}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_TOKEN_LIFETIME = timedelta(days=env.int("AUTH_TOKEN_LIFETIME_DAYS", default=30))
# Failed logins (accounts.login_limits): per account and address together, per address, and a
# slower per-account backoff once more than BACKOFF_ADDRESSES addresses failed within WINDOW s,
# which never holds an address the member logged in from in the last KNOWN_ADDRESS_DAYS.
LOGIN_RATE_LIMIT = env("LOGIN_RATE_LIMIT", default="10/m")
LOGIN_ADDRESS_RATE_LIMIT = env("LOGIN_ADDRESS_RATE_LIMIT", default="50/m")
LOGIN_ACCOUNT_BACKOFF_ADDRESSES = env.int("LOGIN_ACCOUNT_BACKOFF_ADDRESSES", default=3)
LOGIN_ACCOUNT_BACKOFF_WINDOW = env.int("LOGIN_ACCOUNT_BACKOFF_WINDOW", default=3600)
LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS = env.int("LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS", default=900)
LOGIN_KNOWN_ADDRESS_DAYS = env.int("LOGIN_KNOWN_ADDRESS_DAYS", default=30)
REGISTER_RATE_LIMIT = env("REGISTER_RATE_LIMIT", default="20/h")
MUTATION_RATE_LIMIT = env("MUTATION_RATE_LIMIT", default="300/m")
RATELIMIT_USE_CACHE = "default"

# Account mail and recovery (accounts/mail.py, recovery.py, lifecycle.py, exports.py). Mail goes
# through Django's email framework from a Celery task enqueued on commit: console here (`make run`
# prints it), locmem in tests, a provider through django-anymail or SMTP in production
# (config.settings_production, EMAIL_PROVIDER).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Closetline <no-reply@closetline.test>")
# Links in account mail open the app at this address with `?token=...` (the app calls verifyEmail,
# resetPassword or confirmEmailChange with it); the token is also printed in the mail.
ACCOUNTS_APP_URL = env("ACCOUNTS_APP_URL", default="http://127.0.0.1:8000/app")
# Data export downloads are served by the API itself at this base (signed links).
PUBLIC_API_URL = env("PUBLIC_API_URL", default="http://127.0.0.1:8000")
ACCOUNTS_VERIFY_EMAIL_LIFETIME = timedelta(hours=env.int("ACCOUNTS_VERIFY_EMAIL_HOURS", default=48))
ACCOUNTS_RESET_PASSWORD_LIFETIME = timedelta(minutes=env.int("ACCOUNTS_RESET_PASSWORD_MINUTES", default=60))
ACCOUNTS_CHANGE_EMAIL_LIFETIME = timedelta(hours=env.int("ACCOUNTS_CHANGE_EMAIL_HOURS", default=24))
ACCOUNTS_EXPORT_LIFETIME = timedelta(hours=env.int("ACCOUNTS_EXPORT_HOURS", default=72))
ACCOUNT_MAIL_RATE_LIMIT = env("ACCOUNT_MAIL_RATE_LIMIT", default="5/h")  # mails one address may be sent on request
CELERY_BEAT_SCHEDULE["accounts-purge-expired-exports"] = {
    "task": "accounts.tasks.purge_expired_exports",
    "schedule": 3600.0,
}

GRAPHENE = {
    "SCHEMA": "config.graphql.schema.schema",
    "SCHEMA_OUTPUT": "schema.graphql",
    "RELAY_CONNECTION_MAX_LIMIT": 100,
}
# Limits on GraphQL documents (OWASP GraphQL Cheat Sheet).
GRAPHQL_MAX_BODY_BYTES = env.int("GRAPHQL_MAX_BODY_BYTES", default=256 * 1024)
GRAPHQL_MAX_TOKENS = env.int("GRAPHQL_MAX_TOKENS", default=5000)
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=12)
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", default=30)
GRAPHQL_MAX_COST = env.int("GRAPHQL_MAX_COST", default=20_000)
GRAPHQL_MAX_BATCH = env.int("GRAPHQL_MAX_BATCH", default=10)
GRAPHQL_INTROSPECTION = env.bool("GRAPHQL_INTROSPECTION", default=DEBUG)
GRAPHQL_SUGGESTIONS = env.bool("GRAPHQL_SUGGESTIONS", default=DEBUG)
GRAPHQL_WS_INIT_TIMEOUT = env.float("GRAPHQL_WS_INIT_TIMEOUT", default=10.0)
GRAPHQL_WS_MAX_FRAME_BYTES = env.int("GRAPHQL_WS_MAX_FRAME_BYTES", default=64 * 1024)
GRAPHQL_WS_MAX_SUBSCRIPTIONS = env.int("GRAPHQL_WS_MAX_SUBSCRIPTIONS", default=50)
# Messages a client may send on one socket: RATE a second on average, BURST at once; past that the
# socket is closed with 4429, on which graphql-ws clients give up rather than reconnect in a loop.
GRAPHQL_WS_MESSAGE_RATE = env.float("GRAPHQL_WS_MESSAGE_RATE", default=20.0)
GRAPHQL_WS_MESSAGE_BURST = env.int("GRAPHQL_WS_MESSAGE_BURST", default=100)
# What may wait in a server process for a client that does not read (on top of the 64 KiB the
# transport buffers anyway) before its socket is dropped (config.asgi.GraphQLWebSocketProtocol).
GRAPHQL_WS_MAX_SEND_BUFFER_BYTES = env.int("GRAPHQL_WS_MAX_SEND_BUFFER_BYTES", default=1024 * 1024)

GRAPHQL_MAX_UPLOAD_BYTES = env.int("GRAPHQL_MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
# Bounds request.body and form fields (never file parts) for every view, admin included.
DATA_UPLOAD_MAX_MEMORY_SIZE = GRAPHQL_MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Marketplace and social (listings, images, discovery, likes, follows, shares, comments).
MARKETPLACE_CURRENCIES = env.list("MARKETPLACE_CURRENCIES", default=["USD", "CAD", "GBP", "EUR", "AUD"])
MARKETPLACE_DEFAULT_CURRENCY = env("MARKETPLACE_DEFAULT_CURRENCY", default="USD")
LISTING_MAX_IMAGES = env.int("LISTING_MAX_IMAGES", default=16)
LISTING_IMAGE_MAX_BYTES = env.int("LISTING_IMAGE_MAX_BYTES", default=12 * 1024 * 1024)
# Checked from the header, before any pixel is decoded: a decompression bomb never allocates.
LISTING_IMAGE_MAX_PIXELS = env.int("LISTING_IMAGE_MAX_PIXELS", default=50_000_000)
# Display sizes made off the request path by marketplace.tasks; name -> width in pixels.
LISTING_IMAGE_WIDTHS = {"small": 150, "medium": 640, "large": 1280}
SHARE_RATE_LIMIT = env("SHARE_RATE_LIMIT", default="10000/d")
COMMENT_MAX_MENTIONS = env.int("COMMENT_MAX_MENTIONS", default=10)

# Orders, offers, bundles and checkout (marketplace/): fees, windows, the payment provider, beat tasks.
# Staff set the label fee per currency in the admin (Shipping rates); this is the fee until they do.
SHIPPING_LABEL_FEE = Decimal(env("SHIPPING_LABEL_FEE", default="6.49"))
ORDER_BUYER_CANCEL_WINDOW = timedelta(hours=3)  # a buyer may take back a plain purchase this long
ORDER_UNSHIPPED_CANCEL_AFTER = timedelta(days=7)  # then either side may cancel an unshipped order
ORDER_ADD_ON_WINDOW = timedelta(hours=24)  # items bought meanwhile join the parcel, no second fee
ORDER_AUTO_ACCEPT_AFTER = timedelta(days=3)  # delivered orders the buyer did not accept
CASE_MAX_PHOTOS = env.int("CASE_MAX_PHOTOS", default=6)  # photos a buyer sends with a case
OFFER_LIFETIME = timedelta(hours=24)  # from the offer or its latest counter
OFFER_MIN_PERCENT = 40  # of the list price
# Dotted path of a marketplace.payments.PaymentProvider; the dev provider approves all but .13 amounts.
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", default="marketplace.payments.DevPaymentProvider")
# `check --deploy` refuses the dev provider unless a staging deployment says it means it.
PAYMENT_DEV_PROVIDER_ALLOWED = env.bool("PAYMENT_DEV_PROVIDER_ALLOWED", default=False)
# Stripe (PAYMENT_PROVIDER=marketplace.payments.StripePaymentProvider): the account's API keys, the
# signing secret of the /webhooks/stripe/ endpoint, and the API base (a local fake in tests only).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=20.0)  # seconds per call; the sweep finishes a lost one
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)  # the SDK's, same idempotency key
# Payments caught mid provider call and events never dispatched this long are retried by beat.
CHECKOUT_SWEEP_GRACE = timedelta(minutes=5)
CELERY_BEAT_SCHEDULE["marketplace-expire-offers"] = {"task": "marketplace.tasks.expire_offers", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["marketplace-auto-accept-orders"] = {
    "task": "marketplace.tasks.auto_accept_orders",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["marketplace-sweep-checkout"] = {"task": "marketplace.tasks.sweep_checkout", "schedule": 60.0}
# A hold at the provider no order came of (a client gone after a lost answer or a 3-D Secure
# challenge) is voided this long after it was made: long enough for the client's retry.
PAYMENT_ORPHANED_HOLD_AFTER = timedelta(hours=1)
CELERY_BEAT_SCHEDULE["marketplace-release-orphaned-holds"] = {
    "task": "marketplace.tasks.release_orphaned_holds",
    "schedule": 3600.0,
}

# Prepaid labels and tracking (shipping/): `dev` makes labels here (a PDF in media, a made-up
# tracking code, no network); `easypost` buys them through EasyPost's SDK, the cheapest rate of
# EASYPOST_CARRIER's EASYPOST_SERVICE, and takes its tracking webhook at /webhooks/easypost/.
SHIPPING_CARRIER = env("SHIPPING_CARRIER", default="dev")
EASYPOST_API_KEY = env("EASYPOST_API_KEY", default="")
EASYPOST_WEBHOOK_SECRET = env("EASYPOST_WEBHOOK_SECRET", default="")
EASYPOST_API_BASE = env("EASYPOST_API_BASE", default="https://api.easypost.com/v2")
EASYPOST_CARRIER = env("EASYPOST_CARRIER", default="USPS")
EASYPOST_SERVICE = env("EASYPOST_SERVICE", default="GroundAdvantage")
EASYPOST_TIMEOUT = env.int("EASYPOST_TIMEOUT", default=20)  # seconds per call
SHIPPING_PARCEL_MAX_WEIGHT_LB = 5  # the parcel a label covers when staff set no rate for the currency
# A label attempt holds its shipment this long (longer than its carrier calls, the SDK's retries of a
# read included); after a fault the next attempt waits 2, 4, 8... minutes, at most
# SHIPPING_LABEL_MAX_BACKOFF; beat retries those due.
SHIPPING_LABEL_LEASE = timedelta(minutes=3)
SHIPPING_LABEL_MAX_BACKOFF = timedelta(hours=1)
CELERY_BEAT_SCHEDULE["shipping-sweep-labels"] = {"task": "shipping.tasks.sweep_labels", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["cases-attach-return-labels"] = {
    "task": "cases.tasks.attach_missing_return_labels",
    "schedule": 300.0,
}

# Seller earnings and payouts (earnings/): commission and payout schedule are staff settings in the
# admin; payouts go through PAYOUT_PROVIDER (the dev provider, or earnings.payouts.StripeConnectProvider
# on the Stripe account above). Sellers finish their connected account at the provider, which sends them
# back to these pages of the app.
PAYOUT_PROVIDER = env("PAYOUT_PROVIDER", default="earnings.payouts.DevPayoutProvider")
PAYOUT_ONBOARDING_RETURN_URL = env("PAYOUT_ONBOARDING_RETURN_URL", default="http://localhost:8000/payouts/connected")
PAYOUT_ONBOARDING_REFRESH_URL = env("PAYOUT_ONBOARDING_REFRESH_URL", default="http://localhost:8000/payouts/connect")
CELERY_BEAT_SCHEDULE["earnings-pay-out-on-schedule"] = {
    "task": "earnings.tasks.pay_out_on_schedule",
    "schedule": crontab(hour=6, minute=0),
}
CELERY_BEAT_SCHEDULE["earnings-sweep-payouts"] = {"task": "earnings.tasks.sweep_payouts", "schedule": 60.0}

# Direct messages (social/) and seller tools (sellers/). The seller tools' figures (price-drop
# threshold and window, greeting periods) are staff's, in the admin (sellers.SellerToolSettings).
MESSAGE_RATE_LIMIT = env("MESSAGE_RATE_LIMIT", default="30/m")  # direct messages a member sends
# Automatic greetings are sent by a task counting down their delay; this sweep sends any whose task was lost.
CELERY_BEAT_SCHEDULE["sellers-send-due-greetings"] = {"task": "sellers.tasks.send_due_greetings", "schedule": 60.0}

# Community programs (sellers/): staff set each one in the admin or through staff GraphQL, every
# change audited. Beat nudges sellers with no sale (each at most once per the program's cadence),
# grants and revokes ambassador status, and closes mentoring groups after the first sale's grace.
CELERY_BEAT_SCHEDULE["sellers-send-first-sale-nudges"] = {
    "task": "sellers.tasks.send_first_sale_nudges",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["sellers-refresh-ambassadors"] = {
    "task": "sellers.tasks.refresh_ambassadors",
    "schedule": 6 * 3600.0,
}
CELERY_BEAT_SCHEDULE["sellers-close-mentoring-groups"] = {
    "task": "sellers.tasks.close_mentoring_groups",
    "schedule": 3600.0,
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))  # where collectstatic writes
# Browser packages installed from npm (package.json) are served from node_modules under
# static/vendor/: the repository holds no copies of them.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "config" / "static",
    ("vendor/graphiql", NODE_MODULES / "graphiql"),
    ("vendor/graphiql-plugin-explorer", NODE_MODULES / "@graphiql" / "plugin-explorer" / "dist"),
    ("vendor/graphql-ws", NODE_MODULES / "graphql-ws" / "umd"),
    ("vendor/react", NODE_MODULES / "react" / "umd"),
    ("vendor/react-dom", NODE_MODULES / "react-dom" / "umd"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),  # the admin's Program results charts
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Run in-process, every eager task would log a "succeeded" line: dozens during `make run`'s set-up.
    "loggers": {"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {},
}
