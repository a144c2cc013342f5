from datetime import timedelta

from django.utils import timezone

from accounts.models import AuthToken, User
from accounts.tokens import hash_token

_LAST_USED_RESOLUTION = timedelta(minutes=5)


def active_token(raw: str) -> AuthToken | None:
    """The live token for a raw bearer value, with its user; None if unknown, expired or revoked."""
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    token = (
        AuthToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is not None and (token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION):
        # Coarse on purpose: one write per token every few minutes, not one per request.
        AuthToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_from_header(header: str) -> str:
    scheme, _, raw = header.strip().partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def user_for_bearer_header(header: str) -> User | None:
    token = active_token(token_from_header(header))
    if token is None:
        return None
    token.user.auth_token = token
    return token.user
